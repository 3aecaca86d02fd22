"""SQLAlchemy Core statements compiled once, to run on the bare asyncpg driver.

The hottest statements of a turn are written once, as SQLAlchemy Core constructs, and
run through :meth:`conversations.database.Database.run_on_driver` on PostgreSQL, where
SQLAlchemy's cost per execution (compiling and keying the statement, processing
parameters and rows, the greenlet hop) is several times the driver's. The construct stays
the single source of the SQL; only its execution changes.

The driver connections come from SQLAlchemy's pool, which registers codecs on them: JSON
values are read back as Python objects, and written from their text, which
:meth:`DriverStatement.arguments` produces for JSON parameters.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import asyncpg
import orjson
from sqlalchemy import JSON
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.sql.expression import Executable

_DIALECT = asyncpg_dialect()  # type: ignore[no-untyped-call]


class DriverStatement:
    """One statement's SQL for asyncpg and the order of its parameters.

    Args:
        statement: A Core statement whose parameters are plain (no expanding ``IN`` lists).

    """

    def __init__(self, statement: Executable) -> None:
        compiled = statement.compile(dialect=_DIALECT)  # type: ignore[attr-defined]
        self.sql: str = str(compiled)
        self._names: tuple[str, ...] = tuple(compiled.positiontup or ())
        binds = compiled.binds
        # Values the statement carries itself (literals, type-coerced constants).
        self._fixed: dict[str, Any] = {
            name: binds[name].effective_value for name in self._names if not binds[name].required
        }
        self._json = frozenset(name for name in self._names if isinstance(binds[name].type, JSON))
        if any(binds[name].expanding for name in self._names):
            raise ValueError("expanding parameters cannot be compiled once")

    def arguments(self, params: Mapping[str, Any]) -> list[Any]:
        """The positional arguments for ``params`` (by bind name), JSON values as text."""
        values = {**self._fixed, **params}
        return [
            orjson.dumps(values[name]).decode()
            if name in self._json and values[name] is not None
            else values[name]
            for name in self._names
        ]

    async def fetch(self, driver: asyncpg.Connection, params: Mapping[str, Any]) -> Sequence[asyncpg.Record]:
        """Run the statement and return its rows."""
        rows: Sequence[asyncpg.Record] = await driver.fetch(self.sql, *self.arguments(params))
        return rows

    async def fetchrow(self, driver: asyncpg.Connection, params: Mapping[str, Any]) -> asyncpg.Record | None:
        """Run the statement and return its first row, if any."""
        return await driver.fetchrow(self.sql, *self.arguments(params))

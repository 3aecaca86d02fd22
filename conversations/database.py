"""Connections to the store: SQLite (embedded default) or PostgreSQL (production).

:class:`Database` owns the engine and hands out sessions. SQLite allows one writer at a
time, so in-process write transactions take a lock instead of failing with
``database is locked``; PostgreSQL runs them concurrently.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from conversations.errors import StoreUnavailable


class Database:
    """An async engine, a session factory and the write discipline the backend needs.

    Args:
        url: SQLAlchemy URL, e.g. ``sqlite+aiosqlite:///var/helpline.db`` or
            ``postgresql+asyncpg://postgres@127.0.0.1:5432/helpline``.
        pool_size: Connections kept open (PostgreSQL).
        echo: Log every statement.
    """

    def __init__(self, url: str, *, pool_size: int = 10, echo: bool = False) -> None:
        parsed = make_url(url)
        self.url = url
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        kwargs: dict[str, Any] = {"echo": echo}
        if self.is_sqlite:
            database = parsed.database or ""
            if database and database != ":memory:":
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            kwargs["connect_args"] = {"timeout": 30}
        else:
            kwargs.update(pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._write_lock: asyncio.Lock | None = asyncio.Lock() if self.is_sqlite else None

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """Open a session in a transaction, committed on success, rolled back on error.

        Raises:
            StoreUnavailable: The database cannot be reached.
        """
        lock = self._write_lock if self._write_lock is not None else contextlib.nullcontext()
        async with lock:
            try:
                async with self.sessions() as session, session.begin():
                    yield session
            except (OSError, ConnectionError) as exc:
                raise StoreUnavailable(f"the database at {self.safe_url} is unreachable: {exc}") from exc

    @contextlib.asynccontextmanager
    async def reader(self) -> AsyncIterator[AsyncSession]:
        """Open a session for reads only (no write lock; SQLite readers run beside the writer in WAL)."""
        async with self.sessions() as session:
            yield session

    @property
    def safe_url(self) -> str:
        """The URL with any password hidden, for messages and logs."""
        return make_url(self.url).render_as_string(hide_password=True)

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the web chat's readers run beside the single writer; NORMAL sync is
    # durable across process crashes (the SIGKILL case), which is what we promise.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()

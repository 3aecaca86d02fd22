"""Leasing due rows of a work table (the outbox, jobs) in one statement.

A claim moves the chosen rows to a working status with ``claimed_until`` set and their
attempt counted, and returns them. On PostgreSQL the rows are chosen ``FOR UPDATE SKIP
LOCKED``, so concurrent claimers in any process never take the same row and never wait
for each other; SQLite has one writer at a time.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, Integer, Table, Update, and_, bindparam, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

Claimer = AsyncSession | AsyncConnection
"""Where a claim runs: a session's transaction, or a connection of ``Database.single_writes``."""


def dialect_of(claimer: Claimer) -> str:
    """The database's dialect name (``postgresql``, ``sqlite``)."""
    if isinstance(claimer, AsyncSession):
        return claimer.get_bind().dialect.name
    return claimer.dialect.name


def claim_statement(
    table: Table,
    *,
    due_at: ColumnElement[object],
    statuses: tuple[str, str],
    where: Sequence[ColumnElement[bool]],
    order_by: Sequence[ColumnElement[object]],
    returning: Sequence[ColumnElement[object]],
    dialect: str,
) -> Update:
    """Lease the rows that are due, in order, up to the ``limit`` parameter, until ``until``.

    A row is due when it is pending and its ``due_at`` has come by ``now``, or when it is
    working under a lease that expired by ``now``.

    Args:
        table: The work table (``id``, ``status``, ``attempts`` and ``claimed_until`` columns).
        due_at: The column saying when a pending row is due.
        statuses: The pending status and the working status claimed rows move to.
        where: Further conditions on the rows to take.
        order_by: The order they are taken in.
        returning: The columns the claim returns.
        dialect: ``postgresql`` or ``sqlite``.

    Returns:
        An UPDATE to build once and execute with ``now``, ``until``, ``limit`` and the
        parameters of ``where``.

    """
    pending, working = statuses
    now = bindparam("now", type_=due_at.type)
    due = (
        select(table.c.id)
        .where(
            *where,
            or_(
                and_(table.c.status == pending, due_at <= now),
                and_(table.c.status == working, table.c.claimed_until < now),
            ),
        )
        .order_by(*order_by)
        .limit(bindparam("limit", type_=Integer))
    )
    if dialect == "postgresql":
        due = due.with_for_update(skip_locked=True)
    return (
        update(table)
        .where(table.c.id.in_(due.scalar_subquery()))
        .values(
            status=working,
            attempts=table.c.attempts + 1,
            claimed_until=bindparam("until", type_=table.c.claimed_until.type),
        )
        .returning(*returning)
    )

"""Leasing due rows of a work table (the outbox, jobs) in one statement.

A claim moves the chosen rows to a working status with ``claimed_until`` set and their
attempt counted, and returns them. On PostgreSQL the rows are chosen ``FOR UPDATE SKIP
LOCKED``, so concurrent claimers in any process never take the same row and never wait
for each other; SQLite has one writer at a time.
"""

from __future__ import annotations

from sqlalchemy import BindParameter, ColumnElement, Select, Table, Update, and_, bindparam, or_, update


def claimable(
    table: Table, due: ColumnElement[object], pending: str, working: str, now: BindParameter[object]
) -> ColumnElement[bool]:
    """Rows that are ``pending`` and due by ``now``, or ``working`` under a lease that expired."""
    return or_(
        and_(table.c.status == pending, due <= now),
        and_(table.c.status == working, table.c.claimed_until < now),
    )


def claim_statement(
    table: Table,
    due: Select[tuple[int]],
    dialect: str,
    status: str,
    returning: tuple[ColumnElement[object], ...],
) -> Update:
    """Lease the rows whose ids ``due`` selects until the ``until`` parameter.

    Args:
        table: The work table (``id``, ``status``, ``attempts`` and ``claimed_until`` columns).
        due: The ids to take, ordered and limited.
        dialect: ``postgresql`` or ``sqlite``.
        status: The status claimed rows move to.
        returning: The columns the claim returns.

    Returns:
        An UPDATE to build once and execute with ``until`` and ``due``'s own parameters.

    """
    if dialect == "postgresql":
        due = due.with_for_update(skip_locked=True)
    return (
        update(table)
        .where(table.c.id.in_(due.scalar_subquery()))
        .values(
            status=status,
            attempts=table.c.attempts + 1,
            claimed_until=bindparam("until", type_=table.c.claimed_until.type),
        )
        .returning(*returning)
    )

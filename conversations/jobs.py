"""Job queries: enqueue durable work, claim what is due with a lease, record the outcome.

A job is inserted in the same transaction as what caused it (a turn that asked for a
ticket, a ticket solved that owes a survey), so it can never be lost; claiming works like
the outbox (``FOR UPDATE SKIP LOCKED`` on PostgreSQL), so several workers never run the
same job, and a worker that dies leaves its lease to expire.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Update, bindparam, update
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession

from conversations.claims import Claimer, claim_statement, dialect_of
from conversations.repository import insert_ignoring_conflicts
from conversations.tables import Job, table_of

PENDING = "pending"
RUNNING = "running"
DONE = "done"
FAILED = "failed"
CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class NewJob:
    """Work to do later.

    Attributes:
        kind: Which handler runs it (``"open_ticket"``, ``"survey"``...).
        payload: JSON-compatible arguments for the handler.
        due_at: When it may run.
        conversation_id: The conversation it concerns, if any.
        ticket_id: The ticket it concerns, if any.
        dedupe_key: A second job with the same key is not inserted ("one survey per ticket").

    """

    kind: str
    payload: Mapping[str, Any]
    due_at: datetime
    conversation_id: int | None = None
    ticket_id: int | None = None
    dedupe_key: str | None = None


@dataclass(frozen=True, slots=True)
class ClaimedJob:
    """A leased job."""

    id: int
    kind: str
    payload: Mapping[str, Any]
    conversation_id: int | None
    ticket_id: int | None
    attempts: int
    due_at: datetime


def _row(job: NewJob, now: datetime) -> dict[str, Any]:
    return {
        "kind": job.kind,
        "payload": dict(job.payload),
        "due_at": job.due_at,
        "conversation_id": job.conversation_id,
        "ticket_id": job.ticket_id,
        "dedupe_key": job.dedupe_key,
        "status": PENDING,
        "attempts": 0,
        "created_at": now,
    }


async def enqueue(session: AsyncSession, jobs: Sequence[NewJob], now: datetime) -> None:
    """Insert jobs in the caller's transaction; duplicates of a ``dedupe_key`` are skipped."""
    if not jobs:
        return
    dialect = session.get_bind().dialect.name
    await session.execute(insert_ignoring_conflicts(dialect, Job), [_row(job, now) for job in jobs])


def enqueue_sync(connection: Connection, jobs: Sequence[NewJob], now: datetime) -> None:
    """:func:`enqueue` for the synchronous turn writer."""
    if not jobs:
        return
    insert = insert_ignoring_conflicts(connection.dialect.name, Job)
    connection.execute(insert, [_row(job, now) for job in jobs])


async def claim(
    claimer: Claimer, kinds: Sequence[str], now: datetime, lease: timedelta, limit: int
) -> list[ClaimedJob]:
    """Lease up to ``limit`` due jobs of the given kinds, oldest due first.

    The lease is one statement: ``claimer`` may be a transaction's session or a connection
    of ``Database.single_writes``.
    """
    if not kinds:
        return []
    rows = await claimer.execute(
        _claim_statement(dialect_of(claimer)),
        {"kinds": list(kinds), "now": now, "until": now + lease, "limit": limit},
    )
    claimed = [
        ClaimedJob(r.id, r.kind, r.payload or {}, r.conversation_id, r.ticket_id, r.attempts, r.due_at)
        for r in rows
    ]
    return sorted(claimed, key=lambda job: (job.due_at, job.id))


@functools.cache
def _claim_statement(dialect: str) -> Update:
    # Built once: constructing and keying it cost more than running it, every round.
    jobs = table_of(Job)
    return claim_statement(
        jobs,
        due_at=jobs.c.due_at,
        statuses=(PENDING, RUNNING),
        where=(jobs.c.kind.in_(bindparam("kinds", expanding=True)),),
        order_by=(jobs.c.due_at, jobs.c.id),
        returning=(
            jobs.c.id,
            jobs.c.kind,
            jobs.c.payload,
            jobs.c.conversation_id,
            jobs.c.ticket_id,
            jobs.c.attempts,
            jobs.c.due_at,
        ),
        dialect=dialect,
    )


async def complete(session: AsyncSession, job_id: int, now: datetime) -> None:
    """Mark a job done, in the transaction that did its work (so it is done exactly once)."""
    await session.execute(
        update(table_of(Job))
        .where(table_of(Job).c.id == job_id)
        .values(status=DONE, done_at=now, claimed_until=None, last_error=None)
    )


async def retry(session: AsyncSession, job_id: int, at: datetime, error: str) -> None:
    """Put a job back for another attempt at ``at``."""
    await session.execute(
        update(Job)
        .where(Job.id == job_id)
        .values(status=PENDING, due_at=at, claimed_until=None, last_error=error[:2000])
    )


async def fail(session: AsyncSession, job_id: int, error: str) -> None:
    """Give up on a job; it stays for the operators to see."""
    await session.execute(
        update(Job).where(Job.id == job_id).values(status=FAILED, claimed_until=None, last_error=error[:2000])
    )


async def cancel(session: AsyncSession, *, ticket_id: int, kinds: Sequence[str]) -> None:
    """Cancel a ticket's pending jobs of these kinds (a survey made pointless by a reopen)."""
    await session.execute(
        update(Job)
        .where(Job.ticket_id == ticket_id, Job.kind.in_(kinds), Job.status == PENDING)
        .values(status=CANCELLED)
    )

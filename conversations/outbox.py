"""Outbox queries: claim due deliveries, record their outcome, report the backlog.

A claim is a lease: rows move to ``sending`` with ``claimed_until`` set, in one statement,
so two dispatchers never take the same row (PostgreSQL: ``FOR UPDATE SKIP LOCKED``). A
dispatcher that dies leaves its lease to expire and the row is claimed again. Only the
oldest undelivered message of a conversation is claimable, so replies arrive in order.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Update, bindparam, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from conversations.claims import Claimer, claim_statement, dialect_of
from conversations.tables import Conversation, Message, OutboxEntry, Ticket, table_of

if TYPE_CHECKING:
    from conversations.database import Database

PENDING = "pending"
SENDING = "sending"
SENT = "sent"
FAILED = "failed"
# A channel refused to publish without a person's approval (X public replies); the mention
# queue approves (back to pending, reviewed_by set) or discards it.
HELD = "held"
DISCARDED = "discarded"


@dataclass(frozen=True, slots=True)
class ClaimedDelivery:
    """A claimed outbox row with what the channel needs to send it."""

    outbox_id: int
    attempts: int
    message_id: int
    conversation_id: int
    channel: str
    thread_key: str
    surface: str
    text: str
    buttons: tuple[tuple[str, str], ...]
    author: str
    reply_to_external_id: str | None
    topic: str | None = None
    ticket_number: int | None = None
    ticket_subject: str | None = None
    approved: bool = False


@dataclass(frozen=True, slots=True)
class DeliveryOutcome:
    """The result of one send attempt."""

    outbox_id: int
    message_id: int
    external_id: str | None = None
    error: str | None = None
    retry_at: datetime | None = None
    held: bool = False


@dataclass(frozen=True, slots=True)
class Backlog:
    """Undelivered messages and the age of the oldest, for health and metrics."""

    pending: int
    failed: int
    oldest_created_at: datetime | None


async def claim(
    claimer: Claimer, channels: Sequence[str], now: datetime, lease: timedelta, limit: int
) -> list[ClaimedDelivery]:
    """Lease up to ``limit`` due deliveries on the given channels.

    The lease is one statement and the read of the messages another: ``claimer`` may be a
    transaction's session or a connection of ``Database.single_writes`` (a lease taken
    without reading its messages expires like any other).
    """
    if not channels:
        return []
    claimed = await claimer.execute(
        _claim_statement(dialect_of(claimer)),
        {"channels": list(channels), "now": now, "until": now + lease, "limit": limit},
    )
    leases = {row.message_id: (row.id, row.attempts, row.reviewed_by_id is not None) for row in claimed}
    if not leases:
        return []
    rows = await claimer.execute(_CLAIMED_MESSAGES, {"ids": list(leases)})
    return [_claimed(row, *leases[row.id]) for row in rows]


@functools.cache
def _claim_statement(dialect: str) -> Update:
    # Built once: the statement (an aliased table, an anti-join) cost more to construct and
    # key for the cache than to run, and dispatchers claim several times a second.
    outbox = table_of(OutboxEntry)
    earlier = outbox.alias("earlier")
    return claim_statement(
        outbox,
        due_at=outbox.c.next_attempt_at,
        statuses=(PENDING, SENDING),
        where=(
            outbox.c.channel.in_(bindparam("channels", expanding=True)),
            ~exists().where(
                earlier.c.conversation_id == outbox.c.conversation_id,
                earlier.c.id < outbox.c.id,
                earlier.c.status.in_((PENDING, SENDING)),
            ),
        ),
        order_by=(outbox.c.id,),
        returning=(outbox.c.id, outbox.c.attempts, outbox.c.message_id, outbox.c.reviewed_by_id),
        dialect=dialect,
    )


_CLAIMED_MESSAGES = (
    select(
        Message.id,
        Message.conversation_id,
        Message.text,
        Message.buttons,
        Message.author,
        Message.reply_to_external_id,
        Message.topic,
        Conversation.channel,
        Conversation.thread_key,
        Conversation.surface,
        Ticket.number.label("ticket_number"),
        Ticket.subject.label("ticket_subject"),
    )
    .join(Conversation, Conversation.id == Message.conversation_id)
    .outerjoin(Ticket, Ticket.id == Conversation.ticket_id)
    .where(Message.id.in_(bindparam("ids", expanding=True)))
    .order_by(Message.id)
)


def _claimed(row: Any, outbox_id: int, attempts: int, approved: bool) -> ClaimedDelivery:
    return ClaimedDelivery(
        outbox_id=outbox_id,
        attempts=attempts,
        message_id=row.id,
        conversation_id=row.conversation_id,
        channel=row.channel,
        thread_key=row.thread_key,
        surface=row.surface,
        text=row.text,
        buttons=tuple((b["label"], b["action"]) for b in row.buttons or ()),
        author=row.author,
        reply_to_external_id=row.reply_to_external_id,
        topic=row.topic,
        ticket_number=row.ticket_number,
        ticket_subject=row.ticket_subject,
        approved=approved,
    )


async def store_outcomes(db: Database, outcomes: Sequence[DeliveryOutcome], now: datetime) -> None:
    """Store the outcome of each attempt, all or none: sent, to be retried, held or failed.

    On PostgreSQL every outcome is one statement on the bare driver, all of them sent in one
    round trip that runs as one transaction (``executemany`` is atomic); elsewhere
    :func:`record` runs in a transaction. The outcomes are the same either way.
    """
    if not outcomes:
        return
    if db.is_sqlite:
        async with db.transaction() as session:
            await record(session, outcomes, now)
        return
    rows = [
        (
            o.outbox_id,
            o.message_id,
            o.external_id,
            now,
            _status(o),
            o.retry_at,
            None if o.external_id is not None else o.error,
        )
        for o in outcomes
    ]
    await db.run_on_driver(lambda driver: driver.executemany(RECORD_STATEMENT, rows))


def _status(outcome: DeliveryOutcome) -> str:
    if outcome.external_id is not None:
        return SENT
    if outcome.held:
        return HELD
    return PENDING if outcome.retry_at is not None else FAILED


# Keyed by primary key only, so the plan is an index lookup whatever the table's size when
# the connection first prepared it (tests/storage/test_statement_plans.py). The message's
# platform id is written only when sent.
RECORD_STATEMENT = f"""
WITH delivered AS (
    UPDATE messages SET external_id = $3::text, sent_at = $4::timestamptz
    WHERE id = $2::bigint AND $5::text = '{SENT}'
)
UPDATE outbox SET
    status = $5::text,
    external_id = CASE WHEN $5::text = '{SENT}' THEN $3::text ELSE external_id END,
    sent_at = CASE WHEN $5::text = '{SENT}' THEN $4::timestamptz ELSE sent_at END,
    next_attempt_at = CASE WHEN $5::text = '{PENDING}' THEN $6::timestamptz ELSE next_attempt_at END,
    claimed_until = NULL,
    last_error = $7::text
WHERE id = $1::bigint
"""


async def record(session: AsyncSession, outcomes: Sequence[DeliveryOutcome], now: datetime) -> None:
    """Store the outcome of each attempt: sent, to be retried, or failed for good."""
    table = table_of(OutboxEntry)
    sent = [o for o in outcomes if o.external_id is not None]
    held = [o for o in outcomes if o.held]
    retry = [o for o in outcomes if o.external_id is None and o.retry_at is not None and not o.held]
    failed = [o for o in outcomes if o.external_id is None and o.retry_at is None and not o.held]
    if held:
        await session.execute(
            update(table)
            .where(table.c.id == bindparam("oid"))
            .values(status=HELD, claimed_until=None, last_error=bindparam("error")),
            [{"oid": o.outbox_id, "error": o.error} for o in held],
        )
    if sent:
        await session.execute(
            update(table)
            .where(table.c.id == bindparam("oid"))
            .values(
                status=SENT,
                external_id=bindparam("eid"),
                sent_at=bindparam("now", type_=table.c.sent_at.type),
                claimed_until=None,
                last_error=None,
            ),
            [{"oid": o.outbox_id, "eid": o.external_id, "now": now} for o in sent],
        )
        messages = table_of(Message)
        await session.execute(
            update(messages)
            .where(messages.c.id == bindparam("mid"))
            .values(external_id=bindparam("eid"), sent_at=bindparam("now", type_=messages.c.sent_at.type)),
            [{"mid": o.message_id, "eid": o.external_id, "now": now} for o in sent],
        )
    if retry:
        await session.execute(
            update(table)
            .where(table.c.id == bindparam("oid"))
            .values(
                status=PENDING,
                next_attempt_at=bindparam("retry_at", type_=table.c.next_attempt_at.type),
                claimed_until=None,
                last_error=bindparam("error"),
            ),
            [{"oid": o.outbox_id, "retry_at": o.retry_at, "error": o.error} for o in retry],
        )
    if failed:
        await session.execute(
            update(table)
            .where(table.c.id == bindparam("oid"))
            .values(status=FAILED, claimed_until=None, last_error=bindparam("error")),
            [{"oid": o.outbox_id, "error": o.error} for o in failed],
        )


async def backlog(session: AsyncSession) -> Backlog:
    """Count undelivered and failed messages."""
    result = await session.execute(
        select(
            func.count().filter(OutboxEntry.status.in_((PENDING, SENDING))),
            func.count().filter(OutboxEntry.status == FAILED),
            func.min(OutboxEntry.created_at).filter(OutboxEntry.status.in_((PENDING, SENDING))),
        )
    )
    pending, failed, oldest = result.one()
    return Backlog(pending=pending or 0, failed=failed or 0, oldest_created_at=oldest)

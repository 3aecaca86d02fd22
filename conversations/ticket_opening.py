"""Writing a new ticket: the ticket, its audit trail, the acknowledgement, the job done, its number.

The ticket service decides everything first (number, priority, the acknowledgement's text)
under its locks, then stores it all with :func:`insert_ticket`, in its transaction: for the
``open_ticket`` job the bot runs, and for an agent alike (with no acknowledgement or job).
On PostgreSQL that is one statement of data-modifying CTEs on the session's own driver
connection, instead of seven statements through SQLAlchemy (ticket, events, message, outbox
entry, conversation, job, number counter); every ticket a conversation asks for pays it, so
it is on the hot path of a busy exchange. SQLite runs the same writes one by one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from conversations import repository as repo
from conversations.jobs import DONE
from conversations.tables import Conversation, Counter, Job, Ticket, TicketEvent, table_of
from conversations.values import Author, Direction


@dataclass(frozen=True, slots=True)
class NewTicket:
    """A ticket to store with everything that goes with it.

    Attributes:
        number: Its number: the next value of ``counter``, locked by the caller in this
            transaction (:func:`conversations.ticket_queries.lock_counter`); the write
            advances the counter to it.
        counter: The name of the number counter.
        conversation_id: The conversation that asked for it (locked by the caller).
        contact_id: The customer.
        channel: The conversation's channel (for the acknowledgement).
        subject: One line.
        category: E.g. ``"deposit_missing"``.
        priority: As decided.
        status: Its first status.
        details: The facts the bot gathered, with the priority's reasons.
        sla_due_at: When the first response is due.
        events: Its first audit-trail entries, in order: ``(kind, actor, data)``.
        acknowledgement: The message telling the customer (a system message, queued for
            delivery), or ``None`` (an agent opened it: nothing is said).
        job_id: The ``open_ticket`` job, completed by the same write, if the bot opened it.
        now: The time of it all.

    """

    number: int
    counter: str
    conversation_id: int
    contact_id: int
    channel: str
    subject: str
    category: str | None
    priority: str
    status: str
    details: Mapping[str, Any]
    sla_due_at: datetime | None
    events: Sequence[tuple[str, str, Mapping[str, Any]]]
    acknowledgement: str | None
    job_id: int | None
    now: datetime


async def insert_ticket(session: AsyncSession, new: NewTicket) -> int:
    """Store ``new`` in the session's transaction and return the ticket's row id."""
    if session.get_bind().dialect.name == "postgresql":
        connection = await session.connection()
        raw = await connection.get_raw_connection()
        # The session's own connection, inside its transaction: the counter's and the
        # conversation's locks hold until the commit, as for any statement of the session.
        driver = raw.driver_connection
        assert driver is not None
        ticket_id = await driver.fetchval(_STATEMENT, *_arguments(new))
        return int(ticket_id)
    return await _insert_portably(session, new)


_STATEMENT = """
WITH ticket AS (
    INSERT INTO tickets (number, conversation_id, contact_id, subject, category, priority, status,
                         details, sla_due_at, created_at, updated_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8::json, $9, $10, $10)
    RETURNING id
), events AS (
    INSERT INTO ticket_events (ticket_id, kind, actor, data, created_at)
    SELECT ticket.id, e.kind, e.actor, e.data::json, $10
    FROM ticket, unnest($11::text[], $12::text[], $13::text[]) WITH ORDINALITY AS e(kind, actor, data, n)
    ORDER BY e.n
), message AS (
    INSERT INTO messages (conversation_id, channel, direction, author, text, buttons, attachments,
                          internal, created_at)
    SELECT $2, $14, $15, $16, $17, '[]'::json, '[]'::json, false, $10
    WHERE $17::text IS NOT NULL
    RETURNING id
), queued AS (
    INSERT INTO outbox (message_id, conversation_id, channel, status, attempts, next_attempt_at, created_at)
    SELECT message.id, $2, $14, 'pending', 0, $10, $10 FROM message
), linked AS (
    UPDATE conversations
    SET ticket_id = (SELECT id FROM ticket),
        last_message_at = CASE WHEN $17::text IS NULL THEN last_message_at ELSE $10 END
    WHERE id = $2
), done AS (
    -- No row when an agent opened it ($18 is NULL).
    UPDATE jobs SET status = 'done', done_at = $10, claimed_until = NULL, last_error = NULL WHERE id = $18
), counted AS (
    UPDATE counters SET value = $1 WHERE name = $19
)
SELECT id FROM ticket
"""


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


def _arguments(new: NewTicket) -> list[Any]:
    return [
        new.number,
        new.conversation_id,
        new.contact_id,
        new.subject,
        new.category,
        new.priority,
        new.status,
        _json(dict(new.details)),
        new.sla_due_at,
        new.now,
        [kind for kind, _, _ in new.events],
        [actor[:64] for _, actor, _ in new.events],
        [_json(dict(data)) for _, _, data in new.events],
        new.channel,
        Direction.OUT.value,
        Author.SYSTEM.value,
        new.acknowledgement,
        new.job_id,
        new.counter,
    ]


async def _insert_portably(session: AsyncSession, new: NewTicket) -> int:
    tickets = table_of(Ticket)
    ticket_id = await session.scalar(
        tickets.insert()
        .values(
            number=new.number,
            conversation_id=new.conversation_id,
            contact_id=new.contact_id,
            subject=new.subject,
            category=new.category,
            priority=new.priority,
            status=new.status,
            details=dict(new.details),
            sla_due_at=new.sla_due_at,
            created_at=new.now,
            updated_at=new.now,
        )
        .returning(tickets.c.id)
    )
    assert ticket_id is not None
    for kind, actor, data in new.events:
        await session.execute(
            table_of(TicketEvent)
            .insert()
            .values(ticket_id=ticket_id, kind=kind, actor=actor[:64], data=dict(data), created_at=new.now)
        )
    conversations = table_of(Conversation)
    linked = (
        update(conversations).where(conversations.c.id == new.conversation_id).values(ticket_id=ticket_id)
    )
    if new.acknowledgement is not None:
        await repo.add_replies(
            session,
            new.conversation_id,
            new.channel,
            [repo.NewReply(new.acknowledgement, (), Author.SYSTEM)],
            new.now,
        )
        linked = linked.values(last_message_at=new.now)
    await session.execute(linked)
    if new.job_id is not None:
        jobs = table_of(Job)
        await session.execute(
            update(jobs)
            .where(jobs.c.id == new.job_id)
            .values(status=DONE, done_at=new.now, claimed_until=None, last_error=None)
        )
    counters = table_of(Counter)
    await session.execute(update(counters).where(counters.c.name == new.counter).values(value=new.number))
    return int(ticket_id)

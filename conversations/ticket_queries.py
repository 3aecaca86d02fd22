"""Queries of the ticket service, written once for SQLite and PostgreSQL.

Rows that several agents or processes may change at once (the number counter, a ticket,
its conversation) are read with ``FOR UPDATE`` on PostgreSQL; SQLite serialises writers
anyway, so the clause is left out there by the dialect.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Insert, Select, bindparam, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from conversations.repository import insert_ignoring_conflicts
from conversations.tables import Agent, Conversation, Counter, Job, Message, Ticket, TicketEvent, table_of
from conversations.values import Author, Direction

REDACTED = "[REDACTED:"
_MARKER = re.compile(r"\[REDACTED:([a-z0-9_]+)\]")


async def lock_counter(session: AsyncSession, name: str, start: int) -> int:
    """Lock a named counter until the commit and return its value, without advancing it.

    The first use creates the counter at ``start``, so the first number is ``start + 1``. Take
    it first in a write transaction: the row lock (PostgreSQL) or the write lock (SQLite) then
    orders the caller with every other until the commit. The counter advances only when the
    next value is used (:func:`conversations.ticket_opening.insert_ticket` does, in the same
    transaction), so a caller that turns out not to need one (a request that joins an open
    ticket) skips no number.
    """
    value = await session.scalar(
        _lock_counter(session.get_bind().dialect.name), {"name": name, "first": start}
    )
    assert value is not None
    return int(value)


@functools.cache
def _lock_counter(dialect: str) -> Insert:
    # An upsert that changes nothing still locks the row (and creates it on first use).
    counters = table_of(Counter)
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(counters)
    return (
        insert.values(name=bindparam("name"), value=bindparam("first"))
        .on_conflict_do_update(index_elements=[counters.c.name], set_={"value": counters.c.value})
        .returning(counters.c.value)
    )


async def ticket_by_number(session: AsyncSession, number: int, *, lock: bool = False) -> Ticket | None:
    """The ticket with that number, locked for update when asked."""
    query = select(Ticket).where(Ticket.number == number)
    if lock:
        query = query.with_for_update()
    return await session.scalar(query)


async def ticket_by_id(session: AsyncSession, ticket_id: int) -> Ticket | None:
    """The ticket with that row id."""
    return await session.get(Ticket, ticket_id)


async def conversation(
    session: AsyncSession, conversation_id: int, *, lock: bool = False
) -> Conversation | None:
    """A conversation by id, locked for update when asked."""
    query = select(Conversation).where(Conversation.id == conversation_id)
    if lock:
        query = query.with_for_update()
    return await session.scalar(query)


async def add_event(
    session: AsyncSession, ticket_id: int, kind: str, actor: str, data: dict[str, Any], now: datetime
) -> None:
    """Append an entry to a ticket's audit trail."""
    await session.execute(
        table_of(TicketEvent)
        .insert()
        .values(ticket_id=ticket_id, kind=kind, actor=actor[:64], data=data, created_at=now)
    )


@dataclass(frozen=True, slots=True)
class ContactTickets:
    """How many tickets a contact opened lately (one query, for the daily limit and the priority).

    Attributes:
        since_day: Opened at or after the limit's start.
        since_repeat: Opened at or after the repeat window's start.

    """

    since_day: int
    since_repeat: int


async def contact_tickets(
    session: AsyncSession, contact_id: int, *, day: datetime, repeat: datetime
) -> ContactTickets:
    """Count the contact's tickets opened since ``day`` and since ``repeat``."""
    row = (
        await session.execute(
            _CONTACT_TICKETS, {"contact": contact_id, "day": day, "repeat": repeat, "since": min(day, repeat)}
        )
    ).one()
    return ContactTickets(int(row[0] or 0), int(row[1] or 0))


# The reads behind a new ticket are built once: constructing one cost more Python than
# running it, on every ticket.
_CONTACT_TICKETS = select(
    func.count(Ticket.id).filter(Ticket.created_at >= bindparam("day", type_=Ticket.created_at.type)),
    func.count(Ticket.id).filter(Ticket.created_at >= bindparam("repeat", type_=Ticket.created_at.type)),
).where(
    Ticket.contact_id == bindparam("contact"),
    Ticket.created_at >= bindparam("since", type_=Ticket.created_at.type),
)


@dataclass(frozen=True, slots=True)
class CustomerHistory:
    """What a new ticket needs from the customer's messages (one query).

    Attributes:
        recent_texts: The customer's latest messages, oldest first (for the priority rules).
        redaction_kinds: Kinds of secrets redacted from any of their messages
            (``[REDACTED:kind]`` markers), sorted.

    """

    recent_texts: list[str]
    redaction_kinds: list[str]


async def customer_history(session: AsyncSession, conversation_id: int, recent: int) -> CustomerHistory:
    """The customer's last ``recent`` messages of a conversation and the kinds of secrets redacted from it."""
    rows = (await session.execute(_customer_history(recent), {"conversation": conversation_id})).all()
    kinds = {kind for row in rows for kind in _MARKER.findall(row.text)}
    return CustomerHistory([row.text for row in rows if row.recent], sorted(kinds))


@functools.cache
def _customer_history(recent: int) -> Select[str, bool]:
    inbound = (Message.conversation_id == bindparam("conversation"), Message.direction == Direction.IN.value)
    latest = (
        select(Message.id)
        .where(*inbound, Message.internal.is_(False))
        .order_by(Message.id.desc())
        .limit(recent)
    )
    return (
        select(Message.text, Message.id.in_(latest).label("recent"))
        .where(*inbound, or_(Message.id.in_(latest), Message.text.contains(REDACTED)))
        .order_by(Message.id)
    )


async def agent_by_id(session: AsyncSession, agent_id: int) -> Agent | None:
    """An active agent by id."""
    return await session.scalar(select(Agent).where(Agent.id == agent_id, Agent.active.is_(True)))


async def agent_by_email(session: AsyncSession, email: str) -> Agent | None:
    """An active agent by e-mail address (case-insensitive)."""
    return await session.scalar(
        select(Agent).where(func.lower(Agent.email) == email.strip().lower(), Agent.active.is_(True))
    )


async def ensure_agent(session: AsyncSession, email: str, display_name: str, now: datetime) -> Agent:
    """The agent with that e-mail address, created (as an active agent) if missing."""
    await session.execute(
        insert_ignoring_conflicts(session.get_bind().dialect.name, Agent).values(
            email=email, display_name=display_name, role="agent", active=True, created_at=now
        )
    )
    agent = await session.scalar(select(Agent).where(Agent.email == email))
    assert agent is not None
    return agent


async def agent_emails(session: AsyncSession, agent_ids: Collection[int]) -> dict[int, str]:
    """E-mail addresses of agents by id."""
    if not agent_ids:
        return {}
    result = await session.execute(select(Agent.id, Agent.email).where(Agent.id.in_(agent_ids)))
    return {row.id: row.email for row in result}


async def add_internal_note(
    session: AsyncSession, conversation_id: int, channel: str, agent_id: int, text: str, now: datetime
) -> int:
    """Store an agent's internal note in a conversation: no outbox entry, never delivered."""
    message_id = await session.scalar(
        table_of(Message)
        .insert()
        .values(
            conversation_id=conversation_id,
            channel=channel,
            direction=Direction.OUT.value,
            author=Author.AGENT.value,
            agent_id=agent_id,
            text=text,
            buttons=[],
            attachments=[],
            internal=True,
            created_at=now,
        )
        .returning(Message.id)
    )
    assert message_id is not None
    return int(message_id)


async def list_tickets(
    session: AsyncSession,
    *,
    statuses: Collection[str] | None,
    assignee_id: int | None,
    priorities: Collection[str] | None,
    contact_id: int | None,
    limit: int,
) -> Sequence[Ticket]:
    """Tickets matching the filters, the most pressing response target first, then by number."""
    query = select(Ticket)
    if statuses is not None:
        query = query.where(Ticket.status.in_(statuses))
    if assignee_id is not None:
        query = query.where(Ticket.assignee_id == assignee_id)
    if priorities is not None:
        query = query.where(Ticket.priority.in_(priorities))
    if contact_id is not None:
        query = query.where(Ticket.contact_id == contact_id)
    query = query.order_by(Ticket.sla_due_at.is_(None), Ticket.sla_due_at, Ticket.number).limit(limit)
    return (await session.scalars(query)).all()


async def latest_ticket_of(session: AsyncSession, *, contact_id: int) -> Ticket | None:
    """A contact's most recently opened ticket."""
    return await session.scalar(
        select(Ticket).where(Ticket.contact_id == contact_id).order_by(Ticket.number.desc()).limit(1)
    )


async def latest_ticket_in(
    session: AsyncSession, contact_id: int, statuses: Collection[str]
) -> Ticket | None:
    """A contact's most recently opened ticket among those with one of ``statuses``."""
    return await session.scalar(
        select(Ticket)
        .where(Ticket.contact_id == contact_id, Ticket.status.in_(statuses))
        .order_by(Ticket.number.desc())
        .limit(1)
    )


async def events_of(session: AsyncSession, ticket_id: int) -> Sequence[TicketEvent]:
    """A ticket's audit trail, oldest first."""
    return (
        await session.scalars(
            select(TicketEvent).where(TicketEvent.ticket_id == ticket_id).order_by(TicketEvent.id)
        )
    ).all()


async def messages_of(
    session: AsyncSession, conversation_ids: Collection[int], limit: int
) -> Sequence[Message]:
    """The last ``limit`` messages (internal notes included) of some conversations, oldest first."""
    if not conversation_ids:
        return []
    newest = (
        await session.scalars(
            select(Message)
            .where(Message.conversation_id.in_(conversation_ids))
            .order_by(Message.id.desc())
            .limit(limit)
        )
    ).all()
    return list(reversed(newest))


async def job_done(session: AsyncSession, job_id: int) -> bool:
    """Whether a job has been completed already (checked under the caller's locks)."""
    status = await session.scalar(select(Job.status).where(Job.id == job_id))
    return status == "done"


async def conversation_for_job(
    session: AsyncSession, conversation_id: int, job_id: int
) -> tuple[Conversation | None, bool]:
    """A conversation locked for update, and whether a job is completed already (one query).

    Call it after taking a lock that every runner of the job takes first (the ticket service
    takes the number counter's): the job's status is read in the statement's snapshot, which a
    wait for the conversation's lock inside the statement would not refresh.
    """
    row = (
        await session.execute(_CONVERSATION_FOR_JOB, {"conversation": conversation_id, "job": job_id})
    ).first()
    if row is None:
        return None, await job_done(session, job_id)
    return row[0], row[1] == "done"


_CONVERSATION_FOR_JOB = (
    select(Conversation, select(Job.status).where(Job.id == bindparam("job")).scalar_subquery())
    .where(Conversation.id == bindparam("conversation"))
    .with_for_update(of=Conversation)
)

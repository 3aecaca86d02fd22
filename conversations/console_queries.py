"""Queries of the agent console's inbox: filters, search, unread markers.

Every value a person types (search text, filters) reaches the database as a bound
parameter; ``LIKE`` patterns escape their wildcards so a ``%`` searches for a ``%``.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from conversations.tables import (
    Agent,
    Contact,
    Conversation,
    ConversationRead,
    Identity,
    Message,
    Ticket,
    table_of,
)
from conversations.values import Direction

PREVIEW_CHARS = 140


@dataclass(frozen=True, slots=True)
class InboxFilter:
    """What the inbox shows. ``None`` (or an empty collection) means "any".

    Attributes:
        channels: Conversation channels.
        ticket_statuses: Statuses of the conversation's ticket.
        conversation_status: ``"bot"`` or ``"human"`` (who answers the conversation).
        priorities: Ticket priorities.
        assignee_id: Only this agent's work; ``0`` for unassigned.
        language: The conversation's language.
        category: The ticket's category.
        surface: ``"public"`` or ``"private"``.
        search: Text found in a message, a ticket subject, a handle, a name or an e-mail address.
        ticket_number: A ticket number to find (the search text parsed as one).
        order: ``"recent"`` (last message first) or ``"sla"`` (earliest response target first).

    """

    channels: Collection[str] = ()
    ticket_statuses: Collection[str] = ()
    conversation_status: str | None = None
    priorities: Collection[str] = ()
    assignee_id: int | None = None
    language: str | None = None
    category: str | None = None
    surface: str | None = None
    search: str | None = None
    ticket_number: int | None = None
    order: str = "recent"


@dataclass(frozen=True, slots=True)
class InboxRow:
    """One conversation in the inbox, with its ticket if it has one."""

    conversation_id: int
    channel: str
    surface: str
    language: str | None
    conversation_status: str
    last_message_at: datetime
    contact_id: int
    contact_name: str | None
    contact_email: str | None
    handle: str | None
    preview: str
    unread: bool
    ticket_number: int | None
    ticket_subject: str | None
    ticket_status: str | None
    priority: str | None
    category: str | None
    assignee_email: str | None
    sla_due_at: datetime | None
    first_response_at: datetime | None

    def sla_breached(self, now: datetime, active: Collection[str]) -> bool:
        """No first response yet and the response target has passed, on a ticket still being worked."""
        return (
            self.ticket_status in active
            and self.first_response_at is None
            and self.sla_due_at is not None
            and self.sla_due_at < now
        )


def like_pattern(text: str) -> str:
    """A ``LIKE`` pattern that finds ``text`` anywhere, its own wildcards and backslashes taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


# --- inbox ----------------------------------------------------------------------------


async def inbox(
    session: AsyncSession, wanted: InboxFilter, agent_id: int, limit: int = 100
) -> list[InboxRow]:
    """Conversations matching the filter, with their ticket, preview and unread marker for ``agent_id``."""
    last_in = (
        select(func.max(Message.id))
        .where(Message.conversation_id == Conversation.id, Message.direction == Direction.IN.value)
        .correlate(Conversation)
        .scalar_subquery()
    )
    preview = (
        select(Message.text)
        .where(Message.conversation_id == Conversation.id, Message.internal.is_(False))
        .order_by(Message.id.desc())
        .limit(1)
        .correlate(Conversation)
        .scalar_subquery()
    )
    handle = (
        select(func.coalesce(Identity.handle, Identity.display_name))
        .where(Identity.contact_id == Conversation.contact_id, Identity.channel == Conversation.channel)
        .order_by(Identity.id)
        .limit(1)
        .correlate(Conversation)
        .scalar_subquery()
    )
    read = ConversationRead
    query = (
        select(
            Conversation,
            Contact.display_name.label("contact_name"),
            Contact.email.label("contact_email"),
            handle.label("handle"),
            preview.label("preview"),
            last_in.label("last_id"),
            read.last_message_id.label("read_id"),
            Ticket,
            Agent.email.label("assignee_email"),
        )
        .join(Contact, Contact.id == Conversation.contact_id)
        .outerjoin(read, and_(read.conversation_id == Conversation.id, read.agent_id == agent_id))
        .outerjoin(Ticket, Ticket.id == Conversation.ticket_id)
        .outerjoin(Agent, Agent.id == Ticket.assignee_id)
    )
    for condition in _conditions(wanted):
        query = query.where(condition)
    if wanted.order == "sla":
        query = query.order_by(
            Ticket.first_response_at.is_not(None),
            Ticket.sla_due_at.is_(None),
            Ticket.sla_due_at,
            Conversation.last_message_at.desc(),
        )
    else:
        query = query.order_by(Conversation.last_message_at.desc(), Conversation.id.desc())
    rows = (await session.execute(query.limit(limit))).all()
    return [_row(r) for r in rows]


def _conditions(wanted: InboxFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if wanted.channels:
        conditions.append(Conversation.channel.in_(wanted.channels))
    if wanted.ticket_statuses:
        conditions.append(Ticket.status.in_(wanted.ticket_statuses))
    if wanted.conversation_status:
        conditions.append(Conversation.status == wanted.conversation_status)
    if wanted.priorities:
        conditions.append(Ticket.priority.in_(wanted.priorities))
    if wanted.assignee_id == 0:
        conditions.append(and_(Ticket.assignee_id.is_(None), Conversation.assigned_agent_id.is_(None)))
    elif wanted.assignee_id is not None:
        conditions.append(
            or_(
                Ticket.assignee_id == wanted.assignee_id, Conversation.assigned_agent_id == wanted.assignee_id
            )
        )
    if wanted.language:
        conditions.append(Conversation.language == wanted.language)
    if wanted.category:
        conditions.append(Ticket.category == wanted.category)
    if wanted.surface:
        conditions.append(Conversation.surface == wanted.surface)
    if wanted.search:
        conditions.append(_search(wanted.search, wanted.ticket_number))
    return conditions


def _search(text: str, number: int | None) -> ColumnElement[bool]:
    pattern = like_pattern(text.strip())
    handle = like_pattern(text.strip().lstrip("@"))
    found: list[ColumnElement[bool]] = [
        exists().where(Message.conversation_id == Conversation.id, Message.text.ilike(pattern, escape="\\")),
        Contact.email.ilike(pattern, escape="\\"),
        Contact.display_name.ilike(pattern, escape="\\"),
        Ticket.subject.ilike(pattern, escape="\\"),
        exists().where(
            Identity.contact_id == Conversation.contact_id,
            or_(
                Identity.handle.ilike(handle, escape="\\"),
                Identity.display_name.ilike(pattern, escape="\\"),
                Identity.external_id.ilike(handle, escape="\\"),
            ),
        ),
    ]
    if number is not None:
        found.append(Ticket.number == number)
    return or_(*found)


def _row(r: Any) -> InboxRow:
    conversation: Conversation = r.Conversation
    ticket: Ticket | None = r.Ticket
    text = " ".join((r.preview or "").split())
    return InboxRow(
        conversation_id=conversation.id,
        channel=conversation.channel,
        surface=conversation.surface,
        language=conversation.language,
        conversation_status=conversation.status,
        last_message_at=conversation.last_message_at,
        contact_id=conversation.contact_id,
        contact_name=r.contact_name,
        contact_email=r.contact_email,
        handle=r.handle,
        preview=text[:PREVIEW_CHARS] + ("…" if len(text) > PREVIEW_CHARS else ""),
        unread=r.last_id is not None and r.last_id > (r.read_id or 0),
        ticket_number=ticket.number if ticket else None,
        ticket_subject=ticket.subject if ticket else None,
        ticket_status=ticket.status if ticket else None,
        priority=ticket.priority if ticket else None,
        category=ticket.category if ticket else None,
        assignee_email=r.assignee_email,
        sla_due_at=ticket.sla_due_at if ticket else None,
        first_response_at=ticket.first_response_at if ticket else None,
    )


async def filter_choices(session: AsyncSession) -> dict[str, list[str]]:
    """The channels, languages and categories present, for the inbox's filter menus."""

    async def distinct(column: Any) -> list[str]:
        values = await session.scalars(select(column).where(column.is_not(None)).distinct())
        return sorted(str(v) for v in values)

    return {
        "channels": await distinct(Conversation.channel),
        "languages": await distinct(Conversation.language),
        "categories": await distinct(Ticket.category),
    }


async def unread_marks(
    session: AsyncSession, agent_id: int, conversation_ids: Collection[int], now: datetime
) -> list[dict[str, Any]]:
    """The read markers to move forward so ``agent_id`` has seen every message of these conversations.

    Read in a plain session; write the result with :func:`record_reads` only when it is not
    empty, so an agent watching a quiet conversation takes no write lock.
    """
    if not conversation_ids:
        return []
    latest = await session.execute(
        select(Message.conversation_id, func.max(Message.id))
        .where(Message.conversation_id.in_(conversation_ids))
        .group_by(Message.conversation_id)
    )
    seen = await session.execute(
        select(ConversationRead.conversation_id, ConversationRead.last_message_id).where(
            ConversationRead.agent_id == agent_id, ConversationRead.conversation_id.in_(conversation_ids)
        )
    )
    already = {row[0]: row[1] for row in seen}
    return [
        {"agent_id": agent_id, "conversation_id": cid, "last_message_id": mid, "read_at": now}
        for cid, mid in latest
        if mid is not None and already.get(cid, 0) < mid
    ]


async def record_reads(session: AsyncSession, marks: Sequence[dict[str, Any]]) -> None:
    """Store read markers from :func:`unread_marks` (insert or move forward, never back)."""
    if not marks:
        return
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table_of(ConversationRead))
    statement = statement.on_conflict_do_update(
        index_elements=["agent_id", "conversation_id"],
        set_={"last_message_id": statement.excluded.last_message_id, "read_at": statement.excluded.read_at},
        where=table_of(ConversationRead).c.last_message_id < statement.excluded.last_message_id,
    )
    await session.execute(statement, list(marks))

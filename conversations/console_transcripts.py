"""A customer's transcript for the console: every conversation of the contact, on any channel.

Contacts own identities (one per channel account) and conversations; the transcript is the
messages of all of them, each with its delivery state from the outbox.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from conversations.tables import Agent, Contact, Conversation, Identity, Message, OutboxEntry, Ticket
from conversations.values import Direction


@dataclass(frozen=True, slots=True)
class TranscriptLine:
    """One message of a customer's transcript, with where it was written and how it was delivered."""

    id: int
    conversation_id: int
    channel: str
    direction: str
    author: str
    agent_email: str | None
    text: str
    internal: bool
    created_at: datetime
    delivery: str | None
    delivery_error: str | None
    action: str | None = None


async def conversation_row(session: AsyncSession, conversation_id: int) -> Conversation | None:
    """A conversation by id."""
    return await session.get(Conversation, conversation_id)


async def contact_of(session: AsyncSession, contact_id: int) -> tuple[Contact | None, Sequence[Identity]]:
    """A contact and their channel identities."""
    contact = await session.get(Contact, contact_id)
    identities = (
        await session.scalars(select(Identity).where(Identity.contact_id == contact_id).order_by(Identity.id))
    ).all()
    return contact, identities


async def conversations_of(session: AsyncSession, contact_id: int) -> Sequence[Conversation]:
    """Every conversation of a contact, on any channel, newest first."""
    return (
        await session.scalars(
            select(Conversation)
            .where(Conversation.contact_id == contact_id)
            .order_by(Conversation.last_message_at.desc())
        )
    ).all()


async def transcript(
    session: AsyncSession, conversation_ids: Collection[int], limit: int = 500
) -> list[TranscriptLine]:
    """The last ``limit`` messages of these conversations, oldest first, with their delivery state."""
    if not conversation_ids:
        return []
    rows = (
        await session.execute(
            select(
                Message,
                Agent.email.label("agent_email"),
                OutboxEntry.status.label("delivery"),
                OutboxEntry.last_error.label("delivery_error"),
            )
            .outerjoin(Agent, Agent.id == Message.agent_id)
            .outerjoin(OutboxEntry, OutboxEntry.message_id == Message.id)
            .where(Message.conversation_id.in_(conversation_ids))
            .order_by(Message.id.desc())
            .limit(limit)
        )
    ).all()
    lines = []
    for row in reversed(rows):
        m: Message = row.Message
        delivery = row.delivery
        if delivery is None and m.direction == Direction.OUT.value and not m.internal and m.sent_at:
            delivery = "sent"
        lines.append(
            TranscriptLine(
                id=m.id,
                conversation_id=m.conversation_id,
                channel=m.channel,
                direction=m.direction,
                author=m.author,
                agent_email=row.agent_email,
                text=m.text,
                internal=m.internal,
                created_at=m.created_at,
                delivery=delivery,
                delivery_error=row.delivery_error,
                action=m.action,
            )
        )
    return lines


async def ticket_number(session: AsyncSession, ticket_id: int) -> int | None:
    """The number of the ticket with that row id."""
    return await session.scalar(select(Ticket.number).where(Ticket.id == ticket_id))


async def ticket_state(session: AsyncSession, ticket_id: int) -> tuple[int, str] | None:
    """``(number, status)`` of the ticket with that row id."""
    row = (await session.execute(select(Ticket.number, Ticket.status).where(Ticket.id == ticket_id))).first()
    return (int(row[0]), str(row[1])) if row is not None else None


async def last_customer_text(session: AsyncSession, conversation_id: int) -> str | None:
    """The customer's latest message text in a conversation (a subject for a ticket opened from it)."""
    return await session.scalar(
        select(Message.text)
        .where(
            Message.conversation_id == conversation_id,
            Message.direction == Direction.IN.value,
            Message.text != "",
        )
        .order_by(Message.id.desc())
        .limit(1)
    )

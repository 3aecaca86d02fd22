"""Reading tickets: rows to views, the queue, a ticket's detail with its transcript."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from conversations import ticket_queries as q
from conversations.tables import Ticket
from core.tickets.config import TicketSettings
from core.tickets.views import TicketDetail, TicketEventView, TicketView, TranscriptEntry

# The transcript of a very long conversation is cut to its most recent messages.
TRANSCRIPT_LIMIT = 1000


async def views_of(
    session: AsyncSession, tickets: Sequence[Ticket], settings: TicketSettings
) -> list[TicketView]:
    """Views of ticket rows, with their assignees' e-mail addresses."""
    emails = await q.agent_emails(session, {t.assignee_id for t in tickets if t.assignee_id is not None})
    return [
        _view(t, settings, emails.get(t.assignee_id) if t.assignee_id is not None else None) for t in tickets
    ]


async def view_of(session: AsyncSession, ticket: Ticket, settings: TicketSettings) -> TicketView:
    """The view of one ticket row."""
    [view] = await views_of(session, [ticket], settings)
    return view


async def detail_of(session: AsyncSession, ticket: Ticket, settings: TicketSettings) -> TicketDetail:
    """A ticket, its events and the transcript of its conversation and of the tickets merged into it."""
    conversation_ids = {ticket.conversation_id}
    for merged in ticket.details.get("merged_from", []):
        number = settings.parse_number(str(merged))
        source = await q.ticket_by_number(session, number) if number is not None else None
        if source is not None:
            conversation_ids.add(source.conversation_id)
    events = await q.events_of(session, ticket.id)
    messages = await q.messages_of(session, conversation_ids, TRANSCRIPT_LIMIT)
    return TicketDetail(
        ticket=await view_of(session, ticket, settings),
        events=tuple(TicketEventView(e.kind, e.actor, dict(e.data or {}), e.created_at) for e in events),
        transcript=tuple(
            TranscriptEntry(
                message_id=m.id,
                conversation_id=m.conversation_id,
                direction=m.direction,
                author=m.author,
                agent_id=m.agent_id,
                text=m.text,
                internal=m.internal,
                created_at=m.created_at,
            )
            for m in messages
        ),
    )


def _view(ticket: Ticket, settings: TicketSettings, assignee: str | None) -> TicketView:
    return TicketView(
        number=settings.format_number(ticket.number),
        id=ticket.id,
        conversation_id=ticket.conversation_id,
        contact_id=ticket.contact_id,
        subject=ticket.subject,
        category=ticket.category,
        priority=ticket.priority,
        status=ticket.status,
        assignee_id=ticket.assignee_id,
        assignee=assignee,
        details=dict(ticket.details or {}),
        sla_due_at=ticket.sla_due_at,
        first_response_at=ticket.first_response_at,
        solved_at=ticket.solved_at,
        created_at=ticket.created_at,
        updated_at=ticket.updated_at,
    )

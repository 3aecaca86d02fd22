"""Queries of the survey and follow-up jobs, written once for SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from conversations.jobs import CANCELLED, PENDING
from conversations.tables import Contact, Job, Survey, Ticket, table_of


async def revive_cancelled(session: AsyncSession, dedupe_key: str, due_at: datetime) -> None:
    """Put a cancelled job back (a ticket solved again after a reopen owes its survey again)."""
    await session.execute(
        update(table_of(Job))
        .where(table_of(Job).c.dedupe_key == dedupe_key, table_of(Job).c.status == CANCELLED)
        .values(status=PENDING, due_at=due_at, attempts=0, claimed_until=None, last_error=None)
    )


async def locked_ticket(session: AsyncSession, ticket_id: int) -> Ticket | None:
    """A ticket by row id, locked for update."""
    return await session.scalar(select(Ticket).where(Ticket.id == ticket_id).with_for_update())


async def opted_out(session: AsyncSession, contact_id: int) -> bool:
    """Whether the contact asked for no more surveys."""
    return bool(await session.scalar(select(Contact.surveys_opt_out).where(Contact.id == contact_id)))


async def survey_of_ticket(session: AsyncSession, ticket_id: int) -> int | None:
    """The id of the ticket's survey, if one was sent."""
    return await session.scalar(select(Survey.id).where(Survey.ticket_id == ticket_id))


async def survey_by_token(session: AsyncSession, token: str, *, lock: bool = False) -> Survey | None:
    """The survey a link's token names."""
    query = select(Survey).where(Survey.token == token)
    if lock:
        query = query.with_for_update()
    return await session.scalar(query)

"""Read-only queries of ``helpline report``: answered surveys with what they are grouped by.

Figures the console's reports page computes already (the rating distribution, ticket
times, deflection) come from :mod:`conversations.console_reports`; these add what the
command line breaks down further.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from conversations.tables import Agent, Survey, Ticket


@dataclass(frozen=True, slots=True)
class RatedSurvey:
    """One answered survey with the ticket's channel, category and agent."""

    rating: int
    answered_at: datetime
    channel: str
    category: str | None
    agent: str | None


async def rated_surveys(session: AsyncSession, since: datetime) -> list[RatedSurvey]:
    """Surveys answered at or after ``since``."""
    rows = await session.execute(
        select(Survey.rating, Survey.answered_at, Survey.channel, Ticket.category, Agent.email)
        .join(Ticket, Ticket.id == Survey.ticket_id)
        .outerjoin(Agent, Agent.id == Ticket.assignee_id)
        .where(Survey.rating.is_not(None), Survey.answered_at >= since)
        .order_by(Survey.answered_at)
    )
    return [
        RatedSurvey(int(r.rating), r.answered_at, r.channel, r.category, r.email)
        for r in rows
        if r.rating is not None and r.answered_at is not None
    ]


async def survey_response(session: AsyncSession, since: datetime) -> tuple[int, int]:
    """``(surveys sent, of which answered)`` among those sent at or after ``since``."""
    row = (
        await session.execute(select(func.count(), func.count(Survey.rating)).where(Survey.sent_at >= since))
    ).one()
    return int(row[0] or 0), int(row[1] or 0)

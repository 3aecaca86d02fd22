"""Aggregates for the console's reports page: satisfaction, volume, response times, deflection.

Counting happens in the database; only the tickets of the period (few compared with
messages) are read row by row, for the response-time percentiles.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import String, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from conversations.tables import Conversation, Message, Survey, Ticket
from conversations.values import Direction


async def csat(session: AsyncSession, since: datetime) -> dict[int, int]:
    """How many answered surveys gave each rating (1–5) since ``since``."""
    rows = await session.execute(
        select(Survey.rating, func.count())
        .where(Survey.rating.is_not(None), Survey.answered_at >= since)
        .group_by(Survey.rating)
    )
    return {int(rating): int(count) for rating, count in rows if rating is not None and 1 <= rating <= 5}


async def daily_volume(session: AsyncSession, since: datetime) -> list[tuple[str, str, int]]:
    """Customer messages per UTC day (``YYYY-MM-DD``) and channel since ``since``."""
    day = _day(session, Message.created_at)
    rows = await session.execute(
        select(day.label("day"), Message.channel, func.count())
        .where(Message.direction == Direction.IN.value, Message.created_at >= since)
        .group_by(day, Message.channel)
        .order_by(day)
    )
    return [(str(d), str(channel), int(count)) for d, channel, count in rows]


def _day(session: AsyncSession, column: Any) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD", type_=String)
    # SQLite keeps UTC datetimes as ISO text without an offset.
    return func.substr(column, 1, 10, type_=String)


async def ticket_times(
    session: AsyncSession, since: datetime
) -> Sequence[tuple[datetime, datetime | None, datetime | None]]:
    """``(created_at, first_response_at, solved_at)`` of the tickets opened since ``since``."""
    rows = await session.execute(
        select(Ticket.created_at, Ticket.first_response_at, Ticket.solved_at).where(
            Ticket.created_at >= since
        )
    )
    return [(r[0], r[1], r[2]) for r in rows]


async def deflection(session: AsyncSession, since: datetime) -> tuple[int, int]:
    """``(conversations started, of which handed to a person)`` since ``since``.

    A conversation counts as handed over once it had a ticket or a person took it; one
    the bot alone answered, never asking for anyone, is deflected.
    """
    total = await session.scalar(select(func.count()).where(Conversation.created_at >= since))
    handed = await session.scalar(
        select(func.count()).where(
            Conversation.created_at >= since,
            or_(
                Conversation.ticket_id.is_not(None),
                Conversation.status != "bot",
                Conversation.assigned_agent_id.is_not(None),
            ),
        )
    )
    return int(total or 0), int(handed or 0)

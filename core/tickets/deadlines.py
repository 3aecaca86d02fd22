"""Response targets: tickets whose first response is overdue are marked, once, for the team."""

from __future__ import annotations

import logging

from sqlalchemy import exists, select

from conversations import ticket_queries as q
from conversations.tables import Ticket, TicketEvent
from core.tickets import transitions as st
from core.tickets.base import ServiceBase

log = logging.getLogger(__name__)
BREACHED = "sla_breached"


class Deadlines(ServiceBase):
    """Finds tickets past their response target."""

    async def mark_sla_breaches(self, limit: int = 500) -> list[str]:
        """Record a ``sla_breached`` event on each active ticket past its first-response target.

        Each ticket is marked once; the console shows the marker and the queue sorts by it.
        Returns the numbers of the tickets marked now.
        """
        now = self._clock()
        marked: list[str] = []
        async with self._db.transaction() as session:
            overdue = await session.scalars(
                select(Ticket)
                .where(
                    Ticket.status.in_(st.ACTIVE),
                    Ticket.first_response_at.is_(None),
                    Ticket.sla_due_at < now,
                    ~exists().where(TicketEvent.ticket_id == Ticket.id, TicketEvent.kind == BREACHED),
                )
                .order_by(Ticket.sla_due_at)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
            for ticket in overdue.all():
                assert ticket.sla_due_at is not None
                late = now - ticket.sla_due_at
                await q.add_event(
                    session,
                    ticket.id,
                    BREACHED,
                    "system",
                    {
                        "priority": ticket.priority,
                        "due_at": ticket.sla_due_at.isoformat(),
                        "late_seconds": int(late.total_seconds()),
                    },
                    now,
                )
                marked.append(self._label(ticket))
        for label in marked:
            log.warning("ticket %s missed its first-response target", label)
        return marked

"""Status changes of the ticket service: set a status, solve, reopen, close, merge.

:class:`~core.tickets.service.TicketService` extends this class; it is split only to keep
each module readable.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from conversations import ticket_queries as q
from conversations.tables import Ticket
from core.tickets import handoff
from core.tickets import transitions as st
from core.tickets.base import ServiceBase, ThreadKey
from core.tickets.errors import InvalidTicketInput, InvalidTransition
from core.tickets.reading import view_of
from core.tickets.views import TicketView

log = logging.getLogger(__name__)


class Lifecycle(ServiceBase):
    """Status changes of tickets, each in one transaction."""

    async def set_status(self, number: str | int, status: str, actor: str = "agent") -> TicketView:
        """Move a ticket to another status (``solved`` and ``closed`` give the conversation back to the bot).

        Raises:
            TicketNotFound: No such ticket.
            InvalidTicketInput: Unknown status.
            InvalidTransition: The lifecycle does not allow it; the message lists what it allows.

        """
        st.check_status(status)
        now = self._clock()
        async with self._db.transaction() as session:
            ticket = await self._locked(session, number)
            changed = await self._record_status(session, ticket, status, actor, now)
            view = await view_of(session, ticket, self._settings)
        self._changed([changed])
        return view

    async def solve(self, number: str | int, actor: str = "agent") -> TicketView:
        """Mark a ticket solved; the bot answers its conversation again.

        Raises:
            TicketNotFound: No such ticket.
            InvalidTransition: It is already solved, or closed.

        """
        return await self.set_status(number, st.SOLVED, actor)

    async def reopen(self, number: str | int, actor: str = "agent") -> TicketView:
        """Reopen a solved ticket; its assignee, if any, takes the conversation again.

        Raises:
            TicketNotFound: No such ticket.
            InvalidTransition: It is not solved.

        """
        now = self._clock()
        async with self._db.transaction() as session:
            ticket = await self._locked(session, number)
            if ticket.status != st.SOLVED:
                raise InvalidTransition(
                    f"{self._label(ticket)} is {ticket.status}: only a solved ticket can be reopened"
                )
            changed = await self._record_status(session, ticket, st.OPEN, actor, now)
            view = await view_of(session, ticket, self._settings)
        self._changed([changed])
        return view

    async def merge(
        self, source_number: str | int, target_number: str | int, actor: str = "agent"
    ) -> TicketView:
        """Merge a ticket into another: the source is closed with a pointer to the target.

        Messages stay in their conversations; the target's transcript shows both. A
        conversation that pointed at the source points at the target. Returns the target.

        Raises:
            TicketNotFound: Either ticket does not exist.
            InvalidTicketInput: Both numbers are the same ticket.
            InvalidTransition: Either ticket is closed.

        """
        now = self._clock()
        async with self._db.transaction() as session:
            # Lock in number order so two opposite merges cannot deadlock.
            first, second = sorted([self._number(source_number), self._number(target_number)])
            if first == second:
                raise InvalidTicketInput(f"cannot merge {self._settings.format_number(first)} into itself")
            locked = {n: await self._locked(session, n) for n in (first, second)}
            source = locked[self._number(source_number)]
            target = locked[self._number(target_number)]
            source_label, target_label = self._label(source), self._label(target)
            st.ensure_active(source_label, source.status, "merge")
            st.ensure_active(target_label, target.status, f"merge {source_label} into")
            previous = source.status
            source.status = st.CLOSED
            source.details = {**source.details, "merged_into": target_label}
            source.updated_at = now
            merged = [*target.details.get("merged_from", []), source_label]
            target.details = {**target.details, "merged_from": merged}
            target.updated_at = now
            await q.add_event(
                session, source.id, "merged_into", actor, {"target": target_label, "from": previous}, now
            )
            await q.add_event(session, target.id, "merged", actor, {"source": source_label}, now)
            changed = await handoff.move_link(session, source, target)
            view = await view_of(session, target, self._settings)
        log.info("ticket %s merged into %s by %s", source_label, target_label, actor)
        self._changed([changed])
        return view

    async def record_status_in(
        self, session: AsyncSession, ticket: Ticket, status: str, actor: str, reason: str | None = None
    ) -> ThreadKey | None:
        """Change a locked ticket's status in the caller's transaction (a job that must do it once).

        After the commit, pass the returned key to :meth:`notify_changed`.

        Raises:
            InvalidTransition: The lifecycle does not allow it.

        """
        return await self._record_status(session, ticket, status, actor, self._clock(), reason)

    def notify_changed(self, keys: Iterable[ThreadKey | None]) -> None:
        """Tell the pipeline, after a commit, that these conversations changed (it drops their cache)."""
        self._changed(keys)

    async def _record_status(
        self,
        session: AsyncSession,
        ticket: Ticket,
        status: str,
        actor: str,
        now: datetime,
        reason: str | None = None,
    ) -> ThreadKey | None:
        """Apply a status change, its event and its effect on the conversation (not committed yet)."""
        previous = ticket.status
        st.check_transition(self._label(ticket), previous, status)
        ticket.status = status
        ticket.updated_at = now
        if self._follow_ups is not None:
            await self._follow_ups.status_changed(session, ticket, previous, now)
        data: dict[str, object] = {"from": previous, "to": status}
        if reason is not None:
            data["reason"] = reason
        if status == st.SOLVED:
            ticket.solved_at = now
            await q.add_event(session, ticket.id, "solved", actor, data, now)
            return await handoff.to_bot(session, ticket)
        if status == st.CLOSED:
            await q.add_event(session, ticket.id, "closed", actor, data, now)
            return await handoff.to_bot(session, ticket)
        if previous == st.SOLVED:
            ticket.solved_at = None
            await q.add_event(session, ticket.id, "reopened", actor, data, now)
            return await handoff.relink(session, ticket)
        await q.add_event(session, ticket.id, "status_changed", actor, data, now)
        return None

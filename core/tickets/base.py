"""What every part of the ticket service shares: the store, the settings, ticket lookup, notifications."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from conversations import ticket_queries as q
from conversations.database import Database
from conversations.tables import Ticket
from core.tickets.config import TicketSettings
from core.tickets.errors import TicketNotFound

log = logging.getLogger(__name__)
ThreadKey = tuple[str, str]


class StatusListener(Protocol):
    """Follow-up work on a status change, in its transaction (surveys, reminders)."""

    async def status_changed(
        self, session: AsyncSession, ticket: Ticket, previous: str, now: datetime
    ) -> None:
        """``ticket.status`` has just changed from ``previous``; queue or cancel follow-up jobs."""


class ServiceBase:
    """The state and helpers of :class:`~core.tickets.service.TicketService`'s parts."""

    _follow_ups: StatusListener | None = None

    def __init__(
        self,
        db: Database,
        settings: TicketSettings,
        on_conversation_changed: Callable[[str, str], None] | None,
        clock: Callable[[], datetime],
    ) -> None:
        self._db = db
        self._settings = settings
        self._on_conversation_changed = on_conversation_changed
        self._clock = clock

    async def _locked(self, session: AsyncSession, number: str | int) -> Ticket:
        ticket = await q.ticket_by_number(session, self._number(number), lock=True)
        if ticket is None:
            raise TicketNotFound(f"no ticket {self._settings.format_number(self._number(number))}")
        return ticket

    async def _find(self, session: AsyncSession, number: str | int) -> Ticket:
        ticket = await q.ticket_by_number(session, self._number(number))
        if ticket is None:
            raise TicketNotFound(f"no ticket {self._settings.format_number(self._number(number))}")
        return ticket

    async def _by_reference(self, session: AsyncSession, reference: object) -> Ticket | None:
        number = self._settings.parse_number(str(reference))
        return await q.ticket_by_number(session, number) if number is not None else None

    def _number(self, reference: str | int) -> int:
        number = self._settings.parse_number(reference)
        if number is None:
            raise TicketNotFound(
                f"{reference!r} is not a ticket number (e.g. {self._settings.format_number(1001)})"
            )
        return number

    def ticket_label(self, number: int) -> str:
        """The human-friendly form of a ticket number: ``1001`` → ``"HL-1001"``."""
        return self._settings.format_number(number)

    def parse_ticket_number(self, reference: str) -> int | None:
        """``"HL-1001"``, ``"#1001"`` or ``"1001"`` → ``1001``; ``None`` if it is not one."""
        return self._settings.parse_number(reference)

    def _label(self, ticket: Ticket) -> str:
        return self._settings.format_number(ticket.number)

    def _changed(self, keys: Iterable[ThreadKey | None]) -> None:
        """Tell the pipeline, after the commit, which conversations changed."""
        if self._on_conversation_changed is None:
            return
        for key in dict.fromkeys(k for k in keys if k is not None):
            try:
                self._on_conversation_changed(*key)
            except Exception:
                # The change is committed; a failing listener must not make it look failed.
                log.exception("on_conversation_changed failed for %s/%s", *key)

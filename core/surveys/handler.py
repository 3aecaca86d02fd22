"""What the survey and follow-up job handlers share: their set-up and what follows a commit."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from conversations.database import Database
from core.pipeline import utcnow
from core.surveys.settings import SurveySettings
from core.tickets import TicketService
from core.tickets.base import ThreadKey


class TicketJobHandler:
    """The base of the services that run a ticket's follow-up jobs.

    Args:
        db: The store.
        settings: Delays, expiry and switches.
        tickets: The ticket service (numbers, status changes, cache invalidation).
        on_queued: Called after a message was queued (wakes the dispatcher).
        clock: The current time (tests move it).

    """

    def __init__(
        self,
        db: Database,
        settings: SurveySettings,
        tickets: TicketService,
        *,
        on_queued: Callable[[], None] | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._db = db
        self._settings = settings
        self._tickets = tickets
        self._on_queued = on_queued
        self._clock = clock

    def _after(self, changed: list[ThreadKey | None], sent: bool) -> None:
        """After the commit: drop the changed conversations' cache, wake the dispatcher if sent."""
        self._tickets.notify_changed(changed)
        if sent and self._on_queued is not None:
            self._on_queued()

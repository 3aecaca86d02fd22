"""Following up a ticket that waits on the customer: a reminder, then solving it.

Both jobs carry the ticket's ``updated_at`` from when it started waiting; if the ticket has
changed since (the customer answered, an agent acted), the job does nothing. Each job's
message, status change and completion are one transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from conversations import jobs
from conversations import repository as repo
from conversations import survey_queries as sq
from conversations import ticket_queries as q
from conversations.database import Database
from conversations.tables import Conversation, Ticket
from conversations.values import Author, Surface
from core.pipeline import utcnow
from core.surveys.scheduling import AUTO_SOLVE_JOB, stamp
from core.surveys.settings import SurveySettings
from core.surveys.texts import texts, wait
from core.tickets import TicketService
from core.tickets import transitions as st
from core.tickets.base import ThreadKey

log = logging.getLogger(__name__)


class FollowUpService:
    """Runs the ``reminder`` and ``auto_solve`` jobs.

    Args:
        db: The store.
        settings: How long to wait before solving.
        tickets: The ticket service (solving, numbers, cache invalidation).
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

    async def remind(self, job: jobs.ClaimedJob) -> None:
        """Remind the customer that their ticket waits for them; solving follows later."""
        now = self._clock()
        async with self._db.transaction() as session:
            found = await self._unchanged(session, job, now)
            if found is None:
                return
            ticket, conversation = found
            label = self._tickets.ticket_label(ticket.number)
            lang = conversation.language
            text = texts(lang)["reminder"].format(
                ticket=label, wait=wait(self._settings.auto_solve_after, lang)
            )
            sent = await self._tell(session, conversation, text, now)
            await q.add_event(session, ticket.id, "reminder_sent", "system", {"delivered": sent}, now)
            since = str(job.payload.get("updated_at"))
            follow = jobs.NewJob(
                AUTO_SOLVE_JOB,
                {"status": st.PENDING_CUSTOMER, "updated_at": since},
                now + self._settings.auto_solve_after,
                conversation_id=conversation.id,
                ticket_id=ticket.id,
                dedupe_key=f"{AUTO_SOLVE_JOB}:{ticket.id}:{since}",
            )
            await jobs.enqueue(session, [follow], now)
            await jobs.complete(session, job.id, now)
            changed = (conversation.channel, conversation.thread_key)
        log.info("ticket %s: reminded the customer", label)
        self._after([changed], sent)

    async def auto_solve(self, job: jobs.ClaimedJob) -> None:
        """Solve a ticket still waiting on the customer after the reminder, and tell them."""
        now = self._clock()
        async with self._db.transaction() as session:
            found = await self._unchanged(session, job, now)
            if found is None:
                return
            ticket, conversation = found
            label = self._tickets.ticket_label(ticket.number)
            solved = await self._tickets.record_status_in(
                session, ticket, st.SOLVED, "system", reason="no reply from the customer"
            )
            text = texts(conversation.language)["auto_solved"].format(ticket=label)
            sent = await self._tell(session, conversation, text, now)
            await jobs.complete(session, job.id, now)
            changed = (conversation.channel, conversation.thread_key)
        log.info("ticket %s solved: no reply from the customer", label)
        self._after([solved, changed], sent)

    async def _unchanged(
        self, session: AsyncSession, job: jobs.ClaimedJob, now: datetime
    ) -> tuple[Ticket, Conversation] | None:
        """The locked ticket and conversation, or ``None`` (job completed) if the ticket moved on."""
        if job.ticket_id is None:
            raise ValueError(f"{job.kind} job {job.id} names no ticket")
        ticket = await sq.locked_ticket(session, job.ticket_id)
        if await q.job_done(session, job.id):
            return None
        if ticket is None or not _still_waiting(ticket, job.payload):
            log.info("%s for ticket %s not needed: the ticket changed", job.kind, job.ticket_id)
            await jobs.complete(session, job.id, now)
            return None
        conversation = await q.conversation(session, ticket.conversation_id, lock=True)
        assert conversation is not None  # the foreign key
        return ticket, conversation

    async def _tell(
        self, session: AsyncSession, conversation: Conversation, text: str, now: datetime
    ) -> bool:
        if conversation.surface == Surface.PUBLIC.value:
            return False  # never about a customer's ticket in public
        reply = repo.NewReply(text, (), Author.SYSTEM)
        await repo.add_replies(session, conversation.id, conversation.channel, [reply], now)
        conversation.last_message_at = now
        return True

    def _after(self, changed: list[ThreadKey | None], sent: bool) -> None:
        self._tickets.notify_changed(changed)
        if sent and self._on_queued is not None:
            self._on_queued()


def _still_waiting(ticket: Ticket, payload: Mapping[str, Any]) -> bool:
    return ticket.status == payload.get("status") == st.PENDING_CUSTOMER and stamp(
        ticket.updated_at
    ) == payload.get("updated_at")

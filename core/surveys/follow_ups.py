"""Following up a ticket that waits on the customer: a reminder, then solving it.

Both jobs carry the ticket's ``updated_at`` from when it started waiting; if the ticket has
changed since (the customer answered, an agent acted), the job does nothing. Each job's
message, status change and completion are one transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from conversations import jobs
from conversations import repository as repo
from conversations import survey_queries as sq
from conversations import ticket_queries as q
from conversations.tables import Conversation, Ticket
from conversations.values import Author, Surface
from core.surveys.handler import TicketJobHandler
from core.surveys.scheduling import AUTO_SOLVE_JOB, stamp, waiting_job
from core.surveys.texts import texts, wait
from core.tickets import transitions as st
from core.tickets.base import ThreadKey

log = logging.getLogger(__name__)
# One follow-up's work inside the job's transaction, given the locked ticket, its conversation,
# the ticket's label and the time: the other conversations it changed, and whether it queued a
# message to the customer.
_Step = Callable[
    [AsyncSession, Ticket, Conversation, str, datetime],
    Awaitable[tuple[list[ThreadKey | None], bool]],
]


class FollowUpService(TicketJobHandler):
    """Runs the ``reminder`` and ``auto_solve`` jobs.

    Args:
        db: The store.
        settings: How long to wait before solving.
        tickets: The ticket service (solving, numbers, cache invalidation).
        on_queued: Called after a message was queued (wakes the dispatcher).
        clock: The current time (tests move it).

    """

    async def remind(self, job: jobs.ClaimedJob) -> None:
        """Remind the customer that their ticket waits for them; solving follows later."""

        async def step(
            session: AsyncSession, ticket: Ticket, conversation: Conversation, label: str, now: datetime
        ) -> tuple[list[ThreadKey | None], bool]:
            lang = conversation.language
            text = texts(lang)["reminder"].format(
                ticket=label, wait=wait(self._settings.auto_solve_after, lang)
            )
            sent = await self._tell(session, conversation, text, now)
            await q.add_event(session, ticket.id, "reminder_sent", "system", {"delivered": sent}, now)
            since = str(job.payload.get("updated_at"))
            due = now + self._settings.auto_solve_after
            follow = waiting_job(AUTO_SOLVE_JOB, ticket.id, conversation.id, since, due)
            await jobs.enqueue(session, [follow], now)
            return [], sent

        await self._follow_up(job, step, "ticket %s: reminded the customer")

    async def auto_solve(self, job: jobs.ClaimedJob) -> None:
        """Solve a ticket still waiting on the customer after the reminder, and tell them."""

        async def step(
            session: AsyncSession, ticket: Ticket, conversation: Conversation, label: str, now: datetime
        ) -> tuple[list[ThreadKey | None], bool]:
            solved = await self._tickets.record_status_in(
                session, ticket, st.SOLVED, "system", reason="no reply from the customer"
            )
            text = texts(conversation.language)["auto_solved"].format(ticket=label)
            return [solved], await self._tell(session, conversation, text, now)

        await self._follow_up(job, step, "ticket %s solved: no reply from the customer")

    async def _follow_up(self, job: jobs.ClaimedJob, step: _Step, done: str) -> None:
        """Run ``step`` and complete ``job`` in one transaction, unless the ticket moved on.

        Args:
            job: The ``reminder`` or ``auto_solve`` job.
            step: The job's own work.
            done: The log line once it is done (``%s`` is the ticket's label).

        """
        now = self._clock()
        async with self._db.transaction() as session:
            found = await self._unchanged(session, job, now)
            if found is None:
                return
            ticket, conversation = found
            label = self._tickets.ticket_label(ticket.number)
            changed, sent = await step(session, ticket, conversation, label, now)
            await jobs.complete(session, job.id, now)
            changed.append((conversation.channel, conversation.thread_key))
        log.info(done, label)
        self._after(changed, sent)

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


def _still_waiting(ticket: Ticket, payload: Mapping[str, Any]) -> bool:
    return ticket.status == payload.get("status") == st.PENDING_CUSTOMER and stamp(
        ticket.updated_at
    ) == payload.get("updated_at")

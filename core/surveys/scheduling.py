"""Follow-up jobs queued in the transaction of a ticket's status change.

Solved: a ``survey`` job, due after the channel's delay, once per ticket (its dedupe key);
reopened: the survey job is cancelled (and revived if the ticket is solved again).
Waiting on the customer: a ``reminder`` job; its handler does nothing if the ticket has
changed since, so an answer or an agent's action makes it moot.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from conversations import jobs
from conversations import survey_queries as sq
from conversations.tables import Conversation, Ticket
from core.surveys.settings import SurveySettings
from core.tickets import transitions as st

SURVEY_JOB = "survey"
REMINDER_JOB = "reminder"
AUTO_SOLVE_JOB = "auto_solve"


def stamp(moment: datetime) -> str:
    """A ticket's ``updated_at`` as follow-up jobs carry it (and compare it)."""
    return moment.isoformat()


def waiting_job(kind: str, ticket_id: int, conversation_id: int, since: str, due: datetime) -> jobs.NewJob:
    """A ``reminder`` or ``auto_solve`` job for a ticket waiting on the customer.

    Args:
        kind: The job's kind.
        ticket_id: The waiting ticket.
        conversation_id: The ticket's conversation.
        since: The ticket's :func:`stamp` when it started waiting (the job is moot once it moves).
        due: When the job may run.

    """
    return jobs.NewJob(
        kind,
        {"status": st.PENDING_CUSTOMER, "updated_at": since},
        due,
        conversation_id=conversation_id,
        ticket_id=ticket_id,
        dedupe_key=f"{kind}:{ticket_id}:{since}",
    )


class FollowUpScheduler:
    """The ticket service's :class:`~core.tickets.base.StatusListener` for surveys and reminders.

    Args:
        settings: Delays and switches.

    """

    def __init__(self, settings: SurveySettings) -> None:
        self._settings = settings

    async def status_changed(
        self, session: AsyncSession, ticket: Ticket, previous: str, now: datetime
    ) -> None:
        """Queue or cancel the ticket's follow-up jobs in the status change's transaction."""
        if ticket.status == st.SOLVED and self._settings.enabled:
            channel = await session.scalar(
                select(Conversation.channel).where(Conversation.id == ticket.conversation_id)
            )
            due = now + self._settings.delay(channel or "")
            key = f"{SURVEY_JOB}:{ticket.id}"
            job = jobs.NewJob(
                SURVEY_JOB,
                {},
                due,
                conversation_id=ticket.conversation_id,
                ticket_id=ticket.id,
                dedupe_key=key,
            )
            await jobs.enqueue(session, [job], now)
            await sq.revive_cancelled(session, key, due)
        elif previous == st.SOLVED and ticket.status in st.ACTIVE:
            await jobs.cancel(session, ticket_id=ticket.id, kinds=[SURVEY_JOB])
        if previous == st.PENDING_CUSTOMER:
            await jobs.cancel(session, ticket_id=ticket.id, kinds=[REMINDER_JOB, AUTO_SOLVE_JOB])
        if ticket.status == st.PENDING_CUSTOMER and self._settings.follow_ups:
            due = now + self._settings.reminder_after
            job = waiting_job(REMINDER_JOB, ticket.id, ticket.conversation_id, stamp(ticket.updated_at), due)
            await jobs.enqueue(session, [job], now)

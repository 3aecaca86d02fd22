"""Sending surveys when they are due, and the answers that come by link or reopen the ticket.

The ``survey`` job's handler does everything in one transaction: checks the ticket is
still solved, the customer has not opted out, the conversation is private (a survey is
never posted in public: X mentions, group chats), and no survey was sent for the ticket;
then stores the survey, its state in the conversation, the message with its buttons and
the job's completion. A job run twice, or after a restart, sends one survey.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from conversations import repository as repo
from conversations import survey_queries as sq
from conversations import ticket_queries as q
from conversations.database import Database
from conversations.jobs import ClaimedJob
from conversations.jobs import complete as complete_job
from conversations.survey_answers import AnswerStored, SurveyAnswer, apply_answer
from conversations.tables import Conversation, Survey, Ticket
from conversations.values import Author, Surface
from core.pipeline import utcnow
from core.surveys import answers, links
from core.surveys.handler import TicketJobHandler
from core.surveys.links import survey_token
from core.surveys.settings import SurveySettings
from core.surveys.texts import language, texts
from core.tickets import InvalidTransition, TicketNotFound, TicketService
from core.tickets import transitions as st

log = logging.getLogger(__name__)
SENT = "sent"


@dataclass(frozen=True, slots=True)
class LinkResult:
    """What a survey link did.

    Attributes:
        outcome: ``rated``, ``commented``, ``opted_out``, ``already`` (answered before: nothing
            changed), ``closed`` (expired: nothing changed) or ``unknown`` (no such survey).
        rating: The stored rating, if any.
        ticket: The surveyed ticket's number (``HL-1001``).
        language: The conversation's language, for the page.

    """

    outcome: str
    rating: int | None = None
    ticket: str | None = None
    language: str = "en"


class SurveyService(TicketJobHandler):
    """Sends due surveys and records answers given outside the conversation.

    Args:
        db: The store.
        settings: Expiry and switches.
        tickets: The ticket service (numbers, reopening, cache invalidation).
        secret: The link secret (see :func:`core.surveys.settings.link_secret`).
        on_queued: As for :class:`~core.surveys.handler.TicketJobHandler`.
        clock: As for :class:`~core.surveys.handler.TicketJobHandler`.

    """

    def __init__(
        self,
        db: Database,
        settings: SurveySettings,
        tickets: TicketService,
        secret: bytes,
        *,
        on_queued: Callable[[], None] | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        super().__init__(db, settings, tickets, on_queued=on_queued, clock=clock)
        self._secret = secret

    def link_is_valid(self, token: str, answer: str, expires: str, sig: str) -> bool:
        """Whether a survey link's signature is ours (its expiry is checked separately)."""
        return links.valid(self._secret, token, answer, expires, sig)

    async def send_due(self, job: ClaimedJob) -> None:
        """Run a ``survey`` job: send the ticket's survey, or record why it is not sent."""
        if job.ticket_id is None:
            raise ValueError(f"survey job {job.id} names no ticket")
        now = self._clock()
        async with self._db.transaction() as session:
            ticket = await sq.locked_ticket(session, job.ticket_id)
            if await q.job_done(session, job.id):
                return  # another worker sent it while we waited for the lock
            conversation = (
                await q.conversation(session, ticket.conversation_id, lock=True) if ticket else None
            )
            reason = await self._reason_not_to_send(session, ticket, conversation)
            if reason is not None or ticket is None or conversation is None:
                log.info("survey for ticket %s not sent: %s", job.ticket_id, reason)
                if ticket is not None:
                    await q.add_event(session, ticket.id, "survey_skipped", "system", {"reason": reason}, now)
                await complete_job(session, job.id, now)
                return
            await self._send(session, ticket, conversation, job.due_at, now)
            await complete_job(session, job.id, now)
            changed = (conversation.channel, conversation.thread_key)
        self._after([changed], sent=True)

    async def _reason_not_to_send(
        self, session: AsyncSession, ticket: Ticket | None, conversation: Conversation | None
    ) -> str | None:
        if ticket is None or conversation is None:
            return "the ticket no longer exists"
        if not self._settings.enabled:
            return "surveys are disabled"
        if ticket.status not in (st.SOLVED, st.CLOSED) or ticket.details.get("merged_into"):
            return f"the ticket is {ticket.status}"
        if conversation.surface == Surface.PUBLIC.value:
            return "the conversation is public"
        if await sq.opted_out(session, conversation.contact_id):
            return "the customer opted out of surveys"
        if await sq.survey_of_ticket(session, ticket.id) is not None:
            return "a survey was sent already"
        return None

    async def _send(
        self,
        session: AsyncSession,
        ticket: Ticket,
        conversation: Conversation,
        due_at: datetime,
        now: datetime,
    ) -> None:
        expires = now + self._settings.expires_after
        survey = Survey(
            ticket_id=ticket.id,
            conversation_id=conversation.id,
            channel=conversation.channel,
            status=SENT,
            due_at=due_at,
            sent_at=now,
            expires_at=expires,
            created_at=now,
        )
        session.add(survey)
        await session.flush()
        survey.token = survey_token(self._secret, survey.id)
        label = self._tickets.ticket_label(ticket.number)
        lang = conversation.language
        conversation.bot_state = {
            **conversation.bot_state,
            answers.STATE: answers.survey_state(survey.id, label, expires),
        }
        conversation.last_message_at = now
        text = texts(lang)["ask"].format(ticket=label)
        reply = repo.NewReply(text, answers.rating_buttons(survey.id, lang), Author.BOT)
        await repo.add_replies(session, conversation.id, conversation.channel, [reply], now)
        await q.add_event(session, ticket.id, "survey_sent", "system", {"survey_id": survey.id}, now)
        log.info("survey %s sent for ticket %s on %s", survey.id, label, conversation.channel)

    async def reopen_requested(self, job: ClaimedJob) -> None:
        """Run a ``reopen_ticket`` job: the customer asked to reopen after a low rating."""
        if job.ticket_id is None:
            raise ValueError(f"reopen job {job.id} names no ticket")
        async with self._db.reader() as session:
            ticket = await q.ticket_by_id(session, job.ticket_id)
        if ticket is None:
            return
        try:
            await self._tickets.reopen(ticket.number, actor="customer")
        except (InvalidTransition, TicketNotFound) as exc:
            log.info("ticket %s not reopened after its survey: %s", ticket.number, exc)

    async def rate_by_link(self, token: str, rating: int) -> LinkResult:
        """Record a rating from a signed link (the first answer wins)."""
        return await self._by_link(token, SurveyAnswer(None, rating=rating))

    async def comment_by_link(self, token: str, comment: str) -> LinkResult:
        """Record the comment of a survey rated before (once)."""
        return await self._by_link(token, SurveyAnswer(None, comment=comment))

    async def opt_out_by_link(self, token: str) -> LinkResult:
        """No more surveys for the survey's customer."""
        return await self._by_link(token, SurveyAnswer(None, opt_out=True))

    async def closed(self, token: str) -> LinkResult:
        """The survey of an expired link, unchanged (its page speaks the customer's language)."""
        async with self._db.reader() as session:
            survey = await sq.survey_by_token(session, token)
            if survey is None:
                return LinkResult("unknown")
            conversation = await q.conversation(session, survey.conversation_id)
            ticket = await q.ticket_by_id(session, survey.ticket_id)
            assert conversation is not None and ticket is not None  # foreign keys
            label = self._tickets.ticket_label(ticket.number)
            return LinkResult("closed", survey.rating, label, language(conversation.language))

    async def _by_link(self, token: str, answer: SurveyAnswer) -> LinkResult:
        now = self._clock()
        changed = None
        async with self._db.transaction() as session:
            survey = await sq.survey_by_token(session, token, lock=True)
            if survey is None:
                return LinkResult("unknown")
            conversation = await q.conversation(session, survey.conversation_id, lock=True)
            ticket = await q.ticket_by_id(session, survey.ticket_id)
            assert conversation is not None and ticket is not None  # foreign keys
            label = self._tickets.ticket_label(ticket.number)
            lang = language(conversation.language)
            if survey.expires_at is not None and survey.expires_at <= now and not answer.opt_out:
                return LinkResult("closed", survey.rating, label, lang)
            named, conversation_id = dataclasses.replace(answer, survey_id=survey.id), conversation.id
            connection = await session.connection()
            stored: AnswerStored = await connection.run_sync(
                lambda sync: apply_answer(sync, conversation_id, named, now)
            )
            await session.refresh(survey)
            state = conversation.bot_state.get(answers.STATE)
            if stored.rating and isinstance(state, dict) and state.get("id") == survey.id:
                # The page asks for the comment: the chat must not take the next message for it.
                conversation.bot_state = {
                    **conversation.bot_state,
                    answers.STATE: {**state, "status": answers.DONE, "rating": survey.rating},
                }
                changed = (conversation.channel, conversation.thread_key)
        if changed is not None:
            self._tickets.notify_changed([changed])
        if answer.opt_out:
            return LinkResult("opted_out", survey.rating, label, lang)
        if stored.rating:
            return LinkResult("rated", survey.rating, label, lang)
        if stored.comment:
            return LinkResult("commented", survey.rating, label, lang)
        return LinkResult("already", survey.rating, label, lang)

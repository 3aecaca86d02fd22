"""The ticket service: every action the bot or an agent takes on a ticket, one transaction each.

After each commit that changed who answers a conversation (bot or agent), the pipeline is
told through ``on_conversation_changed`` so it drops its cached state; after a reply is
queued, ``on_queued`` wakes the dispatcher.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from conversations import repository as repo
from conversations import ticket_queries as q
from conversations.database import Database
from conversations.jobs import ClaimedJob
from conversations.jobs import complete as complete_job
from conversations.tables import Conversation, Ticket
from conversations.ticket_opening import NewTicket, insert_ticket
from conversations.values import Author
from core.pipeline import storable, utcnow
from core.tickets import handoff
from core.tickets import transitions as st
from core.tickets.acknowledgement import acknowledgement
from core.tickets.assignment import Assignment, agent_of
from core.tickets.base import StatusListener
from core.tickets.config import TicketSettings
from core.tickets.deadlines import Deadlines
from core.tickets.errors import ConversationNotFound, InvalidTicketInput
from core.tickets.lifecycle import Lifecycle
from core.tickets.limits import DAY, redirect_request
from core.tickets.lookup import Lookup, check_priority
from core.tickets.priority import PriorityDecision, decide_priority
from core.tickets.reading import view_of
from core.tickets.views import TicketView

log = logging.getLogger(__name__)
COUNTER = "ticket"
# How many of the customer's latest messages the priority rules read.
CUSTOMER_TEXTS = 5


class TicketService(Assignment, Deadlines, Lifecycle, Lookup):
    """Opens tickets and carries out agents' actions on them.

    Args:
        db: The store.
        settings: Numbering, response targets and priority rules.
        on_queued: Called after a reply was queued for delivery (wakes the dispatcher).
        on_conversation_changed: Called with ``(channel, thread_key)`` after a commit that
            changed a conversation's status, agent or ticket (``Pipeline.forget``).
        clock: The current time (tests move it).
        follow_ups: Queues follow-up jobs when a status changes (surveys, reminders).
        max_tickets_per_day: Tickets one contact may open in 24 hours; beyond, a request
            joins their latest active ticket (see :mod:`core.tickets.limits`). ``None``: no limit.

    """

    def __init__(
        self,
        db: Database,
        settings: TicketSettings,
        *,
        on_queued: Callable[[], None] | None = None,
        on_conversation_changed: Callable[[str, str], None] | None = None,
        clock: Callable[[], datetime] = utcnow,
        follow_ups: StatusListener | None = None,
        max_tickets_per_day: int | None = None,
    ) -> None:
        super().__init__(db, settings, on_conversation_changed, clock)
        self._on_queued = on_queued
        self._follow_ups = follow_ups
        self._max_tickets_per_day = max_tickets_per_day

    async def open(
        self,
        conversation_id: int,
        subject: str,
        category: str | None,
        priority: str | None = None,
        details: Mapping[str, Any] | None = None,
        actor: str = "bot",
    ) -> TicketView:
        """Open a ticket for a conversation and link the conversation to it.

        Args:
            conversation_id: The customer's conversation.
            subject: A one-line summary.
            category: E.g. ``"withdrawal_missing"``; drives the priority rules.
            priority: Forces a priority; ``None`` lets the rules decide.
            details: Facts gathered by the bot (order id, txid, asset, amount...).
            actor: Who opens it, for the audit trail.

        Raises:
            ConversationNotFound: No such conversation.
            InvalidTicketInput: Empty subject or unknown priority.

        """
        subject = " ".join(subject.split())[:300]
        if not subject:
            raise InvalidTicketInput("a ticket needs a subject")
        if priority is not None:
            check_priority(priority)
        now = self._clock()
        async with self._db.transaction() as session:
            # The counter's lock first: it orders concurrent openers before they read anything.
            number = await q.lock_counter(session, COUNTER, self._settings.number_start) + 1
            conversation = await q.conversation(session, conversation_id, lock=True)
            if conversation is None:
                raise ConversationNotFound(f"no conversation {conversation_id}")
            ticket_id, _ = await self._write_ticket(
                session,
                conversation,
                number,
                subject,
                category,
                dict(details or {}),
                forced=priority,
                base=None,
                actor=actor,
                now=now,
            )
            ticket = await session.get(Ticket, ticket_id)
            assert ticket is not None
            changed = (conversation.channel, conversation.thread_key)
            view = await view_of(session, ticket, self._settings)
        log.info("ticket %s opened (%s, %s) by %s", view.number, view.priority, category, actor)
        self._changed([changed])
        return view

    async def open_requested(self, job: ClaimedJob) -> None:
        """Run an ``open_ticket`` job a turn queued: open the ticket and acknowledge it.

        If the conversation already has an active ticket, the request is added to it
        instead; so it is when the contact has reached the daily ticket limit. The ticket,
        the acknowledgement and the job's completion are one transaction, so a job run
        twice (a crash, a second worker) opens one ticket. A new ticket is decided first and
        then written at once (:func:`conversations.ticket_opening.insert_ticket`).
        """
        payload = job.payload
        conversation_id = job.conversation_id
        if conversation_id is None:
            raise InvalidTicketInput(f"job {job.id} names no conversation")
        language = str(payload.get("language") or "en")
        details = dict(payload.get("details") or {})
        subject = " ".join(str(payload.get("subject") or "").split())[:300] or "Support request"
        now = self._clock()
        async with self._db.transaction() as session:
            with session.no_autoflush:
                # Nothing is flushed before the commit: the conversation's changes, if any,
                # then go out as one UPDATE.
                outcome = await self._requested(
                    session, job, conversation_id, language, details, subject, now
                )
        if outcome is not None:  # after the commit: others may now read what it wrote
            label, changed = outcome
            log.info("ticket %s for conversation %s (%s)", label, conversation_id, payload.get("reason"))
            self._changed([changed])
            if self._on_queued is not None:
                self._on_queued()

    async def _requested(
        self,
        session: AsyncSession,
        job: ClaimedJob,
        conversation_id: int,
        language: str,
        details: dict[str, Any],
        subject: str,
        now: datetime,
    ) -> tuple[str, tuple[str, str]] | None:
        """The work of :meth:`open_requested` in its transaction: the ticket's label and the conversation."""
        payload = job.payload
        # The counter's lock first: it orders concurrent runs of this job (and openers for one
        # contact) before they read anything, so the job's status read next is current. The
        # counter advances only if a new ticket is written, so numbers are never skipped.
        number = await q.lock_counter(session, COUNTER, self._settings.number_start) + 1
        conversation, done = await q.conversation_for_job(session, conversation_id, job.id)
        if done:
            return None  # another worker finished it while we waited for the counter
        if conversation is None:
            raise ConversationNotFound(f"no conversation {conversation_id}")
        changed = (conversation.channel, conversation.thread_key)
        current = await q.ticket_by_id(session, conversation.ticket_id) if conversation.ticket_id else None
        if current is None or current.status not in st.ACTIVE:
            opened = await self._contact_tickets(session, conversation.contact_id, now)
            if not self._max_tickets_per_day or opened.since_day < self._max_tickets_per_day:
                _, label = await self._write_ticket(
                    session,
                    conversation,
                    number,
                    subject,
                    payload.get("category"),
                    details,
                    forced=None,
                    base=payload.get("priority"),
                    actor="bot",
                    now=now,
                    opened=opened,
                    acknowledge_in=language,
                    job_id=job.id,
                )
                return label, changed
            redirected = await redirect_request(
                session,
                conversation,
                details,
                payload.get("reason"),
                language,
                now,
                self._label,
                self._max_tickets_per_day,
            )
            ticket, text = redirected.ticket, redirected.text
        else:
            current.details = {**current.details, "requests": [*current.details.get("requests", []), details]}
            current.updated_at = now
            await q.add_event(
                session, current.id, "customer_request", "bot", {"reason": payload.get("reason")}, now
            )
            ticket, text = current, acknowledgement(self._label(current), None, language, added=True)
        await repo.add_replies(
            session, conversation.id, conversation.channel, [repo.NewReply(text, (), Author.SYSTEM)], now
        )
        conversation.last_message_at = now
        await complete_job(session, job.id, now)
        return (self._label(ticket) if ticket is not None else "none (daily limit)"), changed

    async def _write_ticket(
        self,
        session: AsyncSession,
        conversation: Conversation,
        number: int,
        subject: str,
        category: str | None,
        details: dict[str, Any],
        *,
        forced: str | None,
        base: str | None,
        actor: str,
        now: datetime,
        opened: q.ContactTickets | None = None,
        acknowledge_in: str | None = None,
        job_id: int | None = None,
    ) -> tuple[int, str]:
        """Decide a new ticket (priority, response target, acknowledgement) and store it at once.

        Args:
            session: The transaction, holding the counter's and the conversation's locks.
            conversation: The conversation it is for.
            number: Its number (the counter's next value).
            subject: One line.
            category: Drives the priority rules.
            details: The facts gathered (the priority's reasons and any redactions are added).
            forced: A priority set by whoever opens it, instead of the rules.
            base: The priority the rules start from (a form's), if any.
            actor: Who opens it, for the audit trail.
            now: The time.
            opened: The contact's recent tickets, if already read.
            acknowledge_in: Tell the customer, in this language (the bot's tickets).
            job_id: The ``open_ticket`` job the same write completes.

        Returns:
            The ticket's row id and its label.

        """
        history = await q.customer_history(session, conversation.id, CUSTOMER_TEXTS)
        if opened is None:
            opened = await self._contact_tickets(session, conversation.contact_id, now)
        decision = self._priority(category, subject, details, forced, actor, base, opened, history)
        wait = self._settings.sla(decision.priority)
        sla_due_at = now + wait
        facts: dict[str, Any] = {**details, "priority_reasons": list(decision.reasons)}
        events: list[tuple[str, str, Mapping[str, Any]]] = [
            ("opened", actor, _opened_event(decision, category, sla_due_at))
        ]
        if history.redaction_kinds:
            # The agent must know the customer exposed a secret, never what it was.
            facts["redactions"] = history.redaction_kinds
            events.append(("redaction", "bot", {"kinds": history.redaction_kinds}))
        label = self.ticket_label(number)
        text = None
        if acknowledge_in is not None:
            text = acknowledgement(label, decision.priority, acknowledge_in, wait=wait)
        ticket_id = await insert_ticket(
            session,
            NewTicket(
                number=number,
                counter=COUNTER,
                conversation_id=conversation.id,
                contact_id=conversation.contact_id,
                channel=conversation.channel,
                subject=subject,
                category=category,
                priority=decision.priority,
                status=st.NEW,
                details=facts,
                sla_due_at=sla_due_at,
                events=events,
                acknowledgement=text,
                job_id=job_id,
                now=now,
            ),
        )
        return ticket_id, label

    async def _contact_tickets(
        self, session: AsyncSession, contact_id: int, now: datetime
    ) -> q.ContactTickets:
        rules = self._settings.priority
        return await q.contact_tickets(
            session, contact_id, day=now - DAY, repeat=now - timedelta(days=rules.repeat_window_days)
        )

    async def reply(self, number: str | int, agent_id: int, text: str) -> TicketView:
        """Send an agent's reply to the customer on their channel.

        The message and its outbox entry are stored in the ticket's transaction. The first
        reply sets ``first_response_at``; ``new`` becomes ``open`` and a solved ticket is
        reopened. The agent takes the conversation (and the ticket, if unassigned).

        Raises:
            TicketNotFound: No such ticket.
            UnknownAgent: No such active agent.
            InvalidTransition: The ticket is closed.
            InvalidTicketInput: The text is empty.

        """
        body = _text(text, "reply")
        now = self._clock()
        async with self._db.transaction() as session:
            ticket = await self._locked(session, number)
            agent = await agent_of(session, agent_id)
            label = self._label(ticket)
            st.ensure_active(label, ticket.status, "reply to")
            reopened = None
            if ticket.status == st.SOLVED:
                reopened = await self._record_status(
                    session, ticket, st.OPEN, agent.email, now, "agent reply"
                )
            conversation = await q.conversation(session, ticket.conversation_id)
            assert conversation is not None
            [stored] = await repo.add_replies(
                session,
                conversation.id,
                conversation.channel,
                [repo.NewReply(body, (), Author.AGENT, agent.id)],
                now,
            )
            first = ticket.first_response_at is None
            if first:
                ticket.first_response_at = now
            if ticket.status == st.NEW:
                ticket.status = st.OPEN
            if ticket.assignee_id is None:
                ticket.assignee_id = agent.id
            ticket.updated_at = now
            conversation.last_message_at = now
            changed = await handoff.to_agent(session, ticket, agent.id)
            await q.add_event(
                session,
                ticket.id,
                "replied",
                agent.email,
                {"agent_id": agent.id, "message_id": stored.id, "first_response": first},
                now,
            )
            view = await view_of(session, ticket, self._settings)
        self._changed([reopened, changed])
        if self._on_queued is not None:
            self._on_queued()
        return view

    async def note(self, number: str | int, agent_id: int, text: str) -> TicketView:
        """Add an internal note: stored in the conversation, marked internal, never delivered.

        Raises:
            TicketNotFound: No such ticket.
            UnknownAgent: No such active agent.
            InvalidTicketInput: The text is empty.

        """
        body = _text(text, "note")
        now = self._clock()
        async with self._db.transaction() as session:
            ticket = await self._locked(session, number)
            agent = await agent_of(session, agent_id)
            conversation = await q.conversation(session, ticket.conversation_id)
            assert conversation is not None
            message_id = await q.add_internal_note(
                session, conversation.id, conversation.channel, agent.id, body, now
            )
            ticket.updated_at = now
            await q.add_event(
                session, ticket.id, "note", agent.email, {"agent_id": agent.id, "message_id": message_id}, now
            )
            return await view_of(session, ticket, self._settings)

    async def set_priority(self, number: str | int, priority: str, actor: str = "agent") -> TicketView:
        """Change a ticket's priority; the response target follows while no one has responded yet.

        Raises:
            TicketNotFound: No such ticket.
            InvalidTicketInput: Unknown priority.
            InvalidTransition: The ticket is closed.

        """
        check_priority(priority)
        now = self._clock()
        async with self._db.transaction() as session:
            ticket = await self._locked(session, number)
            st.ensure_active(self._label(ticket), ticket.status, "change the priority of")
            if ticket.priority != priority:
                previous, ticket.priority, ticket.updated_at = ticket.priority, priority, now
                if ticket.first_response_at is None:
                    ticket.sla_due_at = ticket.created_at + self._settings.sla(priority)
                await q.add_event(
                    session,
                    ticket.id,
                    "priority_changed",
                    actor,
                    {
                        "from": previous,
                        "to": priority,
                        "sla_due_at": ticket.sla_due_at.isoformat() if ticket.sla_due_at else None,
                    },
                    now,
                )
            return await view_of(session, ticket, self._settings)

    def _priority(
        self,
        category: str | None,
        subject: str,
        facts: Mapping[str, Any],
        forced: str | None,
        actor: str,
        base: str | None,
        opened: q.ContactTickets,
        history: q.CustomerHistory,
    ) -> PriorityDecision:
        if forced is not None:
            return PriorityDecision(forced, (f"set by {actor}",))
        return decide_priority(
            self._settings.priority,
            category,
            [subject, *_strings(facts), *history.recent_texts],
            repeated_contact=opened.since_repeat > 0,
            base=base,
        )


def _opened_event(
    decision: PriorityDecision, category: str | None, sla_due_at: datetime | None
) -> dict[str, Any]:
    """The audit-trail entry of a new ticket."""
    return {
        "priority": decision.priority,
        "reasons": list(decision.reasons),
        "category": category,
        "sla_due_at": sla_due_at.isoformat() if sla_due_at else None,
    }


def _text(text: str, what: str) -> str:
    body = storable(text).strip()
    if not body:
        raise InvalidTicketInput(f"the {what} is empty")
    return body


def _strings(value: Any, depth: int = 0) -> Iterable[str]:
    """Every string in a JSON-like value (the details the bot gathered), for the priority rules."""
    if isinstance(value, str):
        yield value
    elif depth < 4 and isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item, depth + 1)
    elif depth < 4 and isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item, depth + 1)

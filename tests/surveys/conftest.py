"""Fixtures of the survey tests: a moveable clock, the ticket service with follow-ups, a pipeline.

Everything is real: the FAQ engine decides, the pipeline stores turns, the job runner claims
due jobs from the database (SQLite and PostgreSQL). Only time is the test's: the clock
starts at the real time (the engine and the pipeline stamp turns with it) and moves ahead.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from conversations.database import Database
from conversations.survey_answers import REOPEN_JOB
from conversations.tables import Conversation, Message, Survey, Ticket, TicketEvent
from conversations.values import InboundMessage, Sender, Surface
from core.channels import TurnResult
from core.engine.base import Engine
from core.jobs import JobRunner
from core.pipeline import OPEN_TICKET, Pipeline
from core.surveys.follow_ups import FollowUpService
from core.surveys.scheduling import AUTO_SOLVE_JOB, REMINDER_JOB, SURVEY_JOB, FollowUpScheduler
from core.surveys.service import SurveyService
from core.surveys.settings import SurveySettings
from core.tickets import TicketService, TicketView, load_ticket_settings
from tests.clock import Clock
from tests.web.conftest import LiveServer, serving

SECRET = b"test-secret"
LIVE_SECRET = b"live-secret"
_ids = itertools.count(1)


@dataclass
class Stack:
    """The parts a survey needs, wired as the runtime wires them."""

    db: Database
    clock: Clock
    settings: SurveySettings
    tickets: TicketService
    surveys: SurveyService
    follow_ups: FollowUpService
    pipeline: Pipeline
    queued: list[int] = field(default_factory=list)

    def runner(self) -> JobRunner:
        """A fresh job runner, as after a restart."""
        runner = JobRunner(self.db, clock=self.clock)
        runner.register(OPEN_TICKET, self.tickets.open_requested, completes=True)
        runner.register(SURVEY_JOB, self.surveys.send_due, completes=True)
        runner.register(REOPEN_JOB, self.surveys.reopen_requested)
        runner.register(REMINDER_JOB, self.follow_ups.remind, completes=True)
        runner.register(AUTO_SOLVE_JOB, self.follow_ups.auto_solve, completes=True)
        return runner

    async def run_jobs(self) -> int:
        """Run every due job (a fresh runner each time, like a restarted process)."""
        total = 0
        while ran := await self.runner().run_once():
            total += ran
        return total

    async def say(
        self,
        thread: str,
        text: str = "",
        *,
        action: str | None = None,
        channel: str = "webchat",
        surface: Surface = Surface.PRIVATE,
        external_id: str | None = None,
    ) -> TurnResult:
        """A customer message through the real pipeline and engine."""
        message = InboundMessage(
            channel=channel,
            thread_key=thread,
            external_id=external_id or f"{thread}:{next(_ids)}",
            sender=Sender(external_id=f"customer-{thread}", display_name="Alice"),
            text=text,
            action=action,
            surface=surface,
        )
        return await self.pipeline.receive(message)

    async def solved_ticket(
        self,
        thread: str,
        *,
        first: str = "hello",
        channel: str = "webchat",
        surface: Surface = Surface.PRIVATE,
    ) -> TicketView:
        """A conversation with a ticket an agent has solved (the survey job is then queued)."""
        result = await self.say(thread, first, channel=channel, surface=surface)
        view = await self.tickets.open(result.conversation_id, "Withdrawal not received", "withdrawal")
        return await self.tickets.solve(view.number)

    async def survey_sent(self, thread: str, **kwargs: Any) -> Survey:
        """A solved ticket whose survey was sent once its delay passed."""
        view = await self.solved_ticket(thread, **kwargs)
        self.clock.advance(seconds=self.settings.delay_seconds)
        await self.run_jobs()
        survey = await survey_of(self.db, view.number)
        assert survey is not None
        return survey


def build_stack(db: Database, engine: Engine, clock: Clock, **overrides: Any) -> Stack:
    """The stack with survey settings ``overrides``."""
    settings = SurveySettings.model_validate({"delay_seconds": 600, **overrides})
    queued: list[int] = []
    forget: list[Callable[[str, str], None]] = []
    tickets = TicketService(
        db,
        load_ticket_settings(),
        on_queued=lambda: queued.append(1),
        on_conversation_changed=lambda channel, thread: forget[0](channel, thread),
        clock=clock,
        follow_ups=FollowUpScheduler(settings),
    )
    surveys = SurveyService(db, settings, tickets, SECRET, on_queued=lambda: queued.append(1), clock=clock)
    follow_ups = FollowUpService(db, settings, tickets, on_queued=lambda: queued.append(1), clock=clock)
    pipeline = Pipeline(db, engine)
    forget.append(pipeline.forget)
    return Stack(db, clock, settings, tickets, surveys, follow_ups, pipeline, queued)


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime.now(UTC))


@pytest.fixture
def stack(db: Database, faq_engine: Engine, clock: Clock) -> Stack:
    return build_stack(db, faq_engine, clock)


async def survey_of(db: Database, number: str) -> Survey | None:
    """The survey of a ticket (by its label, ``HL-1001``)."""
    async with db.reader() as session:
        return await session.scalar(
            select(Survey).join(Ticket, Ticket.id == Survey.ticket_id).where(Ticket.number == _number(number))
        )


async def bot_messages(db: Database, thread: str) -> list[Message]:
    """Every message to the customer in a thread, oldest first."""
    async with db.reader() as session:
        rows = await session.scalars(
            select(Message)
            .join(Conversation, Conversation.id == Message.conversation_id)
            .where(Conversation.thread_key == thread, Message.direction == "out")
            .order_by(Message.id)
        )
        return list(rows)


async def event_kinds(db: Database, number: str) -> list[str]:
    """A ticket's audit trail, as event kinds."""
    async with db.reader() as session:
        rows = await session.scalars(
            select(TicketEvent.kind)
            .join(Ticket, Ticket.id == TicketEvent.ticket_id)
            .where(Ticket.number == _number(number))
            .order_by(TicketEvent.id)
        )
        return list(rows)


def _number(label: str) -> int:
    return int(label.rsplit("-", 1)[-1])


@pytest.fixture
async def survey_live(
    database_url: str, db: Database, faq_engine: Engine, data_dir: Path
) -> AsyncIterator[LiveServer]:
    """A running Helpline (HTTP, dispatcher, job runner) whose surveys go out a moment after solving."""
    async with serving(
        database_url,
        faq_engine,
        data_dir,
        HELPLINE_SURVEYS__DELAY_SECONDS="0.2",
        HELPLINE_SURVEYS__SECRET=LIVE_SECRET.decode(),
    ) as server:
        yield server


class Chat:
    """One web chat session driven over HTTP, as the /chat page drives it."""

    def __init__(self, live: LiveServer, session_id: str) -> None:
        self.live = live
        self.session_id = session_id
        self._ids = itertools.count(1)
        self.seen = 0

    async def send(self, text: str | None = None, action: str | None = None) -> list[dict[str, Any]]:
        body: dict[str, Any] = {"session_id": self.session_id, "message_id": str(next(self._ids))}
        body.update({"text": text} if action is None else {"action": action})
        response = await self.live.client.post("/api/chat/messages", json=body)
        assert response.status_code == 200, response.text
        replies: list[dict[str, Any]] = response.json()["replies"]
        self.seen = max([self.seen, *(r["id"] for r in replies)])
        return replies

    async def wait_for(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 15
    ) -> dict[str, Any]:
        """The first later message (an agent's, a survey) matching ``predicate``, long-polling."""
        async with asyncio.timeout(timeout):
            while True:
                response = await self.live.client.get(
                    "/api/chat/messages",
                    params={"session_id": self.session_id, "after": self.seen, "wait": 5},
                )
                assert response.status_code == 200, response.text
                for message in response.json()["messages"]:
                    self.seen = max(self.seen, message["id"])
                    if predicate(message):
                        return message

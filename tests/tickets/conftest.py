"""Fixtures of the ticket tests: a conversation with customer messages, agents, the service."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from conversations import repository as repo
from conversations.database import Database
from conversations.tables import Agent, Conversation, Message, OutboxEntry, TicketEvent, table_of
from conversations.values import InboundMessage, Sender
from core.tickets import TicketService, TicketSettings, load_ticket_settings
from tests.clock import Clock

START = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


@dataclass
class Recorder:
    """What the service reported after its commits."""

    changed: list[tuple[str, str]] = field(default_factory=list)
    queued: int = 0

    def conversation_changed(self, channel: str, thread_key: str) -> None:
        self.changed.append((channel, thread_key))

    def wake(self) -> None:
        self.queued += 1


async def conversation(
    db: Database,
    thread: str = "chat-1",
    *,
    user: str = "u1",
    texts: Sequence[str] = ("hello",),
    channel: str = "test",
) -> int:
    """A conversation created the way the pipeline creates one, with the customer's messages."""
    async with db.transaction() as session:
        conversation_id = 0
        for n, text in enumerate(texts):
            message = InboundMessage(
                channel=channel,
                thread_key=thread,
                external_id=f"{thread}:{n}",
                sender=Sender(external_id=user, display_name="Alice"),
                text=text,
            )
            contact_id = await repo.contact_for(session, message, START)
            record = await repo.conversation_for(session, message, contact_id, START)
            await repo.insert_inbound(session, record.id, message, text, START)
            conversation_id = record.id
    return conversation_id


async def agent(db: Database, email: str = "ann@example.com", *, active: bool = True) -> int:
    """An agent row."""
    async with db.transaction() as session:
        agent_id = await session.scalar(
            table_of(Agent)
            .insert()
            .values(
                email=email, display_name=email.split("@")[0], role="agent", active=active, created_at=START
            )
            .returning(Agent.id)
        )
    assert agent_id is not None
    return int(agent_id)


async def conversation_row(db: Database, conversation_id: int) -> Conversation:
    async with db.reader() as session:
        row = await session.get(Conversation, conversation_id)
    assert row is not None
    return row


async def events(db: Database, ticket_id: int) -> list[tuple[str, str]]:
    async with db.reader() as session:
        rows = await session.scalars(
            select(TicketEvent).where(TicketEvent.ticket_id == ticket_id).order_by(TicketEvent.id)
        )
        return [(e.kind, e.actor) for e in rows]


async def outbox_texts(db: Database) -> list[str]:
    async with db.reader() as session:
        rows = await session.execute(
            select(Message.text)
            .join(OutboxEntry, OutboxEntry.message_id == Message.id)
            .order_by(OutboxEntry.id)
        )
        return [r.text for r in rows]


@pytest.fixture
def settings() -> TicketSettings:
    return load_ticket_settings()


@pytest.fixture
def clock() -> Clock:
    return Clock(START)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def service(db: Database, settings: TicketSettings, clock: Clock, recorder: Recorder) -> TicketService:
    return TicketService(
        db,
        settings,
        on_queued=recorder.wake,
        on_conversation_changed=recorder.conversation_changed,
        clock=clock,
    )

"""A running Helpline with the X channel pointed at the local fake X API, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from adapters.runtime import CHANNEL_FACTORIES, Runtime, open_runtime
from adapters.x_channel import XChannel
from adapters.x_polling import Poller
from conversations.channel_state import ChannelStateStore
from conversations.database import Database
from conversations.tables import Agent, Conversation, Message, OutboxEntry, table_of
from core.engine.base import Engine
from core.pipeline import utcnow
from core.settings import Settings, load_settings
from tests.x.fake_x import FakeX

WAIT = 10.0


@pytest.fixture
async def fake_x() -> AsyncIterator[FakeX]:
    """The fake X API, serving TLS on a free local port."""
    fake = FakeX()
    await fake.start()
    yield fake
    await fake.stop()


@dataclass
class XHarness:
    """Builds runtimes on one database against one fake X."""

    database_url: str
    data_dir: Path
    fake: FakeX
    engine: Engine
    monkeypatch: pytest.MonkeyPatch

    def settings(self, **x: str) -> Settings:
        environ = {
            "HELPLINE_DATABASE__URL": self.database_url,
            "HELPLINE_DATA_DIR": str(self.data_dir),
            "HELPLINE_WEBCHAT__ENABLED": "false",
            # The loop polls once at start; the tests poll explicitly after that.
            "HELPLINE_X__POLL_INTERVAL_SECONDS": "3600",
            **self.fake.environment(),
        }
        environ.update({f"HELPLINE_X__{key.upper()}": value for key, value in x.items()})
        return load_settings(environ)

    @contextlib.asynccontextmanager
    async def running(self, **x: str) -> AsyncIterator[Runtime]:
        """A runtime whose X channel has finished its first poll of each feed."""
        factory = functools.partial(XChannel.configure, session_factory=self.fake.session_factory())
        self.monkeypatch.setitem(CHANNEL_FACTORIES, "x", factory)
        settings = self.settings(**x)
        async with open_runtime(settings, engine=self.engine) as runtime:
            channel = x_channel(runtime)
            await asyncio.wait_for(channel.ready.wait(), WAIT)
            if channel.single_intake:
                # Polling starts once this process holds the intake lease.
                deadline = asyncio.get_running_loop().time() + WAIT
                while channel.poller is None and asyncio.get_running_loop().time() < deadline:
                    await asyncio.sleep(0.01)
                assert channel.poller is not None, "the X intake was never elected"
                await first_rounds(channel.poller, dms=x.get("poll_dms", "true") == "true")
            yield runtime


@pytest.fixture
def harness(
    database_url: str,
    db: Database,
    data_dir: Path,
    fake_x: FakeX,
    faq_engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
) -> XHarness:
    """Runtimes on the test's database (``db`` empties PostgreSQL afterwards)."""
    return XHarness(database_url, data_dir, fake_x, faq_engine, monkeypatch)


def x_channel(runtime: Runtime) -> XChannel:
    channel = runtime.channels["x"]
    assert isinstance(channel, XChannel)
    return channel


def poller(runtime: Runtime) -> Poller:
    found = x_channel(runtime).poller
    assert found is not None
    return found


async def first_rounds(poller: Poller, *, dms: bool = True) -> None:
    """Wait until each polling loop has finished its first round."""

    def done() -> bool:
        return poller.rounds["mentions"] >= 1 and (not dms or poller.rounds["dms"] >= 1)

    async with poller.polled:
        await asyncio.wait_for(poller.polled.wait_for(done), WAIT)


async def inbound(db: Database) -> list[tuple[str | None, str, str, str]]:
    """(external id, thread key, surface, text) of every stored X message from customers."""
    async with db.reader() as session:
        rows = await session.execute(
            select(Message.external_id, Conversation.thread_key, Conversation.surface, Message.text)
            .join(Conversation, Conversation.id == Message.conversation_id)
            .where(Message.channel == "x", Message.direction == "in")
            .order_by(Message.id)
        )
        return [(r[0], r[1], r[2], r[3]) for r in rows]


async def outbox(db: Database) -> list[Any]:
    """Every X outbox row with its message text, oldest first."""
    async with db.reader() as session:
        rows = await session.execute(
            select(OutboxEntry, Message.text, Message.topic)
            .join(Message, Message.id == OutboxEntry.message_id)
            .where(OutboxEntry.channel == "x")
            .order_by(OutboxEntry.id)
        )
        return list(rows)


async def add_agent(db: Database, email: str = "sam@example.com") -> int:
    """An agent of the social team."""
    async with db.transaction() as session:
        agent_id = await session.scalar(
            table_of(Agent)
            .insert()
            .values(email=email, display_name="Sam", role="agent", active=True, created_at=utcnow())
            .returning(Agent.id)
        )
    assert agent_id is not None
    return int(agent_id)


def state(db: Database) -> ChannelStateStore:
    """The X channel's durable state."""
    return ChannelStateStore(db, "x")


async def dispatch(runtime: Runtime) -> int:
    """One dispatcher round."""
    return await runtime.dispatcher.dispatch_once()

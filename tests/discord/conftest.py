"""Helpline with its Discord channel, driven through the real discord.py by a fake Discord."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import discord
import discord.http
import pytest
from sqlalchemy import select

from adapters.discord_channel import DiscordChannel
from adapters.runtime import Runtime, open_runtime
from conversations.database import Database
from conversations.tables import Conversation, Message
from core.engine.base import Engine
from core.settings import load_settings
from tests.discord import fake_discord as fd
from tests.discord.fake_discord import FakeDiscord


@dataclass
class Helpline:
    """A running Helpline whose Discord channel talks to ``fake``."""

    runtime: Runtime
    channel: DiscordChannel
    fake: FakeDiscord

    async def messages(self, direction: str | None = None) -> list[Message]:
        query = select(Message).where(Message.channel == "discord").order_by(Message.id)
        if direction is not None:
            query = query.where(Message.direction == direction)
        async with self.runtime.db.reader() as session:
            return list((await session.scalars(query)).all())

    async def conversations(self) -> list[Conversation]:
        query = select(Conversation).where(Conversation.channel == "discord").order_by(Conversation.id)
        async with self.runtime.db.reader() as session:
            return list((await session.scalars(query)).all())

    async def until(self, check: Callable[[], Awaitable[bool]], timeout: float = 20.0) -> None:
        """Wait (polling every 20 ms) until ``check()`` holds."""
        async with asyncio.timeout(timeout):
            while not await check():
                await asyncio.sleep(0.02)

    async def until_stored(self, count: int, direction: str = "in") -> list[Message]:
        async def enough() -> bool:
            return len(await self.messages(direction)) >= count

        await self.until(enough)
        return await self.messages(direction)

    async def ready(self) -> None:
        client = self.channel.client
        assert client is not None
        await asyncio.wait_for(client.wait_until_ready(), 20)


Start = Callable[..., Awaitable[Helpline]]


@pytest.fixture
async def fake(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeDiscord]:
    """The fake Discord, with discord.py's REST base and default gateway pointed at it."""
    async with FakeDiscord() as server:
        monkeypatch.setattr(discord.http.Route, "BASE", server.api_base)
        monkeypatch.setattr(
            discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", discord.gateway.yarl.URL(server.gateway_url)
        )
        yield server


@contextlib.asynccontextmanager
async def running(env: dict[str, str], engine: Engine, fake: FakeDiscord) -> AsyncIterator[Helpline]:
    """Helpline with its dispatcher running, connected to ``fake``; stopped on exit."""
    async with open_runtime(load_settings(env), engine=engine) as runtime:
        channel = runtime.channels["discord"]
        assert isinstance(channel, DiscordChannel)
        dispatching = asyncio.create_task(runtime.dispatcher.run())
        try:
            helpline = Helpline(runtime, channel, fake)
            await helpline.ready()
            yield helpline
        finally:
            runtime.dispatcher.stop()
            await dispatching


@pytest.fixture
def discord_env(database_url: str, data_dir: Path) -> dict[str, str]:
    """The settings of a test Helpline with the Discord channel on."""
    return {
        "HELPLINE_DATABASE__URL": database_url,
        "HELPLINE_DATA_DIR": str(data_dir),
        "HELPLINE_WEBCHAT__ENABLED": "false",
        "HELPLINE_DISPATCHER__POLL_INTERVAL_SECONDS": "0.05",
        "HELPLINE_DISPATCHER__BACKOFF_BASE_SECONDS": "0.05",
        "HELPLINE_DISCORD__TOKEN": "fake-token",
        "HELPLINE_DISCORD__SUPPORT_CHANNEL_IDS": f"[{fd.SUPPORT_CHANNEL_ID}]",
        "HELPLINE_DISCORD__SUPPORT_ROLE_ID": str(fd.SUPPORT_ROLE_ID),
        "HELPLINE_DISCORD__READY_TIMEOUT_SECONDS": "0.05",
    }


@pytest.fixture
async def start_helpline(
    discord_env: dict[str, str], db: Database, faq_engine: Engine, fake: FakeDiscord
) -> AsyncIterator[Start]:
    """Start Helpline with the Discord channel (extra ``HELPLINE_DISCORD__*`` as kwargs); stops at the end."""
    async with contextlib.AsyncExitStack() as stack:

        async def start(**discord_settings: Any) -> Helpline:
            env = {
                **discord_env,
                **{f"HELPLINE_DISCORD__{k.upper()}": str(v) for k, v in discord_settings.items()},
            }
            return await stack.enter_async_context(running(env, faq_engine, fake))

        yield start

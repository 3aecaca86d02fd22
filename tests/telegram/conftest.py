"""Helpline with its Telegram channel, against the fake Bot API, on the test's event loop."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from sqlalchemy import select

from adapters.runtime import Runtime, open_runtime
from adapters.telegram_channel import TelegramChannel
from conversations.database import Database
from conversations.tables import Message
from core.engine.base import Engine
from core.settings import load_settings
from tests.telegram.fake_bot_api import TOKEN, FakeBotApi

WEBHOOK_PATH = "/api/telegram/updates"
# Behaviour of the channel alone (parsing, rendering, error translation) runs on SQLite only;
# what depends on the store (exactly-once storage, edits, staff replies) runs on both.
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
SECRET = "s3cret-Token_1"


@dataclass
class Helpline:
    """A running Helpline whose Telegram channel talks to ``api``."""

    runtime: Runtime
    channel: TelegramChannel
    api: FakeBotApi
    webhook_url: str | None

    async def messages(self, direction: str | None = None) -> list[Message]:
        """Every stored Telegram message (one direction), oldest first."""
        query = select(Message).where(Message.channel == "telegram").order_by(Message.id)
        if direction is not None:
            query = query.where(Message.direction == direction)
        async with self.runtime.db.reader() as session:
            return list((await session.scalars(query)).all())

    async def until_stored(self, count: int, direction: str = "in", timeout: float = 30.0) -> list[Message]:
        """Wait (polling the store every 20 ms) until ``count`` messages of a direction are stored."""
        async with asyncio.timeout(timeout):
            while len(found := await self.messages(direction)) < count:
                await asyncio.sleep(0.02)
        return found


Start = Callable[..., Awaitable[Helpline]]


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    """The fake Bot API, serving."""
    fake = FakeBotApi()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def start_helpline(
    database_url: str, db: Database, faq_engine: Engine, data_dir: Path, api: FakeBotApi
) -> AsyncIterator[Start]:
    """Start Helpline (``mode="polling"`` or ``"webhook"``, extra ``HELPLINE_TELEGRAM__*`` as kwargs).

    ``sections`` adds settings of other sections (``{"HELPLINE_SURVEYS__DELAY_SECONDS": "0.2"}``).
    """
    async with contextlib.AsyncExitStack() as stack:

        async def start(
            mode: str = "polling", sections: Mapping[str, str] | None = None, **telegram: Any
        ) -> Helpline:
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            stack.callback(sock.close)
            webhook_url = f"http://127.0.0.1:{sock.getsockname()[1]}{WEBHOOK_PATH}"
            env = {
                "HELPLINE_DATABASE__URL": database_url,
                "HELPLINE_DATA_DIR": str(data_dir),
                "HELPLINE_DISPATCHER__POLL_INTERVAL_SECONDS": "0.05",
                "HELPLINE_DISPATCHER__BACKOFF_BASE_SECONDS": "0.1",
                "HELPLINE_TELEGRAM__TOKEN": TOKEN,
                "HELPLINE_TELEGRAM__MODE": mode,
                "HELPLINE_TELEGRAM__API_BASE_URL": api.base_url,
                "HELPLINE_TELEGRAM__FILE_BASE_URL": api.base_file_url,
                "HELPLINE_TELEGRAM__POLL_TIMEOUT_SECONDS": "1",
                "HELPLINE_TELEGRAM__REQUEST_TIMEOUT_SECONDS": "2",
                "HELPLINE_TELEGRAM__CHAT_PER_SECOND": "1000",
                "HELPLINE_TELEGRAM__GROUP_PER_MINUTE": "60000",
                "HELPLINE_TELEGRAM__STAFF_POLL_SECONDS": "0.05",
                **({"HELPLINE_TELEGRAM__WEBHOOK_URL": webhook_url} if mode == "webhook" else {}),
                **({"HELPLINE_TELEGRAM__WEBHOOK_SECRET": SECRET} if mode == "webhook" else {}),
                **{f"HELPLINE_TELEGRAM__{k.upper()}": str(v) for k, v in telegram.items()},
                **(sections or {}),
            }
            runtime = await stack.enter_async_context(open_runtime(load_settings(env), engine=faq_engine))
            channel = runtime.channels["telegram"]
            assert isinstance(channel, TelegramChannel)
            dispatching = asyncio.create_task(runtime.dispatcher.run())

            async def stop_dispatcher() -> None:
                runtime.dispatcher.stop()
                await dispatching

            stack.push_async_callback(stop_dispatcher)
            if mode == "webhook":
                server = uvicorn.Server(
                    uvicorn.Config(
                        runtime.app,
                        log_config=None,
                        lifespan="off",
                        access_log=False,
                        timeout_graceful_shutdown=1,
                    )
                )
                serving = asyncio.create_task(server.serve(sockets=[sock]))

                async def stop_server() -> None:
                    server.should_exit = True
                    await serving

                stack.push_async_callback(stop_server)
                while not server.started:
                    await asyncio.sleep(0.01)
            await asyncio.wait_for(channel.ready.wait(), 10)
            return Helpline(runtime, channel, api, webhook_url if mode == "webhook" else None)

        yield start

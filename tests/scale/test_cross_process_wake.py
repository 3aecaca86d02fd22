"""A web chat long poll is woken by a reply that another process delivers (PostgreSQL NOTIFY)."""

from __future__ import annotations

import asyncio
import time

import pytest

from adapters.webchat_channel import WebchatChannel
from conversations.database import Database
from conversations.values import OutboundMessage
from core.pipeline import Pipeline
from core.settings import WebchatSettings
from tests.pipeline.engines import EchoEngine

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


async def test_a_reply_sent_by_another_process_wakes_the_long_poll(database_url: str) -> None:
    first_db, second_db = Database(database_url), Database(database_url)
    waiting, sending = (
        WebchatChannel(first_db, WebchatSettings()),
        WebchatChannel(second_db, WebchatSettings()),
    )
    await waiting.start(Pipeline(first_db, EchoEngine()))
    await sending.start(Pipeline(second_db, EchoEngine()))
    try:
        await asyncio.wait_for(waiting.notifications.listening.wait(), 10)
        started = time.monotonic()
        poll = asyncio.create_task(waiting.hub.wait("session-7", timeout=20))
        await asyncio.sleep(0.05)
        await sending.send(OutboundMessage(1, "k", "webchat", "session-7", "an agent's reply"))
        await asyncio.wait_for(poll, 5)
        assert time.monotonic() - started < 3  # woken, not timed out after 20 s
    finally:
        await waiting.stop()
        await sending.stop()
        await first_db.dispose()
        await second_db.dispose()

"""Several Helpline processes on one PostgreSQL database: one truth, nothing lost, nothing twice.

Two real ``helpline run`` processes share one HTTP port (SO_REUSEPORT: the kernel spreads
connections between them) and the database. 1,000 signed webhook messages over 100
conversations arrive at whichever process the kernel picks; each conversation's messages
are sent in order. Half-way through, one process is killed with SIGKILL; the client
retries what failed, as an integrator would. Afterwards every message is stored once and
answered once, and every conversation's replies reached the platform in order.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from adapters.webhook_channel import sign
from conversations.database import Database
from conversations.tables import Message
from tests.e2e.helpline_process import HelplineProcess
from tests.e2e.test_crash_recovery import SECRET, FakePlatform
from tests.web.conftest import free_port

CONVERSATIONS = 100
PER_CONVERSATION = 10


pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


@pytest.fixture
def pair(
    database_url: str, db: Database, platform: FakePlatform, tmp_path: Path
) -> Iterator[list[HelplineProcess]]:
    port = free_port()
    env = {
        "HELPLINE_DATABASE__URL": database_url,
        "HELPLINE_HTTP__PORT": str(port),
        "HELPLINE_ENGINE__KIND": "basic",
        "HELPLINE_WEBCHAT__ENABLED": "false",
        "HELPLINE_WEBHOOK__ENABLED": "true",
        "HELPLINE_WEBHOOK__SECRET": SECRET,
        "HELPLINE_WEBHOOK__DELIVER_URL": f"http://127.0.0.1:{platform.port}/deliver",
        "HELPLINE_DISPATCHER__LEASE_SECONDS": "2",
        "HELPLINE_DISPATCHER__POLL_INTERVAL_SECONDS": "0.1",
        "HELPLINE_DATA_DIR": str(tmp_path / "data"),
        # Customers here write faster than any person: the flood limit is tested in tests/security.
        "HELPLINE_ABUSE__MAX_MESSAGES_PER_MINUTE": "0",
    }
    processes = [HelplineProcess(env, tmp_path / f"helpline-{n}.log").start() for n in range(2)]
    yield processes
    for process in processes:
        process.stop()


def _body(conversation: int, n: int) -> bytes:
    return json.dumps(
        {
            "conversation_id": f"c{conversation}",
            "message_id": f"m{n}",
            "user": {"id": f"user-{conversation}"},
            "text": f"message {n} of conversation {conversation}",
        }
    ).encode()


async def _send_in_order(client: httpx.AsyncClient, url: str, conversation: int) -> None:
    for n in range(PER_CONVERSATION):
        body = _body(conversation, n)
        for _attempt in range(50):
            timestamp = str(int(time.time()))
            headers = {
                "Content-Type": "application/json",
                "X-Helpline-Timestamp": timestamp,
                "X-Helpline-Signature": sign(SECRET, timestamp, body),
            }
            try:
                response = await client.post(f"{url}/api/webhook/messages", content=body, headers=headers)
            except httpx.TransportError:
                await asyncio.sleep(0.1)  # that process died: the kernel sends the retry to the other
                continue
            if response.status_code == 202:
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError(f"message {n} of conversation {conversation} was never accepted")


async def test_two_processes_one_killed_every_message_once_and_in_order(
    pair: list[HelplineProcess], platform: FakePlatform, db: Database
) -> None:
    url = pair[0].url
    limits = httpx.Limits(max_connections=50, max_keepalive_connections=0)  # new connections spread
    async with httpx.AsyncClient(timeout=10, limits=limits) as client:
        first = [asyncio.create_task(_send_in_order(client, url, c)) for c in range(CONVERSATIONS // 2)]
        await asyncio.gather(*first)
        assert pair[1].proc is not None
        os.kill(pair[1].proc.pid, signal.SIGKILL)  # a worker dies under load
        pair[1].proc.wait()
        rest = [
            asyncio.create_task(_send_in_order(client, url, c))
            for c in range(CONVERSATIONS // 2, CONVERSATIONS)
        ]
        await asyncio.gather(*rest)

    total = CONVERSATIONS * PER_CONVERSATION
    deadline = time.monotonic() + 60
    while len(platform.accepted) < total and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    async with db.reader() as session:
        inbound = await session.scalar(select(func.count()).where(Message.direction == "in"))
        outbound = await session.scalar(select(func.count()).where(Message.direction == "out"))
    assert inbound == total  # stored once each
    assert outbound == total  # answered once each
    assert len(platform.accepted) == total  # delivered once each (retries carry the same key)

    order: dict[str, list[int]] = defaultdict(list)
    for attempt in platform.attempts:
        number = re.search(r"message (\d+) of", str(attempt["text"]))
        assert number is not None
        order[str(attempt["conversation_id"])].append(int(number.group(1)))
    for conversation, numbers in order.items():
        first_seen = list(dict.fromkeys(numbers))
        assert first_seen == sorted(first_seen), f"{conversation} answered out of order: {numbers}"
        assert len(first_seen) == PER_CONVERSATION

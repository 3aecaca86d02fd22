"""Kill -9 at the worst moments of the pipeline, restart, and count what the platform got.

The platform is a local HTTP server standing in for an integrator of the webhook channel:
it records every delivery attempt and, like a platform that honours idempotency keys,
accepts each key once. Helpline runs as a real process; SIGKILL is sent by the process to
itself at a named point (``HELPLINE_FAULTS__KILL_AT``), exactly as an OOM kill would.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from adapters.webhook_channel import sign
from conversations.database import Database
from conversations.tables import Message, OutboxEntry
from tests.e2e.helpline_process import HelplineProcess
from tests.web.conftest import free_port

SECRET = "test-secret"


class FakePlatform:
    """Receives deliveries; ``attempts`` counts every POST, ``accepted`` each idempotency key once."""

    def __init__(self) -> None:
        self.attempts: list[dict[str, object]] = []
        self.accepted: dict[str, dict[str, object]] = {}
        self.port = free_port()
        self.app = Starlette(routes=[Route("/deliver", self.deliver, methods=["POST"])])

    async def deliver(self, request: Request) -> JSONResponse:
        body = json.loads(await request.body())
        key = request.headers["idempotency-key"]
        expected = sign(SECRET, request.headers["x-helpline-timestamp"], await request.body())
        assert request.headers["x-helpline-signature"] == expected
        self.attempts.append(body)
        self.accepted.setdefault(key, body)
        return JSONResponse({"id": f"platform-{key}"})


@pytest.fixture
async def platform() -> AsyncIterator[FakePlatform]:
    fake = FakePlatform()
    server = uvicorn.Server(uvicorn.Config(fake.app, host="127.0.0.1", port=fake.port, log_config=None))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    yield fake
    server.should_exit = True
    await task


@pytest.fixture
def helpline(
    database_url: str,
    db: Database,
    platform: FakePlatform,
    tmp_path: Path,
    faq_engine: object,
    data_dir: Path,
) -> Iterator[HelplineProcess]:
    process = HelplineProcess(
        {
            "HELPLINE_DATA_DIR": str(data_dir),
            "HELPLINE_DATABASE__URL": database_url,
            "HELPLINE_HTTP__PORT": str(free_port()),
            "HELPLINE_WEBHOOK__ENABLED": "true",
            "HELPLINE_WEBHOOK__SECRET": SECRET,
            "HELPLINE_WEBHOOK__DELIVER_URL": f"http://127.0.0.1:{platform.port}/deliver",
            "HELPLINE_DISPATCHER__LEASE_SECONDS": "1",
            "HELPLINE_DISPATCHER__POLL_INTERVAL_SECONDS": "0.2",
        },
        tmp_path / "helpline.log",
    )
    yield process
    process.stop()


def signed_post(process: HelplineProcess, message_id: str, text: str) -> httpx.Response:
    body = json.dumps(
        {"conversation_id": "app-42", "message_id": message_id, "user": {"id": "user-42"}, "text": text}
    ).encode()
    timestamp = str(int(time.time()))
    return httpx.post(
        f"{process.url}/api/webhook/messages",
        content=body,
        headers={
            "Content-Type": "application/json",
            "X-Helpline-Timestamp": timestamp,
            "X-Helpline-Signature": sign(SECRET, timestamp, body),
        },
        timeout=10,
    )


async def wait_for(condition: object, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")


async def stored(db: Database) -> tuple[int, list[tuple[str, int]]]:
    async with db.reader() as session:
        inbound = len((await session.scalars(select(Message.id).where(Message.direction == "in"))).all())
        outbox = [(r.status, r.attempts) for r in (await session.scalars(select(OutboxEntry))).all()]
    return inbound, outbox


@pytest.mark.slow
async def test_killed_between_commit_and_send_delivers_once_after_restart(
    helpline: HelplineProcess, platform: FakePlatform, db: Database
) -> None:
    helpline.start(HELPLINE_FAULTS__KILL_AT="pipeline.after_commit")
    with pytest.raises(httpx.TransportError):
        await asyncio.to_thread(signed_post, helpline, "m1", "my withdrawal is stuck")
    assert await asyncio.to_thread(helpline.wait_exit) == -9
    assert await stored(db) == (1, [("pending", 0)])
    assert platform.attempts == []

    helpline.start()
    await wait_for(lambda: len(platform.accepted) == 1)
    # The integrator never got an answer, so it retries: stored once, answered once.
    retry = await asyncio.to_thread(signed_post, helpline, "m1", "my withdrawal is stuck")
    assert retry.status_code == 202 and retry.json()["duplicate"] is True
    await asyncio.sleep(1.0)
    assert len(platform.attempts) == 1
    assert await stored(db) == (1, [("sent", 1)])


@pytest.mark.slow
async def test_killed_after_the_platform_accepted_resends_with_the_same_key(
    helpline: HelplineProcess, platform: FakePlatform, db: Database
) -> None:
    helpline.start(HELPLINE_FAULTS__KILL_AT="dispatcher.after_send")
    response = await asyncio.to_thread(signed_post, helpline, "m1", "hello")
    assert response.status_code == 202
    assert await asyncio.to_thread(helpline.wait_exit) == -9
    assert len(platform.attempts) == 1  # accepted by the platform, not yet recorded by us

    helpline.start()
    await wait_for(lambda: len(platform.attempts) == 2)
    await asyncio.sleep(0.5)
    # The resend carries the same idempotency key: the platform shows the reply once.
    assert len(platform.accepted) == 1
    assert platform.attempts[0] == platform.attempts[1]
    inbound, outbox = await stored(db)
    assert inbound == 1 and outbox == [("sent", 2)]


@pytest.mark.slow
async def test_webhook_requests_must_be_signed(helpline: HelplineProcess, db: Database) -> None:
    helpline.start()
    body = b'{"conversation_id": "x", "message_id": "1", "user": {"id": "u"}, "text": "hi"}'
    old = str(int(time.time()) - 3600)
    cases = [
        {},
        {"X-Helpline-Timestamp": str(int(time.time())), "X-Helpline-Signature": "sha256=00"},
        {"X-Helpline-Timestamp": old, "X-Helpline-Signature": sign(SECRET, old, body)},
        {"X-Helpline-Timestamp": str(int(time.time())), "X-Helpline-Signature": sign("wrong", "1", body)},
    ]
    for headers in cases:
        response = await asyncio.to_thread(
            httpx.post, f"{helpline.url}/api/webhook/messages", content=body, headers=headers
        )
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unauthorized"
    assert await stored(db) == (0, [])

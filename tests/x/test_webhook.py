"""The Account Activity webhook over a real socket: CRC challenge, signature check failing closed, events."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import socket
from collections.abc import AsyncIterator

import httpx
import pytest
import uvicorn

from adapters.runtime import Runtime
from tests.x.conftest import XHarness, inbound

CAROL = "5566778899"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def served(harness: XHarness) -> AsyncIterator[tuple[Runtime, httpx.AsyncClient]]:
    """Helpline with webhook intake, served by uvicorn on a free port."""
    async with harness.running(intake="webhook") as runtime:
        port = _free_port()
        server = uvicorn.Server(
            uvicorn.Config(runtime.app, host="127.0.0.1", port=port, log_config=None, lifespan="off")
        )
        serving = asyncio.create_task(server.serve())
        while not server.started:
            await asyncio.sleep(0.01)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            yield runtime, client
        server.should_exit = True
        await serving


def _sign(secret: str, data: bytes) -> str:
    return "sha256=" + base64.b64encode(hmac.new(secret.encode(), data, hashlib.sha256).digest()).decode()


async def test_the_crc_challenge_is_answered(
    harness: XHarness, served: tuple[Runtime, httpx.AsyncClient]
) -> None:
    _, client = served
    response = await client.get("/api/x/webhook", params={"crc_token": "challenge-123"})
    assert response.status_code == 200
    assert response.json() == {"response_token": _sign(harness.fake.consumer_secret, b"challenge-123")}
    assert (await client.get("/api/x/webhook")).status_code == 400


async def test_events_are_refused_without_the_right_signature(
    harness: XHarness, served: tuple[Runtime, httpx.AsyncClient]
) -> None:
    runtime, client = served
    body = json.dumps(_mention_event(harness, "9000000000000000001", "is this legit?")).encode()
    missing = await client.post("/api/x/webhook", content=body)
    forged = await client.post(
        "/api/x/webhook",
        content=body,
        headers={"x-twitter-webhooks-signature": _sign("not-the-secret", body)},
    )
    assert (missing.status_code, forged.status_code) == (403, 403)
    assert await inbound(runtime.db) == []


async def test_signed_mentions_and_dms_are_stored(
    harness: XHarness, served: tuple[Runtime, httpx.AsyncClient]
) -> None:
    runtime, client = served
    fake = harness.fake
    payload = _mention_event(harness, "9000000000000000002", "@TweepyDev where is my deposit?")
    payload["direct_message_events"] = [
        {
            "type": "message_create",
            "id": "9000000000000000003",
            "created_timestamp": "1700000000000",
            "message_create": {
                "target": {"recipient_id": fake.account_id},
                "sender_id": CAROL,
                "message_data": {"text": "hi, a question about fees"},
            },
        }
    ]
    payload["users"] = {CAROL: {"id": CAROL, "screen_name": "carol", "name": "Carol"}}
    body = json.dumps(payload).encode()
    headers = {"x-twitter-webhooks-signature": _sign(fake.consumer_secret, body)}
    response = await client.post("/api/x/webhook", content=body, headers=headers)
    assert response.status_code == 200 and response.json()["messages"] == 2
    again = await client.post("/api/x/webhook", content=body, headers=headers)
    assert again.status_code == 200
    pair = "-".join(sorted((CAROL, fake.account_id), key=int))
    assert [(r[0], r[1], r[2]) for r in await inbound(runtime.db)] == [
        ("9000000000000000002", "9000000000000000002", "public"),
        ("dm:9000000000000000003", pair, "private"),
    ]


def _mention_event(harness: XHarness, tweet_id: str, text: str) -> dict[str, object]:
    fake = harness.fake
    return {
        "for_user_id": fake.account_id,
        "tweet_create_events": [
            {
                "created_at": "Tue Nov 14 22:13:20 +0000 2023",
                "id_str": tweet_id,
                "text": text,
                "user": {"id_str": CAROL, "screen_name": "carol", "name": "Carol"},
                "entities": {
                    "user_mentions": [{"id_str": fake.account_id, "screen_name": fake.account_username}]
                },
            },
            {
                "id_str": "9000000000000000009",
                "text": "We are here to help",
                "user": {"id_str": fake.account_id, "screen_name": fake.account_username},
            },
        ],
    }

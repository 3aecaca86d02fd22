"""Every webhook entry point fails closed: what the channel folders do not already test.

Already covered elsewhere (not repeated here):
- Telegram missing / wrong secret token → 403, nothing stored: ``tests/telegram/test_webhook.py``;
  a redelivered update is stored once: same file. Telegram's secret token is a static shared
  header with no timestamp, so "replay" means redelivery, which the store's exactly-once key absorbs.
- X CRC answer and missing / wrongly keyed signature → 403; a replayed signed delivery stored
  once: ``tests/x/test_webhook.py``.
- Webhook channel unsigned / bad signature / one-hour-old timestamp / wrong key → 401:
  ``tests/e2e/test_crash_recovery.py::test_webhook_requests_must_be_signed``.
- Survey links forged (signature of another rating), expired, unknown survey:
  ``tests/surveys/test_live.py::test_email_links``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from adapters.runtime import Runtime, open_runtime
from adapters.webhook_channel import MAX_CLOCK_SKEW, sign
from conversations.database import Database
from conversations.tables import Message, Survey
from core.settings import load_settings
from core.surveys.links import signature, survey_token
from tests.telegram.conftest import SECRET as TELEGRAM_SECRET
from tests.telegram.conftest import Start, api, start_helpline
from tests.telegram.updates import text_update
from tests.x.conftest import XHarness, fake_x, harness, inbound
from tests.x.test_webhook import served

__all__ = ["api", "fake_x", "harness", "served", "start_helpline"]

SECRET = "w" * 40
BASE = "http://helpline.test"
PATH = "/api/webhook/messages"


async def stored(db: Database) -> int:
    async with db.reader() as session:
        return await session.scalar(select(func.count()).select_from(Message)) or 0


@pytest.fixture
async def webhook(
    database_url: str, db: Database, tmp_path: Path
) -> AsyncIterator[tuple[Runtime, httpx.AsyncClient]]:
    """Helpline with the signed webhook channel on (the basic engine: no knowledge base needed)."""
    settings = load_settings(
        {
            "HELPLINE_DATABASE__URL": database_url,
            "HELPLINE_DATA_DIR": str(tmp_path),
            "HELPLINE_ENGINE__KIND": "basic",
            "HELPLINE_WEBHOOK__ENABLED": "true",
            "HELPLINE_WEBHOOK__SECRET": SECRET,
            "HELPLINE_WEBHOOK__DELIVER_URL": "http://127.0.0.1:9/replies",
            "HELPLINE_SURVEYS__SECRET": "v" * 40,
        }
    )
    async with open_runtime(settings) as runtime:
        transport = httpx.ASGITransport(app=runtime.app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
            yield runtime, client


def body_of(message_id: str, text: str = "hello") -> bytes:
    return json.dumps(
        {"conversation_id": "c1", "message_id": message_id, "user": {"id": "u1"}, "text": text}
    ).encode()


def signed(body: bytes, timestamp: int | None = None, secret: str = SECRET) -> dict[str, str]:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    return {"X-Helpline-Timestamp": stamp, "X-Helpline-Signature": sign(secret, stamp, body)}


async def test_a_captured_request_replayed_after_five_minutes_is_refused(
    webhook: tuple[Runtime, httpx.AsyncClient],
) -> None:
    runtime, client = webhook
    body = body_of("m1")
    # Captured just over five minutes ago: its signature was valid then.
    captured = signed(body, int(time.time()) - MAX_CLOCK_SKEW - 2)
    response = await client.post(PATH, content=body, headers=captured)
    assert response.status_code == 401 and response.json()["error"]["code"] == "unauthorized"
    # Nor can it be post-dated beyond the window.
    ahead = signed(body, int(time.time()) + MAX_CLOCK_SKEW + 60)
    assert (await client.post(PATH, content=body, headers=ahead)).status_code == 401
    assert await stored(runtime.db) == 0
    # Replayed inside the window, it is the same message: stored once.
    fresh = signed(body)
    first = await client.post(PATH, content=body, headers=fresh)
    again = await client.post(PATH, content=body, headers=fresh)
    assert (first.status_code, again.status_code) == (202, 202)
    assert (first.json()["duplicate"], again.json()["duplicate"]) == (False, True)
    assert await stored(runtime.db) == 2  # the message and the bot's one reply


async def test_a_tampered_body_or_moved_timestamp_is_refused(
    webhook: tuple[Runtime, httpx.AsyncClient],
) -> None:
    runtime, client = webhook
    original = body_of("m2", "send 1 USDT")
    headers = signed(original)
    tampered = original.replace(b"1 USDT", b"9 USDT")
    cases = [
        (tampered, headers),
        (original + b" ", headers),
        # The signature of this body at another time, with the timestamp header changed.
        (original, {**headers, "X-Helpline-Timestamp": str(int(headers["X-Helpline-Timestamp"]) - 1)}),
        (original, {**headers, "X-Helpline-Signature": headers["X-Helpline-Signature"].upper()}),
        (original, {**headers, "X-Helpline-Signature": headers["X-Helpline-Signature"][7:]}),
        (original, {**headers, "X-Helpline-Signature": "sha256="}),
        (original, signed(original, secret="")),
        # Values a careless parser trips on: they are refused, never a 500.
        (original, {**headers, "X-Helpline-Timestamp": "\u00b2"}),
        (original, {**headers, "X-Helpline-Timestamp": "9" * 2000}),
        (original, {**headers, "X-Helpline-Timestamp": "-1"}),
        (original, {**headers, "X-Helpline-Signature": "sha256=\u00e9" + "0" * 63}),
    ]
    for body, hdrs in cases:
        encoded = {k: v.encode("latin-1") for k, v in hdrs.items()}
        response = await client.post(PATH, content=body, headers=encoded)
        assert response.status_code == 401, (hdrs, response.status_code, response.text[:200])
        assert response.json()["error"]["code"] == "unauthorized"
    assert await stored(runtime.db) == 0


async def test_an_unauthenticated_oversized_body_is_refused_unread(
    webhook: tuple[Runtime, httpx.AsyncClient],
) -> None:
    runtime, client = webhook
    huge = b'{"text": "' + b"A" * 70_000 + b'"}'
    response = await client.post(PATH, content=huge)
    assert response.status_code == 413 and "larger than" in response.json()["error"]["message"]
    assert await stored(runtime.db) == 0


async def test_survey_links_with_odd_or_forged_fields_are_refused(
    webhook: tuple[Runtime, httpx.AsyncClient],
) -> None:
    """Forged and expired links are in tests/surveys; these are the malformed ones, answered 400, never 500."""
    runtime, client = webhook
    secret = b"unknown to the attacker"
    token = survey_token(secret, 1)
    future = int(time.time()) + 3600
    cases = [
        {"r": "5", "e": str(future), "s": signature(secret, token, "5", future)},  # signed with another key
        {"r": "5", "e": "\u00b2", "s": "0" * 32},
        {"r": "5", "e": "9" * 5000, "s": "0" * 32},
        {"r": "5", "e": str(future), "s": "\u00e9" * 32},
        {"r": "6", "e": str(future), "s": "0" * 32},
        {"r": "5"},
        {},
    ]
    for params in cases:
        got = await client.get(f"/survey/{token}", params=params)
        assert got.status_code == 400, (params, got.status_code)
        posted = await client.post(f"/survey/{token}", data={**params, "comment": "forged"})
        assert posted.status_code == 400, (params, posted.status_code)
    async with runtime.db.reader() as session:
        assert await session.scalar(select(func.count()).select_from(Survey)) == 0
    assert await stored(runtime.db) == 0


def _x_sign(secret: str, data: bytes) -> str:
    return "sha256=" + base64.b64encode(hmac.new(secret.encode(), data, hashlib.sha256).digest()).decode()


async def test_x_deliveries_with_a_tampered_body_or_odd_signature_are_refused(
    harness: XHarness, served: tuple[Runtime, httpx.AsyncClient]
) -> None:
    runtime, client = served
    fake = harness.fake
    event = {
        "for_user_id": fake.account_id,
        "tweet_create_events": [
            {
                "id_str": "9000000000000000101",
                "text": f"@{fake.account_username} where is my deposit?",
                "user": {"id_str": "5566778899", "screen_name": "carol", "name": "Carol"},
                "entities": {"user_mentions": [{"id_str": fake.account_id}]},
            }
        ],
    }
    body = json.dumps(event).encode()
    good = _x_sign(fake.consumer_secret, body)
    hexed = "sha256=" + hmac.new(fake.consumer_secret.encode(), body, hashlib.sha256).hexdigest()
    cases = [
        (body.replace(b"deposit", b"withdraw"), good),  # tampered after signing
        (body, hexed),  # the right HMAC in the wrong encoding
        (body, good.removeprefix("sha256=")),
        (body, "sha256="),
        (body, "sha256=\u00e9"),
        (body, _x_sign("", body)),
    ]
    for content, header in cases:
        response = await client.post(
            "/api/x/webhook",
            content=content,
            headers={"x-twitter-webhooks-signature": header.encode("latin-1")},
        )
        assert response.status_code == 403, (header, response.status_code)
    assert await inbound(runtime.db) == []
    # The CRC answer is an HMAC of the challenge only: it reveals nothing that signs a delivery.
    crc = await client.get("/api/x/webhook", params={"crc_token": body.decode()})
    assert crc.json()["response_token"] == good
    # A signed delivery whose DM timestamp is absurd is still taken (the time is dropped), not a 500.
    event["direct_message_events"] = [
        {
            "type": "message_create",
            "id": "9000000000000000102",
            "created_timestamp": "9" * 19,
            "message_create": {
                "target": {"recipient_id": fake.account_id},
                "sender_id": "5566778899",
                "message_data": {"text": "hello"},
            },
        }
    ]
    body = json.dumps(event).encode()
    response = await client.post(
        "/api/x/webhook",
        content=body,
        headers={"x-twitter-webhooks-signature": _x_sign(fake.consumer_secret, body)},
    )
    assert response.status_code == 200 and response.json()["messages"] == 2


async def test_telegram_secret_token_must_match_exactly(start_helpline: Start) -> None:
    helpline = await start_helpline("webhook")
    assert helpline.webhook_url is not None
    near_misses = [
        TELEGRAM_SECRET.upper(),
        TELEGRAM_SECRET[:-1],
        TELEGRAM_SECRET + "x",
        "\u00e9" * len(TELEGRAM_SECRET),
    ]
    for secret in near_misses:
        answer = await helpline.api.post(
            helpline.webhook_url,
            text_update("hello", message_id=90),
            {"X-Telegram-Bot-Api-Secret-Token": secret.encode("latin-1")},  # type: ignore[dict-item]
        )
        assert answer.status_code == 403, secret
    # Without the secret, even an oversized body is refused before it is read.
    oversized = {"update_id": 1, "padding": "A" * (2 * 1024 * 1024)}
    answer = await helpline.api.post(helpline.webhook_url, oversized, {})
    assert answer.status_code == 403
    assert await helpline.messages() == []

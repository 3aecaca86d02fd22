"""Outbound delivery through the real discord.py: splitting, nonces, mentions, errors."""

from __future__ import annotations

import pytest

from adapters.discord_render import MAX_CHARS, nonce_for, split_text
from conversations.values import Button, OutboundMessage, Surface
from core.channels import ChannelUnavailable, DeliveryRejected, RateLimited
from tests.discord import fake_discord as fd
from tests.discord.conftest import Start
from tests.discord.fake_discord import Failure

RATE_LIMITED = {"message": "You are being rate limited.", "retry_after": 0.05, "global": False}
VIA = {"Via": "1.1 google"}  # discord.py treats a 429 without it as a Cloudflare ban


def outbound(
    text: str, *, key: str = "helpline-1", thread: str = str(fd.DM_CHANNEL_ID), **extra: object
) -> OutboundMessage:
    return OutboundMessage(
        message_id=1, idempotency_key=key, channel="discord", thread_key=thread, text=text, **extra
    )  # type: ignore[arg-type]


def test_split_text_keeps_every_character_at_clean_boundaries() -> None:
    paragraph = ("Sentence number one is here. " * 30).strip()
    text = "\n\n".join([paragraph] * 6)
    parts = split_text(text)
    assert all(0 < len(p) <= MAX_CHARS for p in parts)
    assert len(parts) >= 3
    assert "".join("".join(p.split()) for p in parts) == "".join(text.split())
    assert all(p.endswith(".") for p in parts)


def test_split_text_cuts_a_word_longer_than_the_limit() -> None:
    parts = split_text("x" * 4500)
    assert [len(p) for p in parts] == [2000, 2000, 500]


def test_nonces_fit_discord_and_differ_per_part() -> None:
    assert nonce_for("helpline-42", 0) == "helpline-42"
    assert nonce_for("helpline-42", 1) == "helpline-42.1"
    long = nonce_for("x" * 40, 0)
    assert len(long) == 25 and long == nonce_for("x" * 40, 0)


async def test_long_reply_is_split_with_buttons_on_the_last_part(start_helpline: Start) -> None:
    helpline = await start_helpline()
    text = " ".join(f"word{i}" for i in range(900))  # about 6,000 characters
    sent = await helpline.channel.send(outbound(text, buttons=(Button("Talk to a human", "human"),)))
    posts = helpline.fake.messages_in(fd.DM_CHANNEL_ID)
    assert sent == str(posts[0].id)
    assert len(posts) == 4
    assert all(len(p.content) <= MAX_CHARS for p in posts)
    assert " ".join(p.content for p in posts) == text
    assert [bool(p.body.get("components")) for p in posts] == [False, False, False, True]
    assert len({p.body["nonce"] for p in posts}) == 4


async def test_a_resend_after_a_crash_is_deduplicated_by_the_nonce(start_helpline: Start) -> None:
    helpline = await start_helpline()
    first = await helpline.channel.send(outbound("Your deposit was credited.", key="helpline-77"))
    again = await helpline.channel.send(outbound("Your deposit was credited.", key="helpline-77"))
    assert first == again
    assert len(helpline.fake.messages_in(fd.DM_CHANNEL_ID)) == 1


async def test_public_reply_quotes_the_question_and_pings_nobody(start_helpline: Start) -> None:
    helpline = await start_helpline()
    thread = f"{fd.SUPPORT_CHANNEL_ID}:{fd.CUSTOMER_ID}"
    await helpline.channel.send(
        outbound(
            "@everyone fees are 0.1% <@&123>",
            thread=thread,
            surface=Surface.PUBLIC,
            reply_to_external_id="555",
        )
    )
    [post] = helpline.fake.messages_in(fd.SUPPORT_CHANNEL_ID)
    assert post.body["allowed_mentions"] == {"parse": []}
    assert post.body["message_reference"]["message_id"] == "555"


async def test_short_429_is_waited_out_and_retried(start_helpline: Start) -> None:
    helpline = await start_helpline()
    helpline.fake.failures.append(Failure(429, RATE_LIMITED, VIA))
    await helpline.channel.send(outbound("hello"))
    attempts = [r for r in helpline.fake.requests if r[0] == "POST" and r[1].endswith("/messages")]
    assert len(attempts) == 2
    assert len(helpline.fake.messages_in(fd.DM_CHANNEL_ID)) == 1


async def test_long_429_is_handed_to_the_dispatcher(start_helpline: Start) -> None:
    helpline = await start_helpline()
    helpline.fake.failures.append(Failure(429, {**RATE_LIMITED, "retry_after": 120.0}, VIA))
    with pytest.raises(RateLimited) as caught:
        await helpline.channel.send(outbound("hello"))
    assert caught.value.retry_after == 120.0


@pytest.mark.parametrize(
    ("status", "error"),
    [(503, ChannelUnavailable), (403, DeliveryRejected), (404, DeliveryRejected), (400, DeliveryRejected)],
)
async def test_errors_are_translated(start_helpline: Start, status: int, error: type[Exception]) -> None:
    helpline = await start_helpline()
    helpline.fake.failures.append(Failure(status, {"message": "nope", "code": 50007}))
    with pytest.raises(error):
        await helpline.channel.send(outbound("hello"))


async def test_a_thread_key_that_is_not_discords_is_rejected(start_helpline: Start) -> None:
    helpline = await start_helpline()
    with pytest.raises(DeliveryRejected):
        await helpline.channel.send(outbound("hello", thread="not-a-channel"))

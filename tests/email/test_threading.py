"""Threading decisions, loop protection and reply headers, on real and hand-made messages."""

from __future__ import annotations

import pytest

from adapters.email_parsing import parse_email
from adapters.email_threading import (
    SenderRateLimit,
    ThreadInfo,
    base_subject,
    choose_thread,
    noise_reason,
    references_for,
    reply_message_id,
    reply_subject,
    ticket_reference,
)
from tests.shared_data import shared_path

OWN = frozenset({"support@helpline.test"})


def _parse(headers: str, sender: str = "alice@customer.test") -> bytes:
    return (
        f"From: {sender}\r\nMessage-ID: <x@customer.test>\r\nSubject: Hi\r\n{headers}\r\nBody\r\n"
    ).encode()


@pytest.mark.parametrize(
    "path",
    [
        ("bounce", "zed.eml"),
        ("bounce", "delayed.eml"),
        ("bounce", "mailbox-full.eml"),
        ("bounce", "gmail-invalid-address.eml"),
        ("bounce", "office365.eml"),
        ("complaints", "aol.eml"),
        ("complaints", "yahoo.eml"),
        ("disposition-notification.eml",),
    ],
)
def test_real_bounces_and_reports_are_noise(path: tuple[str, ...]) -> None:
    parsed = parse_email(shared_path("email", "flanker", *path).read_bytes())
    assert noise_reason(parsed, OWN) is not None


def test_a_person_writing_is_not_noise() -> None:
    parsed = parse_email(shared_path("email", "flanker", "text-only.eml").read_bytes())
    assert noise_reason(parsed, OWN) is None


@pytest.mark.parametrize(
    ("headers", "sender", "expected"),
    [
        ("Auto-Submitted: auto-replied\r\n", "alice@customer.test", "Auto-Submitted: auto-replied"),
        ("Auto-Submitted: no\r\n", "alice@customer.test", None),
        ("Precedence: junk\r\n", "alice@customer.test", "Precedence: junk"),
        ("Precedence: list\r\n", "alice@customer.test", "Precedence: list"),
        ("X-Autoreply: yes\r\n", "alice@customer.test", "X-Autoreply"),
        ("List-Id: <news.example.com>\r\n", "alice@customer.test", "mailing list (List-Id)"),
        ("Return-Path: <>\r\n", "alice@customer.test", "null sender (a bounce)"),
        ("", "noreply@exchange.example", "automatic sender noreply@exchange.example"),
        ("", "Support@Helpline.test", "sent by this mailbox (a loop)"),
    ],
)
def test_noise_headers(headers: str, sender: str, expected: str | None) -> None:
    assert noise_reason(parse_email(_parse(headers, sender)), OWN) == expected


def test_subjects() -> None:
    assert ticket_reference("Re: Re: deposit [#HL-1234]") == "HL-1234"
    assert ticket_reference("deposit [# 1234 ]") == "1234"
    assert ticket_reference("no tag here #HL-1") is None
    assert base_subject("RE: Fwd: 回复: Deposit missing [#HL-1234]") == "Deposit missing"
    assert reply_subject("Re: Deposit missing [#HL-1234]", "HL-1234") == "Re: Deposit missing [#HL-1234]"
    assert reply_subject("", None) == "Re: Your request"


def test_reply_ids_are_stable_per_idempotency_key() -> None:
    first = reply_message_id("outbox-7", "helpline.test")
    assert first == reply_message_id("outbox-7", "helpline.test")
    assert first != reply_message_id("outbox-8", "helpline.test")
    assert first.startswith("<") and first.endswith("@helpline.test>")


def test_references_keep_the_root_and_the_latest() -> None:
    chain = [f"<{i}@x>" for i in range(30)]
    refs = references_for(chain, "<new@x>")
    assert len(refs) == 20 and refs[0] == "<0@x>" and refs[-1] == "<new@x>"
    assert references_for([], None) == []


async def test_choose_thread() -> None:
    owners = {"<root@customer.test>": "alice@customer.test"}

    async def by_message(*ids: str) -> str | None:
        return "<root@customer.test>" if "<ours@helpline.test>" in ids else None

    async def by_ticket(number: int) -> str | None:
        return "<root@customer.test>" if number == 1001 else None

    async def customer_of(key: str) -> str | None:
        return owners.get(key)

    def parse_number(text: str) -> int | None:
        return int(text.removeprefix("HL-")) if text.removeprefix("HL-").isdigit() else None

    async def choose(headers: str, sender: str = "alice@customer.test") -> tuple[str, str]:
        parsed = parse_email(_parse(headers, sender))
        choice = await choose_thread(parsed, by_message, by_ticket, parse_number, customer_of)
        return choice.thread_key, choice.via

    assert await choose("In-Reply-To: <ours@helpline.test>\r\n") == ("<root@customer.test>", "references")
    assert await choose("References: <a@b> <ours@helpline.test>\r\n") == (
        "<root@customer.test>",
        "references",
    )
    assert await choose("X-Note: 1\r\n") == ("<x@customer.test>", "new")
    stranger = await choose("In-Reply-To: <ours@helpline.test>\r\n", "eve@evil.test")
    assert stranger == ("<x@customer.test>", "new")


async def test_choose_thread_by_ticket_number_in_the_subject() -> None:
    async def nothing(*ids: str) -> str | None:
        return None

    async def by_ticket(number: int) -> str | None:
        return "<root@customer.test>" if number == 1001 else None

    async def customer_of(key: str) -> str | None:
        return "alice@customer.test"

    data = b"From: alice@customer.test\r\nMessage-ID: <n@c>\r\nSubject: Re: again [#HL-1001]\r\n\r\nhi\r\n"
    choice = await choose_thread(
        parse_email(data), nothing, by_ticket, lambda t: int(t.split("-")[1]), customer_of
    )
    assert (choice.thread_key, choice.via) == ("<root@customer.test>", "ticket")


def test_rate_limit_per_sender_with_a_window() -> None:
    now = [0.0]
    limit = SenderRateLimit(2, 60, clock=lambda: now[0])
    assert [limit.allow("a@x"), limit.allow("a@x"), limit.allow("a@x"), limit.allow("b@x")] == [
        True,
        True,
        False,
        True,
    ]
    now[0] = 61
    assert limit.allow("a@x")


def test_thread_info_round_trip_and_garbage() -> None:
    info = ThreadInfo("a@x", "Alice", "Deposit", ["<1@x>"], "<1@x>", 1001)
    assert ThreadInfo.loads(info.dumps()) == info
    assert ThreadInfo.loads("not json") is None
    assert ThreadInfo.loads(None) is None

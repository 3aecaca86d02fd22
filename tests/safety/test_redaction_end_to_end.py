"""Real-format secrets pasted into the web chat never reach the database, the logs or an agent's screen.

A customer pastes BIP39 seed phrases (12 and 24 words, English and Chinese), a WIF key, an xprv, a hex
key, a password and 2FA codes through the live web chat API, fills in a form with a TXID and ends with a
ticket. Afterwards every text and JSON column of every table, every log record (DEBUG and up, the live
server's included) and the agents' views (``helpline tickets show``, the console pages) are searched for
the secrets: whole, and in pieces (any 6 consecutive seed words, either end of a key). The customer is
warned in the same turn, the ticket says a redaction happened, and the TXID the form asked for is kept.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import re
import time
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from adapters.console.passwords import Passwords
from adapters.tickets_cli import show_command
from conversations import agent_accounts
from conversations.database import Database
from conversations.tables import Base, Conversation, Ticket, TicketEvent
from core.engine.base import Engine
from tests.forms.conftest import TRON_TXID
from tests.safety.material import entropy, master_xprv, phrase, private_key, wif
from tests.web import conftest as web
from tests.web.conftest import LiveServer


@pytest.fixture
async def live(
    database_url: str, db: Database, faq_engine: Engine, data_dir: Path
) -> AsyncIterator[LiveServer]:
    """The live server of the web chat tests, on each database.

    The customer pastes a dozen secrets within seconds, faster than the per-sender flood limit
    answers (it is tested in ``tests/security/test_abuse.py``): every message must be answered here.
    """
    async with web.serving(
        database_url, faq_engine, data_dir, HELPLINE_ABUSE__MAX_MESSAGES_PER_MINUTE="0"
    ) as server:
        yield server


EN_12 = phrase("end to end en 12", 12)
EN_24 = phrase("end to end en 24", 24)
ZH_12 = phrase("end to end zh 12", 12, "chinese_simplified")
ZH_24 = phrase("end to end zh 24", 24, "chinese_simplified")
WIF_KEY = wif(private_key("end to end wif"), compressed=True)
XPRV = master_xprv(entropy("end to end xprv", 32))
XPRV_LATER = master_xprv(entropy("end to end xprv after the ticket", 32))
HEX_KEY = private_key("end to end hex").hex()
PASSWORD_EN = "Tr0ub4dor&3xyzzy"
PASSWORD_ZH = "Mima#2024qwer"
OTP_EN = "582046"
OTP_ZH = "493817"
WARNED = {"en": "For your safety, we hid part of your message", "zh": "为保护您的资产安全"}
NAMED = {
    "en": {
        "seed_phrase": "seed phrase",
        "private_key": "a private key",
        "extended_private_key": "extended private key",
        "password": "a password",
        "otp_code": "a verification code",
    },
    "zh": {
        "seed_phrase": "助记词",
        "private_key": "私钥",
        "extended_private_key": "扩展私钥",
        "password": "密码",
        "otp_code": "验证码",
    },
}
OPENED = {"en": re.compile(r"I've opened ticket (HL-\d+)"), "zh": re.compile(r"已为您创建工单 (HL-\d+)")}
AGENT_EMAIL = "agent@example.com"
AGENT_PASSWORD = "correct horse battery"


@dataclass(frozen=True)
class Paste:
    """A customer message holding a secret, and the kind the warning must name."""

    text: str
    kind: str


PASTES = {
    "en": (
        Paste(f"my wallet got emptied, this is my seed phrase: {' '.join(EN_12)}", "seed_phrase"),
        Paste("\n".join(f"{n}. {word}" for n, word in enumerate(EN_24, 1)), "seed_phrase"),
        Paste(f"here is my private key {WIF_KEY} please check it", "private_key"),
        Paste(f"my xprv is {XPRV}", "extended_private_key"),
        Paste(f"the private key of the wallet: {HEX_KEY}", "private_key"),
        Paste(f"my password is {PASSWORD_EN}", "password"),
        Paste(f"the 2FA code is {OTP_EN}", "otp_code"),
    ),
    "zh": (
        Paste(f"我的助记词是 {' '.join(ZH_12)}", "seed_phrase"),
        Paste(f"助记词：{''.join(ZH_24)}", "seed_phrase"),
        Paste(f"私钥是 {WIF_KEY}", "private_key"),
        Paste(f"我的密码是 {PASSWORD_ZH}", "password"),
        Paste(f"验证码 {OTP_ZH}", "otp_code"),
    ),
}
FORM_ANSWERS = {
    "en": ("USDT", "TRC20", "50", TRON_TXID, "yesterday 3pm", "yes"),
    "zh": ("USDT", "波场", "50", TRON_TXID, "昨天下午3点", "正确"),
}


def windows(words: list[str], size: int = 6) -> Iterator[list[str]]:
    for start in range(len(words) - size + 1):
        yield words[start : start + size]


def forbidden() -> list[str]:
    """Every string that must appear nowhere: whole secrets and tell-tale pieces of them."""
    found: list[str] = []
    for words in (EN_12, EN_24):
        found += [" ".join(w) for w in (words, *windows(words))]
    for words in (ZH_12, ZH_24):
        for w in (words, *windows(words)):
            found += [" ".join(w), "".join(w)]
    for key in (WIF_KEY, XPRV, XPRV_LATER, HEX_KEY):
        found += [key, key[:16], key[-16:]]
    found += [PASSWORD_EN, PASSWORD_ZH, OTP_EN, OTP_ZH]
    return found


FORBIDDEN = forbidden()


def leaks(where: str, haystack: str) -> list[str]:
    """The secrets ``haystack`` contains, labelled with ``where`` (English words compared case-blind)."""
    folded = haystack.casefold()
    return [f"{where}: {secret[:24]}…" for secret in FORBIDDEN if secret.casefold() in folded]


def strings(value: Any) -> Iterator[str]:
    """Every piece of text in a column value: strings, and JSON as stored (keys and values)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict | list):
        yield json.dumps(value, ensure_ascii=False)
    elif isinstance(value, bytes):
        yield value.decode("utf-8", "replace")


async def database_text(live: LiveServer) -> list[tuple[str, str]]:
    """``(table.column, text)`` for every text or JSON value of every row of every table."""
    found: list[tuple[str, str]] = []
    async with live.runtime.db.reader() as session:
        for table in Base.metadata.sorted_tables:
            rows = (await session.execute(select(table))).mappings().all()
            for row in rows:
                for column, value in row.items():
                    found += [(f"{table.name}.{column}", text) for text in strings(value)]
    return found


async def say(
    live: LiveServer, session: str, n: int, text: str | None = None, action: str | None = None
) -> str:
    body = {"session_id": session, "message_id": str(n), **({"action": action} if action else {"text": text})}
    response = await live.client.post("/api/chat/messages", json=body)
    assert response.status_code == 200, response.text
    return "\n".join(r["text"] for r in response.json()["replies"])


async def wait_for(live: LiveServer, session: str, pattern: re.Pattern[str], timeout: float = 10) -> str:
    """Long-poll the session's messages until one matches ``pattern``; return the match's first group."""
    deadline, after = time.monotonic() + timeout, 0
    while (left := deadline - time.monotonic()) > 0:
        response = await live.client.get(
            "/api/chat/messages", params={"session_id": session, "after": after, "wait": min(left, 5.0)}
        )
        for message in response.json()["messages"]:
            after = message["id"]
            if (found := pattern.search(message["text"])) is not None:
                return found.group(1)
    raise AssertionError(f"nothing matching {pattern.pattern!r} within {timeout}s")


async def customer(live: LiveServer, lang: str, problems: list[str]) -> str:
    """One customer's whole conversation; returns the ticket number it ends with.

    A missing or wrong warning is added to ``problems`` (the search for leaks must still run).
    """
    session = f"secrets-{lang}"
    count = 0

    def warned(sent: str, reply: str, kind: str) -> None:
        # Warned in the same turn, in the customer's language, naming what was found.
        if WARNED[lang] not in reply or NAMED[lang][kind] not in reply:
            problems.append(f"no {lang} warning naming {kind} for {sent[:40]!r}: got {reply[:160]!r}")

    async def send(text: str | None = None, action: str | None = None) -> str:
        nonlocal count
        count += 1
        return await say(live, session, count, text, action)

    await send("hello" if lang == "en" else "你好")
    for paste in PASTES[lang]:
        warned(paste.text, await send(paste.text), paste.kind)
    await send(action="form:start:missing_deposit")
    *answers, confirm = FORM_ANSWERS[lang]
    for answer in answers:
        reply = await send(answer)
        assert WARNED[lang] not in reply, (answer, reply)
    assert TRON_TXID in reply  # the summary shows the TXID: it is not a secret
    await send(confirm)
    number = await wait_for(live, session, OPENED[lang])
    # During the handoff the bot is quiet but still warns about a pasted secret.
    later = f"also my xprv {XPRV_LATER}" if lang == "en" else f"还有扩展私钥 {XPRV_LATER}"
    warned(later, await send(later), "extended_private_key")
    return number


async def console_pages(live: LiveServer) -> list[tuple[str, str]]:
    """The console's inbox and conversation pages as an agent sees them."""
    fast = Passwords(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    async with live.runtime.db.transaction() as session:
        await agent_accounts.save_agent(
            session, AGENT_EMAIL, "Agent", fast.hash(AGENT_PASSWORD), "agent", datetime.now(UTC)
        )
    client = live.client
    page = await client.get("/console/login")
    assert page.status_code == 200, page.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf is not None
    signed = await client.post(
        "/console/login", data={"csrf": csrf.group(1), "email": AGENT_EMAIL, "password": AGENT_PASSWORD}
    )
    assert signed.status_code == 303, signed.text
    pages: list[tuple[str, str]] = []
    inbox = await client.get("/console/inbox")
    assert inbox.status_code == 200
    pages.append(("console /inbox", inbox.text))
    async with live.runtime.db.reader() as session:
        ids = list(await session.scalars(select(Conversation.id)))
    for conversation_id in ids:
        shown = await client.get(f"/console/conversations/{conversation_id}")
        assert shown.status_code == 200, shown.text
        pages.append((f"console /conversations/{conversation_id}", shown.text))
    return pages


async def ticket_views(live: LiveServer, number: str) -> list[tuple[str, str]]:
    """``helpline tickets show NUMBER`` (text and JSON) and the service's detail view."""
    views = []
    for as_json in (False, True):
        out = io.StringIO()
        assert (
            await show_command(live.runtime.tickets, argparse.Namespace(number=number, json=as_json), out)
            == 0
        )
        views.append((f"tickets show {number}{' --json' if as_json else ''}", out.getvalue()))
    views.append((f"TicketService.get({number})", repr(await live.runtime.tickets.get(number))))
    return views


def log_text(records: Iterable[logging.LogRecord]) -> Iterator[tuple[str, str]]:
    formatter = logging.Formatter("%(levelname)s %(name)s %(message)s")
    for record in records:
        yield f"log {record.levelname} {record.name}", formatter.format(record)
        yield f"log args {record.name}", repr(record.args)


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_no_secret_survives_anywhere(
    live: LiveServer, caplog: pytest.LogCaptureFixture, lang: str
) -> None:
    caplog.set_level(logging.DEBUG)
    problems: list[str] = []
    number = await customer(live, lang, problems)

    async with live.runtime.db.reader() as session:
        ticket = await session.scalar(select(Ticket).where(Ticket.number == int(number.removeprefix("HL-"))))
        assert ticket is not None
        events = list(await session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)))
    # The ticket records that secrets were removed, and which kinds, never what they were.
    expected_kinds = {p.kind for p in PASTES[lang]}
    assert expected_kinds <= set(ticket.details.get("redactions", ())), ticket.details
    assert any(e.kind == "redaction" for e in events), [e.kind for e in events]
    # The TXID the form asked for is kept and shown.
    assert ticket.details["values"]["txid"] == TRON_TXID

    views = await ticket_views(live, number)
    text_view = views[0][1]
    assert TRON_TXID in text_view and "[REDACTED:seed_phrase]" in text_view
    pages = await console_pages(live)
    assert any(TRON_TXID in html for _, html in pages)

    everywhere = [*(await database_text(live)), *views, *pages, *log_text(caplog.records)]
    # The search itself works: it reads what was stored and logged, and finds a secret in pieces.
    stored = " ".join(text for where, text in everywhere if where == "messages.text")
    assert {f"[REDACTED:{kind}]" for kind in expected_kinds} <= set(re.findall(r"\[REDACTED:\w+\]", stored))
    assert any(record.levelno == logging.DEBUG for record in caplog.records)
    assert leaks("control", f"x {' '.join(EN_24[5:11]).upper()} y") and leaks("control", "".join(ZH_24[9:15]))
    assert any(
        "webchat" in text or "/api/chat/messages" in text
        for where, text in everywhere
        if where.startswith("log")
    )
    found = [leak for where, text in everywhere for leak in leaks(where, text)]
    assert found == [], "\n".join(found[:40])
    assert problems == [], "\n".join(problems)

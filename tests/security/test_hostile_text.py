"""Customer text used against other customers: phishing links reflected by the bot, impersonation.

``tests/safety`` covers redaction of secrets and the impersonation detector on its own; here the
whole pipeline (web chat API → engine → stored reply) is checked, with the real knowledge base.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from itertools import count
from pathlib import Path

import httpx
import pytest

from adapters.runtime import open_runtime
from conversations.database import Database
from core.engine.base import Engine
from core.safety.links import defang_links
from core.settings import load_settings

ALLOW = ("example.com",)
PHISHING = [
    "https://acme-support-verify.top/login",
    "http://help.example.com.evil.top/reset",
    "https://help.example.com@evil.top/claim",
    "www.acme-airdrop.xyz/claim",
    "acme-wallet-sync.io/connect",
    "HTTPS://EVIL.TOP",
    "https://exаmple.com/x",  # Cyrillic "а": a look-alike of the allowed host
]
# What a chat client would turn into a link: a scheme, or a bare host with a dot before a TLD.
CLICKABLE = re.compile(
    r"(?:https?|ftp)://(?:[^\s/@]*@)?(?P<host>[^\s/:?#]+)|(?<![\w@.-])(?P<bare>(?:[\w-]+\.)+[a-z]{2,24})\b",
    re.IGNORECASE,
)


def foreign_links(text: str) -> list[str]:
    """Hosts a chat client would link in ``text`` that are not on the allow-list."""
    hosts = [m.group("host") or m.group("bare") for m in CLICKABLE.finditer(text)]
    return [h for h in hosts if not re.search(r"(^|\.)example\.com$", h, re.IGNORECASE)]


@pytest.mark.parametrize("link", PHISHING)
def test_foreign_links_are_made_unclickable(link: str) -> None:
    assert foreign_links(link), link  # the check below would notice it
    out = defang_links(f"please check {link} now", ALLOW)
    assert link not in out and "[.]" in out
    assert foreign_links(out) == [], out


@pytest.mark.parametrize(
    "text",
    [
        "see https://help.example.com/deposits?x=1.",
        "status: https://status.example.com/ and www.example.com/fees",
        "write to me@example.org or bob@evil.top",
        "sent 0.5 BTC, fee 1.25 USDT, version 2.3.1",
        "请访问https://help.example.com查看",
    ],
)
def test_allowed_links_addresses_and_numbers_are_left_alone(text: str) -> None:
    assert defang_links(text, ALLOW) == text


@pytest.fixture
async def chat(
    database_url: str, db: Database, faq_engine: Engine, tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    settings = load_settings({"HELPLINE_DATABASE__URL": database_url, "HELPLINE_DATA_DIR": str(tmp_path)})
    async with (
        open_runtime(settings, engine=faq_engine) as runtime,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=runtime.app), base_url="http://t") as client,
    ):
        yield client


IDS = count(1)


async def say(
    client: httpx.AsyncClient, session: str, text: str | None = None, action: str | None = None
) -> str:
    body: dict[str, str] = {"session_id": session, "message_id": str(next(IDS))}
    body.update({"action": action} if action else {"text": text or ""})
    response = await client.post("/api/chat/messages", json=body)
    assert response.status_code == 200, response.text
    return "\n".join(r["text"] for r in response.json()["replies"])


async def test_the_bot_never_repeats_a_phishing_link_clickable(chat: httpx.AsyncClient) -> None:
    """A form's summary repeats the customer's words: the links in them are defanged, ours kept."""
    await say(chat, "phish", action="form:start:talk_to_human")
    lure = " and ".join(PHISHING[:5])
    reply = await say(chat, "phish", f"urgent, support told me to use {lure}")
    assert "Summary" in reply, reply  # the form did repeat the customer's text...
    assert "acme-support-verify[.]top" in reply  # ...as text, not as a link
    assert foreign_links(reply) == [], reply


async def test_answers_keep_the_brands_own_links(chat: httpx.AsyncClient) -> None:
    reply = await say(chat, "own", "is the exchange down for maintenance right now?")
    assert "example.com" in reply and "[.]" not in reply, reply


async def test_impersonation_reports_get_only_the_official_handles(chat: httpx.AsyncClient) -> None:
    fake = "@AcmeSupp0rt_Help"
    reply = await say(chat, "imp", f"{fake} DMed me saying they are support, is this account real?")
    assert "@AcmeSupport" in reply, reply
    assert fake not in reply  # the impostor's handle is never repeated, let alone called official

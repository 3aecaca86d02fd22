"""Web chat sessions: a customer can never see another customer's conversation.

A browser session is bound to its browser by a signed cookie on its first message; a
leaked or guessed id is then worth nothing without that cookie. The page never takes its
session from the URL (session fixation) nor shows it. Sessions of API integrators that
keep no cookies stay as they were. Real servers over real sockets, SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import re
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from itsdangerous import URLSafeTimedSerializer
from playwright.async_api import Browser, expect
from sqlalchemy import func, select

from adapters.webchat_sessions import BIND_HEADER, COOKIE, SALT
from conversations.database import Database
from conversations.tables import ChannelState, Conversation, Message
from core.engine.base import Engine
from tests.web.browser import chromium
from tests.web.conftest import LiveServer, serving

BIND = {BIND_HEADER: "cookie"}
SECRET_TEXT = "my withdrawal of 3.2 BTC to bc1qvictimaddress is missing"


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as browser:
        yield browser


def new_id() -> str:
    return f"web-{secrets.token_hex(16)}"


async def post(
    client: httpx.AsyncClient, session_id: str, message_id: str, text: str, **headers: str
) -> httpx.Response:
    return await client.post(
        "/api/chat/messages",
        json={"session_id": session_id, "message_id": message_id, "text": text},
        headers=headers,
    )


async def read(client: httpx.AsyncClient, session_id: str, **params: str) -> httpx.Response:
    return await client.get("/api/chat/messages", params={"session_id": session_id, **params})


def assert_refused(response: httpx.Response) -> None:
    assert response.status_code == 403, response.text
    assert response.json()["error"]["code"] == "session_forbidden"
    assert response.json()["error"]["message"]
    assert "bc1q" not in response.text and "set-cookie" not in response.headers


async def inbound(live: LiveServer, session_id: str) -> list[str]:
    async with live.runtime.db.reader() as session:
        rows = await session.scalars(
            select(Message.text)
            .join(Conversation, Conversation.id == Message.conversation_id)
            .where(Conversation.thread_key == session_id, Message.direction == "in")
        )
        return list(rows)


def client(live: LiveServer) -> httpx.AsyncClient:
    """A client of its own: a browser (it keeps its cookies) or a stranger."""
    return httpx.AsyncClient(base_url=live.url, timeout=10)


async def bind_new(owner: httpx.AsyncClient) -> tuple[str, dict[str, Any]]:
    """A fresh session that ``owner`` binds with its first message, as the page does."""
    session_id = new_id()
    first = await post(owner, session_id, "1", SECRET_TEXT, **BIND)
    assert first.status_code == 200, first.text
    return session_id, first.json()


async def test_the_first_page_message_binds_the_session_to_a_strict_httponly_cookie(live: LiveServer) -> None:
    async with client(live) as owner:
        session_id, first = await bind_new(owner)
        assert first["replies"]
        [cookie] = [c for c in owner.cookies.jar if c.name == COOKIE]
        assert session_id not in (cookie.value or "")  # signed, not a readable copy of the id
        # The attributes the browser is told: HttpOnly, SameSite=Strict, the API path only.
        again = await post(owner, session_id, "2", "still there?", **BIND)
        assert again.status_code == 200
        header = again.headers["set-cookie"]
        assert header.startswith(f"{COOKIE}=")
        assert "HttpOnly" in header and "SameSite=strict" in header and "Path=/api/chat" in header
        assert "Secure" not in header  # the public URL is http here

        # The owner reads and writes as before.
        listed = await read(owner, session_id)
        assert listed.status_code == 200
        assert first["replies"][0]["id"] in {m["id"] for m in listed.json()["messages"]}
        assert await inbound(live, session_id) == [SECRET_TEXT, "still there?"]

    # Only a digest of the binding's key is stored, under a digest of the session id.
    async with live.runtime.db.reader() as session:
        rows = (await session.execute(select(ChannelState.key, ChannelState.value))).all()
    [(key, value)] = [row for row in rows if row.key.startswith("session:")]
    assert session_id not in key and re.fullmatch(r"[0-9a-f]{64}", value)


async def test_a_stranger_with_the_id_can_neither_read_nor_write_a_bound_session(live: LiveServer) -> None:
    async with client(live) as owner, client(live) as stranger:
        session_id, _ = await bind_new(owner)
        for params in ({}, {"after": "0"}, {"after": "0", "wait": "0.1"}):
            assert_refused(await read(stranger, session_id, **params))
        assert_refused(await post(stranger, session_id, "2", "give me everything"))
        assert_refused(await post(stranger, session_id, "3", "bind it to me", **BIND))
        # The owner's own message id replayed by the stranger: refused, not the owner's replies.
        assert_refused(await post(stranger, session_id, "1", SECRET_TEXT))
        # A forged cookie: right shape, wrong key or wrong signature.
        forged = URLSafeTimedSerializer("not-the-secret", salt=SALT).dumps({"s": session_id, "k": "x"})
        for cookie in (forged, "garbage", forged[:-2] + "AA"):
            stranger.cookies.set(COOKIE, cookie, path="/api/chat")
            assert_refused(await read(stranger, session_id))
            assert_refused(await post(stranger, session_id, "4", "forged"))
        assert await inbound(live, session_id) == [SECRET_TEXT]

        # The owner still sees their chat and can go on.
        assert (await read(owner, session_id)).status_code == 200
        assert (await post(owner, session_id, "5", "thanks", **BIND)).status_code == 200
        assert await inbound(live, session_id) == [SECRET_TEXT, "thanks"]


async def test_a_cookie_replayed_for_another_session_is_refused(live: LiveServer) -> None:
    async with client(live) as first, client(live) as second:
        first_id, _ = await bind_new(first)
        second_id, _ = await bind_new(second)
        cookie_of_first = first.cookies.get(COOKIE)
        cookie_of_second = second.cookies.get(COOKIE)
        assert cookie_of_first and cookie_of_second and cookie_of_first != cookie_of_second
        # Each browser's cookie opens its own session only.
        assert_refused(await read(first, second_id))
        assert_refused(await post(first, second_id, "9", "let me in"))
        assert_refused(await read(second, first_id))
        # A valid cookie pasted into a request for another session: refused too.
        async with client(live) as thief:
            headers = {"Cookie": f"{COOKIE}={cookie_of_first}"}
            response = await thief.get(
                "/api/chat/messages", params={"session_id": second_id}, headers=headers
            )
            assert_refused(response)
            own = await thief.get("/api/chat/messages", params={"session_id": first_id}, headers=headers)
            assert own.status_code == 200 and own.json()["messages"]
        assert await inbound(live, second_id) == [SECRET_TEXT]


async def test_unbound_api_sessions_work_as_before_and_cannot_be_taken_over(live: LiveServer) -> None:
    session_id = new_id()
    async with (
        client(live) as integrator,
        client(live) as other,
    ):
        answered = await post(integrator, session_id, "1", "hello")
        assert answered.status_code == 200 and answered.json()["replies"]
        assert "set-cookie" not in answered.headers
        # Any client knowing the id reads it, as before: the id is the integrator's secret.
        assert (await read(other, session_id)).json()["messages"]
        # A bind request for a session that already has a conversation binds nothing.
        late = await post(other, session_id, "2", "mine now", **BIND)
        assert late.status_code == 200 and "set-cookie" not in late.headers
        assert (await read(integrator, session_id)).status_code == 200
        assert (await post(integrator, session_id, "3", "still mine")).status_code == 200
    assert await inbound(live, session_id) == ["hello", "mine now", "still mine"]
    async with live.runtime.db.reader() as session:
        bindings = select(func.count()).where(ChannelState.channel == "webchat")
        assert await session.scalar(bindings) == 0


async def test_a_long_poll_begun_before_the_binding_returns_nothing_of_it(live: LiveServer) -> None:
    session_id = new_id()
    async with (
        client(live) as stranger,
        client(live) as owner,
    ):
        poll = asyncio.create_task(read(stranger, session_id, wait="5"))
        await asyncio.sleep(0.3)  # the poll is waiting on a session nobody bound yet
        assert (await post(owner, session_id, "1", SECRET_TEXT, **BIND)).status_code == 200
        # An agent-side message wakes the poll; it must not hand over the now-bound chat.
        live.runtime.channels["webchat"].hub.notify(session_id)  # type: ignore[attr-defined]
        response = await poll
        assert response.status_code == 200 and response.json() == {"messages": []}
        assert_refused(await read(stranger, session_id))


async def test_the_binding_holds_in_another_server_on_the_same_database(
    database_url: str, db: Database, faq_engine: Engine, data_dir: Path
) -> None:
    async with serving(database_url, faq_engine, data_dir) as first, client(first) as owner:
        session_id, _ = await bind_new(owner)
        cookie = owner.cookies.get(COOKIE)
    # A new server (a restart, or another process) on the same database and secret.
    async with serving(database_url, faq_engine, data_dir) as second:
        async with client(second) as stranger:
            assert_refused(await read(stranger, session_id))
        async with client(second) as returning:
            returning.cookies.set(COOKIE, cookie or "", path="/api/chat")
            listed = await read(returning, session_id)
            assert listed.status_code == 200 and listed.json()["messages"]


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_the_page_ignores_a_session_in_its_url_and_never_shows_its_id(
    live: LiveServer, browser: Browser
) -> None:
    planted = "web-attacker-knows-this-one"
    context = await browser.new_context()
    page = await context.new_page()
    try:
        await page.goto(f"{live.url}/chat?session={planted}")
        session_id = await page.evaluate("localStorage.getItem('helpline-session')")
        assert session_id != planted and re.fullmatch(r"web-[0-9a-f]{32}", session_id)
        await page.get_by_label("Message").fill(SECRET_TEXT)
        await page.keyboard.press("Enter")
        await expect(page.locator(".msg.out").first).to_be_visible()
        body = await page.locator("body").inner_text()
        assert session_id not in body and session_id[4:] not in body and planted not in body
        assert await page.locator("#session").count() == 0

        # The message went to the page's own session, bound to this browser's HttpOnly cookie.
        assert await inbound(live, planted) == []
        assert await inbound(live, session_id) == [SECRET_TEXT]
        [cookie] = [c for c in await context.cookies() if c["name"] == COOKIE]
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/api/chat"
        assert await page.evaluate("document.cookie") == ""

        # The attacker, even knowing the id, reads nothing; a reload still shows the chat.
        async with client(live) as attacker:
            assert_refused(await read(attacker, session_id))
            assert (await read(attacker, planted)).json() == {"messages": []}
        await page.reload()
        await expect(page.locator(".msg.out").first).to_be_visible()
    finally:
        await context.close()


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_the_page_starts_a_new_session_when_its_cookie_is_gone(
    live: LiveServer, browser: Browser
) -> None:
    context = await browser.new_context()
    page = await context.new_page()
    try:
        await page.goto(f"{live.url}/chat")
        first_id = await page.evaluate("localStorage.getItem('helpline-session')")
        await page.get_by_label("Message").fill("hello")
        await page.keyboard.press("Enter")
        await expect(page.locator(".msg.out").first).to_be_visible()
        await context.clear_cookies()  # cleared by the customer, or expired
        await page.reload()
        await page.get_by_label("Message").fill("are you there?")
        await page.keyboard.press("Enter")
        await expect(page.locator(".status").first).to_contain_text("new conversation", timeout=10_000)
        second_id = await page.evaluate("localStorage.getItem('helpline-session')")
        assert second_id != first_id and re.fullmatch(r"web-[0-9a-f]{32}", second_id)
        await expect(page.locator(".msg.out").first).to_be_visible()
        assert await inbound(live, second_id) == ["are you there?"]
        assert await inbound(live, first_id) == ["hello"]
    finally:
        await context.close()

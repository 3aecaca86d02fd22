"""The /chat page in a real browser (Playwright driving Debian's Chromium)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, Page, expect
from sqlalchemy import select

from conversations.tables import Conversation
from conversations.values import Author
from core.outbound import Outbound
from tests.web.browser import chromium
from tests.web.conftest import LiveServer

pytestmark = pytest.mark.slow


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as browser:
        yield browser


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    context = await browser.new_context()
    page = await context.new_page()
    yield page
    await context.close()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_chat_page_conversation_buttons_and_live_agent_reply(live: LiveServer, page: Page) -> None:
    await page.goto(f"{live.url}/chat")
    session_id = await page.evaluate("localStorage.getItem('helpline-session')")
    assert re.fullmatch(r"web-[0-9a-f]{32}", session_id)  # 128 random bits
    await page.get_by_label("Message").fill("hello")
    await page.keyboard.press("Enter")
    bot = page.locator(".msg.out")
    await expect(bot.first).to_contain_text("support assistant")

    await page.get_by_role("button", name="Talk to a human").click()
    await expect(bot.nth(1)).to_contain_text("asked a support agent")
    await expect(page.get_by_role("button", name="Talk to a human").first).to_be_disabled()
    # The ticket is opened right after the turn, and the customer is told its number.
    await expect(bot.nth(2)).to_contain_text("opened ticket HL-", timeout=10_000)

    # An agent answers later: the page shows it without a reload.
    async with live.runtime.db.reader() as session:
        conversation_id = await session.scalar(
            select(Conversation.id).where(Conversation.thread_key == session_id)
        )
    assert conversation_id is not None
    await Outbound(live.runtime.db, live.runtime.dispatcher.wake).send(
        conversation_id, "Hi, this is Sam from support.", author=Author.AGENT
    )
    await expect(bot.nth(3)).to_contain_text("Sam from support", timeout=10_000)
    await page.screenshot(path="/tmp/chat.png")

    # A reload shows the whole history once, in order.
    await page.reload()
    await expect(bot).to_have_count(4)

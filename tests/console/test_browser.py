"""The console in a real browser (Playwright driving Debian's Chromium) against a live Helpline.

Two flows in one test: an agent answers and solves a ticket a web chat customer opened; the
social team approves an X draft. A screenshot of each flow is kept in
``var/test-artifacts/console/``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect
from sqlalchemy import select

from adapters.console.passwords import Passwords
from conversations import agent_accounts as accounts
from conversations.tables import Conversation, OutboxEntry
from conversations.values import Surface
from tests.console.conftest import FAST, PASSWORD, customer
from tests.console.test_social_and_reports import held_draft
from tests.web.browser import chromium
from tests.web.conftest import LiveServer, live

__all__ = ["live"]  # the live-server fixture of the web tests, reused here

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "var" / "test-artifacts" / "console"
ATTACK = "<script>window.pwned = 1</script>my withdrawal never arrived"

pytestmark = [pytest.mark.slow, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as browser:
        yield browser


async def new_page(browser: Browser) -> Page:
    """A fresh browser profile (its own cookies)."""
    context = await browser.new_context()
    return await context.new_page()


async def add_agent(live: LiveServer, email: str, role: str) -> None:
    async with live.runtime.db.transaction() as session:
        await accounts.save_agent(
            session, email, None, Passwords(FAST).hash(PASSWORD), role, datetime.now(UTC)
        )


async def sign_in(page: Page, live: LiveServer, email: str) -> None:
    await page.goto(f"{live.url}/console/")
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    await page.get_by_label("E-mail address").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()


async def test_agent_and_social_team_flows(live: LiveServer, browser: Browser) -> None:
    # One live server and one browser for both flows: starting them is most of the cost.
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await agent_flow(live, await new_page(browser))
    await social_flow(live, await new_page(browser))


async def agent_flow(live: LiveServer, page: Page) -> None:
    """Sign in, find the web chat customer's ticket, reply, see it delivered, solve."""
    chat = await live.client.post(
        "/api/chat/messages", json={"session_id": "browser-c", "message_id": "1", "text": ATTACK}
    )
    assert chat.status_code == 200
    async with live.runtime.db.reader() as session:
        conversation_id = await session.scalar(
            select(Conversation.id).where(Conversation.thread_key == "browser-c")
        )
    assert conversation_id is not None
    ticket = await live.runtime.tickets.open(
        conversation_id, "Withdrawal never arrived", "withdrawal_missing"
    )
    await add_agent(live, "ann@example.com", "agent")

    await sign_in(page, live, "ann@example.com")
    row = page.locator("#inbox-rows tr", has_text=ticket.number)
    await expect(row).to_contain_text("new")
    await row.get_by_role("link").click()

    transcript = page.locator("#transcript")
    await expect(transcript).to_contain_text("<script>window.pwned = 1</script>my withdrawal")
    assert await page.evaluate("typeof window.pwned") == "undefined"

    await page.get_by_label("Reply to the customer on webchat").fill("Hi, I am looking into your withdrawal.")
    await page.get_by_role("button", name="Send reply").click()
    await expect(transcript).to_contain_text("Hi, I am looking into your withdrawal.")

    # The customer's page gets the reply: the web chat's long poll returns once it is delivered.
    delivered = await live.client.get(
        "/api/chat/messages", params={"session_id": "browser-c", "after": "0", "wait": "10"}
    )
    assert "looking into your withdrawal" in delivered.text
    await page.reload()
    await expect(transcript.locator(".msg.agent .delivery")).to_have_text("sent")

    await page.get_by_role("button", name="Solve").click()
    await expect(page.locator(".ticket-status")).to_have_text("solved")
    await page.screenshot(path=str(ARTIFACTS / "agent-flow.png"), full_page=True)


async def social_flow(live: LiveServer, page: Page) -> None:
    """Approve an edited X draft shown beside the mention it answers."""
    conversation_id = await customer(
        live.runtime.db, "x-browser", ["m"], channel="x", surface=Surface.PUBLIC, name="Bob"
    )
    outbox_id = await held_draft(
        live.runtime.db,
        conversation_id,
        "@Acme where is my deposit?",
        "Sorry! Please DM us.",
        datetime.now(UTC),
    )
    await add_agent(live, "sol@example.com", "social")

    await sign_in(page, live, "sol@example.com")
    draft = page.locator(f"#draft-{outbox_id}")
    await expect(draft).to_contain_text("@Acme where is my deposit?")
    await draft.get_by_label("Reply").fill("Sorry about that! Please DM us your UID.")
    await page.screenshot(path=str(ARTIFACTS / "social-flow.png"), full_page=True)
    await draft.get_by_role("button", name="Approve and post").click()
    await expect(page.get_by_text("No drafts are waiting.")).to_be_visible()

    async with live.runtime.db.reader() as session:
        entry = await session.get(OutboxEntry, outbox_id)
    # No X channel runs in this test: the approved reply waits in the outbox for it.
    assert entry is not None and entry.status == "pending"
    assert entry.reviewed_by_id is not None

"""The console in a real browser: the agent solves a web chat ticket and sees the survey go out.

The customer's web chat receives the survey (its API's GET, as the /chat page long-polls),
the console's transcript shows it delivered, and a low rating the customer gives shows in
the ticket's events. A screenshot is kept in ``var/test-artifacts/console/survey-flow.png``.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, expect
from sqlalchemy import select

from conversations.database import Database
from conversations.tables import Conversation, Survey
from core.engine.base import Engine
from tests.console.test_browser import ARTIFACTS, add_agent, browser, new_page, sign_in
from tests.web.conftest import LiveServer, serving

__all__ = ["browser"]  # the Chromium fixture of the browser tests, reused here

pytestmark = pytest.mark.slow
SESSION = "browser-survey"
_RATING = re.compile(r"^survey:(\d+):[1-5]$")


@pytest.fixture
async def live(
    database_url: str, db: Database, faq_engine: Engine, data_dir: Path
) -> AsyncIterator[LiveServer]:
    """A running Helpline whose surveys go out 0.2 s after solving."""
    async with serving(database_url, faq_engine, data_dir, HELPLINE_SURVEYS__DELAY_SECONDS="0.2") as server:
        yield server


async def _chat_survey(live: LiveServer) -> dict[str, Any]:
    """The survey as the customer's web chat receives it (long-polling the messages API)."""
    after = 0
    for _ in range(10):
        response = await live.client.get(
            "/api/chat/messages", params={"session_id": SESSION, "after": after, "wait": 5}
        )
        assert response.status_code == 200, response.text
        for message in response.json()["messages"]:
            after = max(after, message["id"])
            if any(_RATING.match(b["action"]) for b in message["buttons"]):
                return dict(message)
    raise AssertionError("no survey reached the web chat")


async def test_agent_solves_and_the_survey_goes_out(live: LiveServer, browser: Browser) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    chat = await live.client.post(
        "/api/chat/messages",
        json={"session_id": SESSION, "message_id": "1", "text": "my withdrawal has not arrived"},
    )
    assert chat.status_code == 200
    async with live.runtime.db.reader() as session:
        conversation_id = await session.scalar(
            select(Conversation.id).where(Conversation.thread_key == SESSION)
        )
    assert conversation_id is not None
    ticket = await live.runtime.tickets.open(
        conversation_id, "Withdrawal never arrived", "withdrawal_missing"
    )
    await add_agent(live, "ann@example.com", "agent")

    page = await new_page(browser)
    await sign_in(page, live, "ann@example.com")
    await page.locator("#inbox-rows tr", has_text=ticket.number).get_by_role("link").click()
    await page.get_by_role("button", name="Solve").click()
    await expect(page.locator(".ticket-status")).to_have_text("solved")

    # The customer's chat gets the survey: the ticket's number, five stars and the opt-out.
    survey = await _chat_survey(live)
    assert "How did we do?" in survey["text"] and ticket.number in survey["text"]
    actions = [b["action"] for b in survey["buttons"]]
    survey_id = int(actions[0].split(":")[1])
    assert actions == [*(f"survey:{survey_id}:{n}" for n in range(1, 6)), f"survey:optout:{survey_id}"]

    # The agent sees it go out: in the transcript, delivered.
    await page.reload()
    sent = page.locator("#transcript .msg.bot", has_text="How did we do?")
    await expect(sent).to_have_count(1)
    await expect(sent.locator(".delivery")).to_have_text("sent")
    await expect(page.locator(".events")).to_contain_text("survey_sent")

    # A low rating alerts the team: the ticket's events show it.
    rated = await live.client.post(
        "/api/chat/messages",
        json={"session_id": SESSION, "message_id": "2", "action": f"survey:{survey_id}:2"},
    )
    assert rated.status_code == 200 and "2/5" in rated.json()["replies"][0]["text"]
    await page.reload()
    await expect(page.locator(".events")).to_contain_text("low_rating")
    await page.screenshot(path=str(ARTIFACTS / "survey-flow.png"), full_page=True)
    async with live.runtime.db.reader() as session:
        stored = await session.get(Survey, survey_id)
    assert stored is not None and stored.rating == 2

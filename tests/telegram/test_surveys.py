"""The satisfaction survey on Telegram, end to end, in English and Chinese.

A private-chat customer's ticket is solved → the job runner sends the survey as an inline
keyboard of 1–5 stars → a star is pressed twice (two callback queries): one rating is
stored, the keyboard is taken away → the next message is the comment → the report counts
it under ``telegram``. Fake Bot API → python-telegram-bot → store (SQLite and PostgreSQL).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from conversations.tables import Conversation, Survey
from core.reports import build_report
from tests.telegram.conftest import Helpline, Start
from tests.telegram.fake_bot_api import Call
from tests.telegram.updates import CUSTOMER, bot_message, text_update, update, user

_RATING = re.compile(r"^survey:(\d+):([1-5])$")


@pytest.fixture
async def helpline(start_helpline: Start) -> AsyncIterator[Helpline]:
    """Helpline with its job runner running (it sends due surveys), surveys due 0.2 s after solving."""
    running = await start_helpline(sections={"HELPLINE_SURVEYS__DELAY_SECONDS": "0.2"})
    jobs = running.runtime.jobs
    task = asyncio.create_task(jobs.run())
    yield running
    jobs.stop()
    await task


def _keyboard(call: Call) -> list[dict[str, Any]]:
    markup = call.params.get("reply_markup") or {}
    return [button for row in markup.get("inline_keyboard", []) for button in row]


def _is_survey(call: Call) -> bool:
    return any(_RATING.match(b.get("callback_data", "")) for b in _keyboard(call))


def _press(data: str, message_id: int, query_id: str, language: str) -> dict[str, Any]:
    """A callback query from the customer (in their own language) on the bot's message."""
    return update(
        callback_query={
            "id": query_id,
            "from": user(language=language),
            "chat_instance": "ci-survey",
            "data": data,
            "message": bot_message(message_id),
        }
    )


async def _conversation_id(helpline: Helpline) -> int:
    async with helpline.runtime.db.reader() as session:
        found = await session.scalar(
            select(Conversation.id).where(
                Conversation.channel == "telegram", Conversation.thread_key == str(CUSTOMER)
            )
        )
    assert found is not None
    return int(found)


@pytest.mark.parametrize(
    ("language", "first", "asked", "thanked", "already", "comment", "commented"),
    [
        (
            "en",
            "my withdrawal has not arrived",
            "How did we do?",
            "Thank you for rating us 4/5",
            "already answered",
            "Quick and friendly, thanks",
            "passed your comment on",
        ),
        (
            "zh-hans",
            "我的提现还没到账",
            "请为我们的服务打分",
            "感谢您给出 4/5 的评分",
            "已经回答过",
            "处理很快，谢谢",
            "转达给团队",
        ),
    ],
    ids=["en", "zh"],
)
async def test_solve_survey_star_pressed_twice_comment_report(
    helpline: Helpline,
    language: str,
    first: str,
    asked: str,
    thanked: str,
    already: str,
    comment: str,
    commented: str,
) -> None:
    api = helpline.api
    runtime = helpline.runtime
    await api.push(text_update(first, message_id=101, sender=user(language=language)))
    await api.wait_for(lambda: len(api.sent(CUSTOMER)) >= 1)
    view = await runtime.tickets.open(
        await _conversation_id(helpline), "Withdrawal not received", "withdrawal"
    )
    await runtime.tickets.solve(view.number)

    # The survey: the ticket's number, the customer's language, 1–5 stars and the opt-out.
    await api.wait_for(lambda: any(_is_survey(c) for c in api.sent(CUSTOMER)))
    [survey_call] = [c for c in api.sent(CUSTOMER) if _is_survey(c)]
    assert asked in survey_call.params["text"] and view.number in survey_call.params["text"]
    buttons = _keyboard(survey_call)
    ratings = [m for b in buttons if (m := _RATING.match(b["callback_data"]))]
    assert [int(m.group(2)) for m in ratings] == [1, 2, 3, 4, 5]
    assert all("★" in b["text"] for b in buttons[:5])
    assert buttons[5]["callback_data"].startswith("survey:optout:")
    survey_id = int(ratings[0].group(1))
    [survey_message] = api.posted(CUSTOMER, survey_call.params["text"])
    keyboard_id = survey_message["message_id"]

    # Four stars, then another press before the keyboard disappeared (a double tap): one rating.
    sent_before = len(api.sent(CUSTOMER))
    await api.push(_press(f"survey:{survey_id}:4", keyboard_id, "q-first", language))
    await api.wait_for(lambda: len(api.sent(CUSTOMER)) > sent_before)
    thanks = api.sent(CUSTOMER)[-1]
    assert thanked in thanks.params["text"]
    assert [b["callback_data"] for b in _keyboard(thanks)] == [f"survey:skip:{survey_id}"]
    [removed] = api.of("editMessageReplyMarkup")
    assert int(removed.params["message_id"]) == keyboard_id and "reply_markup" not in removed.params

    await api.push(_press(f"survey:{survey_id}:1", keyboard_id, "q-second", language))
    await api.wait_for(lambda: len(api.of("answerCallbackQuery")) == 2)
    assert [c.params["callback_query_id"] for c in api.of("answerCallbackQuery")] == ["q-first", "q-second"]

    # The comment: the next message, stored with the rating.
    await api.push(text_update(comment, message_id=102, sender=user(language=language)))
    await api.wait_for(lambda: commented in api.sent(CUSTOMER)[-1].params["text"])
    assert len(api.sent(CUSTOMER)) == sent_before + 2  # the second press sent nothing

    async with runtime.db.reader() as session:
        stored = await session.get(Survey, survey_id)
    assert stored is not None and (stored.rating, stored.comment, stored.channel) == (4, comment, "telegram")
    presses = [m for m in await helpline.messages("in") if (m.action or "").startswith("survey:")]
    assert [m.action for m in presses] == [f"survey:{survey_id}:4"]

    # A later press of the old keyboard (another device) is acknowledged and changes nothing.
    await api.push(_press(f"survey:{survey_id}:2", 999, "q-late", language))
    await api.wait_for(lambda: len(api.sent(CUSTOMER)) == sent_before + 3)
    assert already in api.sent(CUSTOMER)[-1].params["text"]
    async with runtime.db.reader() as session:
        again = await session.get(Survey, survey_id)
    assert again is not None and again.rating == 4

    now = datetime.now(UTC)
    report = await build_report(runtime.db, now - timedelta(days=1), now + timedelta(minutes=1))
    assert [(g.group, g.answered, g.mean) for g in report.csat_by_channel] == [("telegram", 1, 4.0)]
    assert report.csat.satisfied_share == 1.0
    assert report.surveys_sent == 1 and report.response_rate == 1.0

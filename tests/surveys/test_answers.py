"""Answers in the conversation: stars, a number, the comment, a double press, expiry, opt-out, reopen.

The real FAQ engine reads the survey state the job left; the turn writer stores the answer
with its first-answer-wins guards, in the turn's transaction.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from conversations.database import Database
from conversations.tables import Contact, Conversation, Survey, Ticket
from core.engine.base import Engine
from tests.surveys.conftest import Clock, Stack, bot_messages, build_stack, event_kinds, survey_of


async def _reload(db: Database, survey: Survey) -> Survey:
    async with db.reader() as session:
        stored = await session.get(Survey, survey.id)
    assert stored is not None
    return stored


def _texts(result: object) -> list[str]:
    return [r.text for r in result.replies]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("lang", "greeting", "thanks", "comment_thanks"),
    [
        ("en", "hello", "Thank you for rating us 5/5", "passed your comment on"),
        ("zh", "你好", "感谢您给出 5/5 的评分", "转达给团队"),
    ],
)
async def test_rating_then_comment(
    stack: Stack, lang: str, greeting: str, thanks: str, comment_thanks: str
) -> None:
    survey = await stack.survey_sent(f"rate-{lang}", first=greeting)
    result = await stack.say(f"rate-{lang}", action=f"survey:{survey.id}:5")
    assert thanks in _texts(result)[0]
    assert [b[1] for b in result.replies[0].buttons] == [f"survey:skip:{survey.id}"]
    stored = await _reload(stack.db, survey)
    assert (stored.rating, stored.status) == (5, "answered") and stored.answered_at is not None

    result = await stack.say(f"rate-{lang}", "Quick and friendly, thanks")
    assert comment_thanks in _texts(result)[0]
    assert (await _reload(stack.db, survey)).comment == "Quick and friendly, thanks"

    # After the comment the survey is done: the next message is an ordinary question.
    result = await stack.say(f"rate-{lang}", "how do I reset my 2FA")
    assert (await _reload(stack.db, survey)).comment == "Quick and friendly, thanks"
    assert comment_thanks not in _texts(result)[0]


async def test_survey_text_is_in_the_conversation_language(stack: Stack) -> None:
    await stack.survey_sent("zh-ask", first="你好")
    last = (await bot_messages(stack.db, "zh-ask"))[-1]
    assert "请为我们的服务打分" in last.text
    assert last.buttons[-1]["label"] == "不再接收调查"


async def test_double_press_stores_one_rating(stack: Stack) -> None:
    survey = await stack.survey_sent("double")
    await stack.say("double", action=f"survey:{survey.id}:4")
    again = await stack.say("double", action=f"survey:{survey.id}:1")
    assert "already answered" in _texts(again)[0]
    stored = await _reload(stack.db, survey)
    assert stored.rating == 4
    assert "low_rating" not in await event_kinds(stack.db, await _label(stack.db, stored))


async def test_a_redelivered_press_stores_nothing_new(stack: Stack) -> None:
    survey = await stack.survey_sent("redelivered")
    first = await stack.say("redelivered", action=f"survey:{survey.id}:3", external_id="press-1")
    second = await stack.say("redelivered", action=f"survey:{survey.id}:3", external_id="press-1")
    assert second.duplicate and _texts(second) == _texts(first)
    assert (await _reload(stack.db, survey)).rating == 3


async def test_reply_with_a_number_on_email(stack: Stack) -> None:
    survey = await stack.survey_sent("mail-thread", channel="email")
    result = await stack.say("mail-thread", "4", channel="email")
    assert "4/5" in _texts(result)[0]
    assert (await _reload(stack.db, survey)).rating == 4


async def test_full_width_number_in_chinese(stack: Stack) -> None:
    survey = await stack.survey_sent("zh-number", first="你好")
    await stack.say("zh-number", "５分")
    assert (await _reload(stack.db, survey)).rating == 5


async def test_skip_ends_the_survey_without_a_comment(stack: Stack) -> None:
    survey = await stack.survey_sent("skip")
    await stack.say("skip", action=f"survey:{survey.id}:5")
    result = await stack.say("skip", action=f"survey:skip:{survey.id}")
    assert "Thank you for your feedback" in _texts(result)[0]
    await stack.say("skip", "where is my deposit")
    assert (await _reload(stack.db, survey)).comment is None


async def test_expired_survey_is_acknowledged_and_changes_nothing(
    db: Database, faq_engine: Engine, clock: Clock
) -> None:
    # Sent 80 hours ago (the clock is moved back): it expired after 72.
    clock.advance(hours=-80)
    stack = build_stack(db, faq_engine, clock)
    survey = await stack.survey_sent("expired")
    result = await stack.say("expired", action=f"survey:{survey.id}:5")
    assert "This survey has closed" in _texts(result)[0]
    assert (await _reload(db, survey)).rating is None
    # A bare number after expiry is an ordinary message again.
    result = await stack.say("expired", "5")
    assert (await _reload(db, survey)).rating is None
    assert "closed" not in " ".join(_texts(result))


async def test_stale_button_of_an_older_survey(stack: Stack) -> None:
    old = await stack.survey_sent("two-tickets")
    result = await stack.say("two-tickets", "my withdrawal is missing again")
    view = await stack.tickets.open(result.conversation_id, "Second problem", "withdrawal")
    await stack.tickets.solve(view.number)
    stack.clock.advance(seconds=600)
    await stack.run_jobs()
    result = await stack.say("two-tickets", action=f"survey:{old.id}:2")
    assert "closed" in _texts(result)[0]
    assert (await _reload(stack.db, old)).rating is None


async def test_opt_out(stack: Stack) -> None:
    survey = await stack.survey_sent("optout")
    result = await stack.say("optout", action=f"survey:optout:{survey.id}")
    assert "won't send you satisfaction surveys" in _texts(result)[0]
    async with stack.db.reader() as session:
        opted = await session.scalar(
            select(Contact.surveys_opt_out)
            .join(Conversation, Conversation.contact_id == Contact.id)
            .where(Conversation.thread_key == "optout")
        )
    assert opted is True
    # The next solved ticket of this customer gets no survey.
    result = await stack.say("optout", "another question")
    view = await stack.tickets.open(result.conversation_id, "Another", "general")
    await stack.tickets.solve(view.number)
    stack.clock.advance(hours=1)
    await stack.run_jobs()
    assert await survey_of(stack.db, view.number) is None


async def test_low_rating_alerts_the_team_and_reopens_on_request(stack: Stack) -> None:
    survey = await stack.survey_sent("low")
    result = await stack.say("low", action=f"survey:{survey.id}:1")
    assert "sorry we let you down" in _texts(result)[0]
    actions = [b[1] for b in result.replies[0].buttons]
    assert actions == [f"survey:reopen:{survey.id}", f"survey:skip:{survey.id}"]
    label = await _label(stack.db, survey)
    assert "low_rating" in await event_kinds(stack.db, label)

    await stack.say("low", "The agent never checked the TXID")
    result = await stack.say("low", action=f"survey:reopen:{survey.id}")
    assert "reopening" in _texts(result)[0].lower()
    assert result.jobs
    await stack.run_jobs()
    async with stack.db.reader() as session:
        status = await session.scalar(select(Ticket.status).where(Ticket.id == survey.ticket_id))
    assert status == "open"
    kinds = await event_kinds(stack.db, label)
    assert kinds[-1] == "reopened" and "survey_comment" in kinds
    # Pressing reopen again does nothing more.
    again = await stack.say("low", action=f"survey:reopen:{survey.id}")
    assert "can't be reopened" in _texts(again)[0]
    assert await stack.run_jobs() == 0


async def test_reopen_is_only_offered_after_a_low_rating(stack: Stack) -> None:
    survey = await stack.survey_sent("not-low")
    await stack.say("not-low", action=f"survey:{survey.id}:5")
    result = await stack.say("not-low", action=f"survey:reopen:{survey.id}")
    assert "can't be reopened" in _texts(result)[0]
    assert await stack.run_jobs() == 0


async def _label(db: Database, survey: Survey) -> str:
    async with db.reader() as session:
        number = await session.scalar(select(Ticket.number).where(Ticket.id == survey.ticket_id))
    return f"HL-{number}"


async def test_expiry_time_comes_from_the_settings(db: Database, faq_engine: Engine, clock: Clock) -> None:
    stack = build_stack(db, faq_engine, clock, expire_hours=2)
    survey = await stack.survey_sent("short")
    assert survey.sent_at is not None and survey.expires_at == survey.sent_at + timedelta(hours=2)

"""The knowledge-base engine, turn by turn, with the real knowledge base and matcher."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from conversations.repository import ConversationRecord
from conversations.values import InboundMessage, Sender, Surface
from core.engine.base import Decision, Engine, Turn
from core.engine.texts import TEXTS
from core.safety import redact


def turn(
    text: str = "",
    *,
    action: str | None = None,
    language: str | None = None,
    status: str = "bot",
    bot_state: Mapping[str, Any] | None = None,
) -> Turn:
    redaction = redact(text)
    conversation = ConversationRecord(
        id=1,
        channel="webchat",
        thread_key="t",
        surface="private",
        contact_id=1,
        language=language,
        status=status,
        bot_state=bot_state or {},
        slots={},
        ticket_id=None,
        assigned_agent_id=None,
        created=False,
    )
    message = InboundMessage("webchat", "t", "t:1", Sender("u"), text=text, action=action)
    return Turn(message, redaction.text, conversation, redaction.findings)


def actions(decision: Decision) -> list[str]:
    return [b.action for r in decision.replies for b in r.buttons]


def reaches(decision: Decision, topic_id: str, marker: str) -> bool:
    """The topic's answer was given, or it is the first "did you mean" button."""
    topics = [a for a in actions(decision) if a.startswith("topic:")]
    return marker in decision.replies[0].text or topics[:1] == [f"topic:{topic_id}"]


async def test_an_english_question_gets_the_knowledge_base_answer(faq_engine: Engine) -> None:
    decision = await faq_engine.respond(turn("my deposit still hasnt shown up in my wallet after 2 hours"))
    [reply] = decision.replies
    assert decision.language == "en"
    assert "confirmations" in reply.text
    assert "{brand}" not in reply.text and "{" not in reply.text
    assert "human" in actions(decision)
    # A topic with a follow-up form offers to collect the details for the team.
    assert "collect the details" in reply.text
    assert actions(decision)[0] == "form:start:missing_deposit"


async def test_a_chinese_question_is_answered_in_chinese(faq_engine: Engine) -> None:
    decision = await faq_engine.respond(turn("我充值的USDT三个小时了还没到账"))
    assert decision.language == "zh"
    assert reaches(decision, "deposit.not_credited", "确认")
    assert decision.replies[0].buttons[-1].label == "转人工客服"


async def test_traditional_chinese_is_understood(faq_engine: Engine) -> None:
    decision = await faq_engine.respond(turn("我的提幣一直顯示處理中，已經好幾個小時了"))
    assert decision.language == "zh"
    assert reaches(decision, "withdrawal.pending", "提现")


async def test_out_of_scope_questions_get_an_honest_fallback(faq_engine: Engine) -> None:
    for question in [
        "what's the weather like in paris tomorrow",
        "tell me a joke about cats",
        "帮我写一篇作文",
    ]:
        decision = await faq_engine.respond(turn(question))
        [reply] = decision.replies
        assert "not sure" in reply.text or "没有完全理解" in reply.text, question
        assert actions(decision) == ["human"]


async def test_a_suggestion_button_answers_that_topic(faq_engine: Engine) -> None:
    decision = await faq_engine.respond(turn(action="topic:withdrawal.fees", language="zh"))
    assert "手续费" in decision.replies[0].text
    unknown = await faq_engine.respond(turn(action="topic:nope.nothing"))
    assert unknown.replies  # falls through to an honest answer, never an error


async def test_ambiguous_questions_offer_topics_as_buttons(faq_engine: Engine) -> None:
    seen_suggestions = False
    for question in ["withdrawal", "problem with my account", "money", "order"]:
        decision = await faq_engine.respond(turn(question))
        topic_buttons = [a for a in actions(decision) if a.startswith("topic:")]
        assert len(topic_buttons) <= 3
        if topic_buttons:
            seen_suggestions = True
            assert all(len(a.encode()) <= 64 for a in topic_buttons)  # fits Telegram's callback data
    assert seen_suggestions


async def test_language_switch_by_command_and_button_sticks(faq_engine: Engine) -> None:
    by_command = await faq_engine.respond(turn("/language zh"))
    assert by_command.language == "zh" and by_command.bot_state == {"language_choice": "zh"}
    answered = await faq_engine.respond(turn("how do I reset my 2fa", bot_state={"language_choice": "zh"}))
    assert answered.language == "zh"
    assert any("\u4e00" <= ch <= "\u9fff" for ch in answered.replies[0].text)
    by_button = await faq_engine.respond(turn(action="lang:en"))
    assert by_button.bot_state == {"language_choice": "en"}


async def test_greeting_and_handoff(faq_engine: Engine) -> None:
    greeting = await faq_engine.respond(turn("hello"))
    assert "Acme Exchange" in greeting.replies[0].text
    assert actions(greeting) == ["human", "lang:zh"]
    handoff = await faq_engine.respond(turn(action="human"))
    assert handoff.status == "human"
    quiet = await faq_engine.respond(turn("are you there?", status="human"))
    assert quiet.replies == ()


async def test_a_pasted_seed_phrase_is_warned_about_first(faq_engine: Engine) -> None:
    phrase = "abandon ability able about above absent absorb abstract absurd abuse access accident"
    decision = await faq_engine.respond(turn(f"support said to send my seed {phrase} is that ok"))
    assert "[REDACTED:seed_phrase]" in turn(f"seed {phrase}").text
    assert phrase not in " ".join(r.text for r in decision.replies)
    assert "seed" in decision.replies[0].text.lower()


async def test_impersonators_are_named_out(faq_engine: Engine) -> None:
    decision = await faq_engine.respond(
        turn("an admin DMed me on telegram asking me to verify my wallet, is that you?")
    )
    assert any("@AcmeSupport" in r.text for r in decision.replies)


async def test_empty_and_huge_messages_are_answered(faq_engine: Engine) -> None:
    empty = await faq_engine.respond(turn(""))
    assert empty.replies and actions(empty) == ["human"]
    huge = await faq_engine.respond(turn("my withdrawal is stuck " * 400))
    assert huge.replies


def with_state(decision: Decision, text: str = "", action: str | None = None, lang: str = "en") -> Turn:
    """The next turn of the same conversation, after ``decision`` was stored."""
    return turn(
        text, action=action, language=lang, status=decision.status or "bot", bot_state=decision.bot_state
    )


async def test_a_missing_deposit_is_collected_and_handed_to_people(faq_engine: Engine) -> None:
    txid = "a" * 64
    started = await faq_engine.respond(turn(action="form:start:missing_deposit", language="en"))
    assert started.bot_state and "form" in started.bot_state
    step = await faq_engine.respond(with_state(started, f"I sent 50 USDT on TRC20, txid {txid}"))
    assert step.status is None and "form" in (step.bot_state or {})
    state = step
    for answer in ["yesterday 3pm", "yes"]:
        state = await faq_engine.respond(with_state(state, answer))
        if state.status == "human":
            break
    for _ in range(3):  # confirm the summary, whatever the form still asks
        if state.status == "human":
            break
        state = await faq_engine.respond(with_state(state, action="form:yes"))
    assert state.status == "human"
    assert "support team has these details" in state.replies[-1].text
    details = (state.slots or {})["form"]
    assert details["values"]["asset"] == "USDT" and details["values"]["txid"] == txid
    assert "form" not in (state.bot_state or {})


async def test_a_question_in_the_middle_of_a_form_is_answered_then_the_form_resumes(
    faq_engine: Engine,
) -> None:
    started = await faq_engine.respond(turn(action="form:start:withdrawal_not_received", language="en"))
    interrupted = await faq_engine.respond(with_state(started, "how much are the withdrawal fees?"))
    assert len(interrupted.replies) >= 2
    assert "form" in (interrupted.bot_state or {})
    cancelled = await faq_engine.respond(with_state(interrupted, "cancel"))
    assert "form" not in (cancelled.bot_state or {})
    assert cancelled.status is None


def public_turn(text: str = "", *, action: str | None = None) -> Turn:
    base = turn(text, action=action)
    message = dataclasses.replace(base.message, surface=Surface.PUBLIC)
    conversation = dataclasses.replace(base.conversation, surface="public")
    return dataclasses.replace(base, message=message, conversation=conversation)


async def test_in_public_the_bot_answers_generally_and_moves_account_matters_to_private(
    faq_engine: Engine,
) -> None:
    # An X mention or a guild channel: the general answer, no form, no ticket, an invitation to DM.
    decision = await faq_engine.respond(public_turn("my deposit has not arrived after 2 hours"))
    [reply] = decision.replies
    assert "private message" in reply.text
    assert not any(a.startswith("form:") for a in actions(decision))
    assert decision.ticket is None and decision.status is None

    for action in ("human", "form:start:missing_deposit", "topic:support.ticket_status"):
        pressed = await faq_engine.respond(public_turn(action=action))
        assert [r.text for r in pressed.replies] == [TEXTS["en"]["go_private"]]
        assert pressed.ticket is None and pressed.status is None and pressed.bot_state is None

    zh = await faq_engine.respond(public_turn("我的充值还没到账"))
    assert "私信" in zh.replies[-1].text

"""Scripted form conversations through the web chat API over a real socket, in English and Chinese.

Every form of ``config/forms.yaml`` is driven the way a customer would: a question the FAQ answers with
the form's button, the answers, several values in one message, an invalid value and its correction, a
correction of an earlier answer, cancel, a question in the middle, "talk to a human" and an idle form
expiring. A completed or escalated form hands the conversation to people: a job opens the ticket and
the customer gets its number. SQLite runs the whole matrix; PostgreSQL the happy path and escalation.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from conversations.tables import Conversation, Job, Ticket
from core.engine.texts import TEXTS as ENGINE_TEXTS
from core.forms import load_forms
from core.forms.phrases import text as form_text
from tests.forms.conftest import EVM_ADDRESS, EVM_TXID, TRON_ADDRESS, TRON_TXID
from tests.web.conftest import LiveServer

FORMS = load_forms()
LANGS = ("en", "zh")
SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
POSTGRESQL = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
OPENED = {"en": re.compile(r"I've opened ticket (HL-\d+)"), "zh": re.compile(r"已为您创建工单 (HL-\d+)")}
URGENT_STEPS = {
    "en": ("URGENT", "Freeze your account", "Change your password", "Revoke all API keys"),
    "zh": ("紧急", "冻结账户", "修改登录密码", "删除所有 API 密钥"),
}
SUMMARY = {"en": "Here is what I have", "zh": "以下是我记录的信息"}
HUMAN = {"en": "I want to talk to a human", "zh": "转人工"}
CANCEL = {"en": "cancel", "zh": "取消"}
YES = {"en": "yes", "zh": "正确"}
GREETING = {"en": "hello", "zh": "你好"}
WELCOME = {"en": "support assistant", "zh": "客服助手"}
FAQ_QUESTION = {"en": "What are your trading fees?", "zh": "你们的交易手续费是多少？"}
FAQ_ANSWER = {"en": "fee", "zh": "手续费"}
BAD_EVM_ADDRESS = EVM_ADDRESS[:-1] + EVM_ADDRESS[-1].swapcase()
BAD_TRON_ADDRESS = TRON_ADDRESS[:-1] + TRON_ADDRESS[-1].swapcase()
TYPED = object()
"""The ticket stores the answer as the customer typed it (free text)."""


@dataclass(frozen=True)
class Answer:
    """One slot's answer in each language and the value the ticket stores (``None``: not compared)."""

    en: str
    zh: str
    stored: object = TYPED

    def said(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh

    def expected(self, lang: str) -> object:
        return self.said(lang) if self.stored is TYPED else self.stored


Bilingual = Mapping[str, str]


@dataclass(frozen=True)
class Exchange:
    """A customer message (text or button) and fragments the bot's answer must contain."""

    say: str | None = None
    action: str | None = None
    expect: tuple[str, ...] = ()
    absent: tuple[str, ...] = ()


@dataclass(frozen=True)
class Script:
    """What a customer says to one form.

    Attributes:
        question: A question the FAQ answers with this form's button.
        answers: One per slot, in order.
        several: One message with several values (``several_fills``: the slots it fills).
        invalid: Per language, answers leading to bad input, the bad input with the reason the bot must
            give, and the corrected input.
        correction: Per language, after how many answers, the message correcting an earlier one (and the
            bot's confirmation), and the values the ticket then stores.

    """

    question: Bilingual
    answers: tuple[Answer, ...]
    several: Bilingual | None = None
    several_fills: tuple[str, ...] = ()
    invalid: Mapping[str, tuple[Exchange, ...]] = field(default_factory=dict)
    correction: Mapping[str, tuple[int, Exchange, Mapping[str, object]]] = field(default_factory=dict)


def updated(lang: str, label: str, value: str) -> str:
    return form_text(lang, "changed", label=label, value=value)


SCRIPTS: dict[str, Script] = {
    "missing_deposit": Script(
        question={"en": "my deposit hasnt arrived", "zh": "充值没到账"},
        answers=(
            Answer("USDT", "USDT", "USDT"),
            Answer("TRC20", "波场", "TRON"),
            Answer("50", "50", "50"),
            Answer(TRON_TXID, TRON_TXID, TRON_TXID),
            Answer("yesterday 3pm", "昨天下午3点", None),
        ),
        several={
            "en": f"I sent 50 USDT on TRC20, txid {TRON_TXID}",
            "zh": f"我用TRC20网络转了50 USDT，交易哈希是 {TRON_TXID}",
        },
        several_fills=("asset", "network", "amount", "txid"),
        invalid={
            # A TXID of the wrong shape for the network: the network is doubted, the reason given, and
            # the right TXID pasted next is taken (then the network is confirmed again).
            "en": (
                *(Exchange(said) for said in ("USDT", "TRC20", "50")),
                Exchange(EVM_TXID, expect=("but you chose TRC20", "Did you mean ERC20")),
                Exchange(TRON_TXID, expect=(f"Updated Transaction ID (TXID): {TRON_TXID}",)),
                Exchange("TRC20", expect=("When did you send it",)),
            ),
            "zh": (
                *(Exchange(said) for said in ("USDT", "波场", "50")),
                Exchange(EVM_TXID, expect=("但您选择的是 TRC20", "您是不是指 ERC20")),
                Exchange(TRON_TXID, expect=(f"已更新交易哈希 (TXID)：{TRON_TXID}",)),
                Exchange("波场", expect=("您是什么时候转账的",)),
            ),
        },
        correction={
            "en": (
                3,
                Exchange("actually the amount is 60", expect=("Updated Amount: 60.",)),
                {"amount": "60"},
            ),
            "zh": (3, Exchange("金额改成60", expect=("已更新金额：60。",)), {"amount": "60"}),
        },
    ),
    "withdrawal_not_received": Script(
        question={"en": "withdrawal completed but not received", "zh": "提现显示成功但没到账"},
        answers=(
            Answer("USDT", "泰达币", "USDT"),
            Answer("ERC20", "以太坊", "ETH"),
            Answer("120.5", "120.5", "120.5"),
            Answer(EVM_TXID, EVM_TXID, EVM_TXID),
            Answer(EVM_ADDRESS, EVM_ADDRESS, EVM_ADDRESS),
        ),
        several={
            "en": f"I withdrew 120.5 USDT on ERC20 to {EVM_ADDRESS}, txid {EVM_TXID}",
            "zh": f"我在ERC20网络提现了120.5 USDT到 {EVM_ADDRESS}，交易哈希 {EVM_TXID}",
        },
        several_fills=("asset", "network", "amount", "txid", "address"),
        invalid={
            # An address with a bad checksum (EIP-55 capitals; TRON base58check), then the right one.
            "en": (
                *(Exchange(said) for said in ("USDT", "ERC20", "120.5", EVM_TXID)),
                Exchange(BAD_EVM_ADDRESS, expect=("checksum does not match", "EIP-55")),
                Exchange(EVM_ADDRESS, expect=(f"Got it: {EVM_ADDRESS}", SUMMARY["en"])),
            ),
            "zh": (
                *(Exchange(said) for said in ("USDT", "TRC20", "120.5", TRON_TXID)),
                Exchange(BAD_TRON_ADDRESS, expect=("校验和不匹配",)),
                Exchange(TRON_ADDRESS, expect=(f"已记录：{TRON_ADDRESS}", SUMMARY["zh"])),
            ),
        },
        correction={
            "en": (
                2,
                Exchange("sorry, the network should be BEP20", expect=("Updated Network: BEP20.",)),
                {"network": "BSC"},
            ),
            "zh": (
                2,
                Exchange("网络选错了，应该是BEP20", expect=("已更新网络：BEP20。",)),
                {"network": "BSC"},
            ),
        },
    ),
    "account_compromised": Script(
        question={"en": "my account got hacked", "zh": "我的账户被盗了"},
        answers=(
            Answer("12345678", "12345678", "12345678"),
            Answer("john@example.com", "john@example.com", "john@example.com"),
            Answer("Someone logged in from another country", "有人从国外登录了我的账户"),
            Answer("200 USDT withdrawn", "被提走了200 USDT"),
        ),
        several={
            "en": "my uid is 12345678 and my email is john@example.com",
            "zh": "UID 12345678，邮箱 john@example.com",
        },
        several_fills=("uid", "email"),
        invalid={
            "en": (
                Exchange("12345678"),
                Exchange("john@@example.com", expect=("exactly one @",)),
                Exchange(
                    "john@example.com", expect=("Got it: john@example.com", "Please describe what happened")
                ),
            ),
            "zh": (
                Exchange("12345678"),
                Exchange("john@@example.com", expect=("只能有一个 @",)),
                Exchange("john@example.com", expect=("已记录：john@example.com", "请描述一下经过")),
            ),
        },
        # Corrected while a free-text question is open: the correction must not become its answer.
        correction={
            "en": (
                2,
                Exchange(
                    "change the uid to 87654321",
                    expect=("Updated UID: 87654321.", "Please describe what happened"),
                    absent=("Got it",),
                ),
                {"uid": "87654321"},
            ),
            "zh": (
                2,
                Exchange(
                    "UID改成87654321", expect=("已更新UID：87654321。", "请描述一下经过"), absent=("已记录",)
                ),
                {"uid": "87654321"},
            ),
        },
    ),
    "lost_2fa": Script(
        question={"en": "lost my phone with google authenticator on it", "zh": "手机丢了 谷歌验证器没了"},
        answers=(
            Answer("12345678", "12345678", "12345678"),
            Answer("john@example.com", "john@example.com", "john@example.com"),
        ),
        several={"en": "uid 12345678, email john@example.com", "zh": "UID是12345678，邮箱是john@example.com"},
        several_fills=("uid", "email"),
        invalid={
            "en": (
                Exchange("12345", expect=("A UID has 6 to 12 digits; yours has 5",)),
                Exchange("12345678", expect=("Got it: 12345678", "Which e-mail address")),
            ),
            "zh": (
                Exchange("12345", expect=("您提供的有 5 位",)),
                Exchange("12345678", expect=("已记录：12345678", "账户绑定的邮箱地址是什么")),
            ),
        },
        correction={
            "en": (
                1,
                Exchange("change the uid to 87654321", expect=("Updated UID: 87654321.",)),
                {"uid": "87654321"},
            ),
            "zh": (1, Exchange("UID改成87654321", expect=("已更新UID：87654321。",)), {"uid": "87654321"}),
        },
    ),
    "kyc_rejected": Script(
        question={"en": "my verification got declined", "zh": "实名认证失败"},
        answers=(
            Answer("12345678", "12345678", "12345678"),
            Answer("Document image is blurry", "证件照片模糊"),
        ),
        invalid={
            "en": (
                Exchange("abc", expect=("A UID has only digits",)),
                Exchange("12345678", expect=("Got it: 12345678", "What rejection reason")),
            ),
            "zh": (
                Exchange("abc", expect=("UID 只包含数字",)),
                Exchange("12345678", expect=("已记录：12345678", "拒绝原因是什么")),
            ),
        },
        correction={
            "en": (
                1,
                Exchange(
                    "change the uid to 87654321", expect=("Updated UID: 87654321.", "What rejection reason")
                ),
                {"uid": "87654321"},
            ),
            "zh": (
                1,
                Exchange(
                    "UID改成87654321", expect=("已更新UID：87654321。", "拒绝原因是什么"), absent=("已记录",)
                ),
                {"uid": "87654321"},
            ),
        },
    ),
    "p2p_dispute": Script(
        question={"en": "i paid but seller didnt release", "zh": "已付款卖家不放币"},
        answers=(
            Answer("P2P-2024112012345", "P2P-2024112012345", "P2P-2024112012345"),
            Answer("I paid but the seller did not release the coins", "我已付款但卖家一直不放币"),
        ),
        invalid={
            "en": (
                Exchange("xyz", expect=("does not look like an order ID", "yours has 3 characters")),
                Exchange(
                    "P2P-2024112012345", expect=("Got it: P2P-2024112012345", "What happened with the order")
                ),
            ),
            "zh": (
                Exchange("xyz", expect=("这看起来不是订单号", "您提供的有 3 个字符")),
                Exchange("P2P-2024112012345", expect=("已记录：P2P-2024112012345", "这个订单发生了什么问题")),
            ),
        },
        correction={
            "en": (
                1,
                Exchange(
                    "change the order id to P2P-2024112099999",
                    expect=("Updated Order ID: P2P-2024112099999.", "What happened with the order"),
                    absent=("Got it",),
                ),
                {"order_id": "P2P-2024112099999"},
            ),
            "zh": (
                1,
                Exchange(
                    "订单号改成P2P-2024112099999",
                    expect=("已更新订单号：P2P-2024112099999。", "这个订单发生了什么问题"),
                    absent=("已记录",),
                ),
                {"order_id": "P2P-2024112099999"},
            ),
        },
    ),
    "unfilled_order": Script(
        question={"en": "limit order not executed", "zh": "限价单没成交"},
        answers=(
            Answer("2024112012345", "2024112012345", "2024112012345"),
            Answer("BTC/USDT", "btcusdt", "BTC/USDT"),
        ),
        several={"en": "order 2024112012345 on BTC/USDT", "zh": "订单 2024112012345，交易对 BTC/USDT"},
        several_fills=("order_id", "pair"),
        invalid={
            "en": (
                Exchange("2024112012345"),
                Exchange("BTC", expect=("Please write the trading pair as two symbols",)),
                Exchange("BTC/USDT", expect=("Got it: BTC/USDT", SUMMARY["en"])),
            ),
            "zh": (
                Exchange("2024112012345"),
                Exchange("香蕉", expect=("请按两个币种代码填写交易对",)),
                Exchange("btcusdt", expect=("已记录：BTC/USDT", SUMMARY["zh"])),
            ),
        },
        # Corrected at the summary.
        correction={
            "en": (
                2,
                Exchange("change the pair to ETH/USDT", expect=("Updated Trading pair: ETH/USDT.",)),
                {"pair": "ETH/USDT"},
            ),
            "zh": (
                2,
                Exchange("交易对改成ETH/USDT", expect=("已更新交易对：ETH/USDT。",)),
                {"pair": "ETH/USDT"},
            ),
        },
    ),
    "talk_to_human": Script(
        question={"en": "connect me to an agent", "zh": "我要人工客服"},
        answers=(Answer("My card payment failed twice", "我的银行卡付款失败了两次"),),
        invalid={
            "en": (
                Exchange("a", expect=("Could you describe it in a few more words?",)),
                Exchange(
                    "My card payment failed twice",
                    expect=("Got it: My card payment failed twice", SUMMARY["en"]),
                ),
            ),
            "zh": (
                Exchange("好", expect=("能再多用几个字描述一下吗",)),
                Exchange(
                    "我的银行卡付款失败了两次", expect=("已记录：我的银行卡付款失败了两次", SUMMARY["zh"])
                ),
            ),
        },
        correction={
            "en": (
                1,
                Exchange(
                    "change the summary to my card was charged twice",
                    expect=("Updated Summary: my card was charged twice.",),
                ),
                {"summary": "my card was charged twice"},
            ),
            "zh": (
                1,
                Exchange("问题改成 充值失败", expect=("已更新问题概要：充值失败。",)),
                {"summary": "充值失败"},
            ),
        },
    ),
}
CASES = [(form, lang) for form in SCRIPTS for lang in LANGS]


@dataclass
class Said:
    """The bot's replies to one message."""

    replies: list[dict[str, Any]]

    @property
    def text(self) -> str:
        return "\n".join(r["text"] for r in self.replies)

    @property
    def actions(self) -> list[str]:
        return [b["action"] for r in self.replies for b in r["buttons"]]


@dataclass
class Chat:
    """One customer's web chat session."""

    live: LiveServer
    session: str
    lang: str
    sent: int = 0
    last_id: int = 0

    async def send(self, text: str | None = None, *, action: str | None = None) -> Said:
        self.sent += 1
        body: dict[str, str] = {"session_id": self.session, "message_id": str(self.sent)}
        if action is not None:
            body["action"] = action
        else:
            assert text is not None
            body["text"] = text
        response = await self.live.client.post("/api/chat/messages", json=body)
        assert response.status_code == 200, response.text
        replies = response.json()["replies"]
        if replies:
            self.last_id = replies[-1]["id"]
        return Said(replies)

    async def exchange(self, step: Exchange) -> Said:
        said = await self.send(step.say, action=step.action)
        for fragment in step.expect:
            assert fragment in said.text, f"{step.say or step.action!r}: {fragment!r} not in {said.text!r}"
        for fragment in step.absent:
            assert fragment not in said.text, f"{step.say or step.action!r}: {fragment!r} in {said.text!r}"
        return said

    async def later(self, pattern: re.Pattern[str], timeout: float = 10.0) -> tuple[re.Match[str], str]:
        """Long-poll ``GET /api/chat/messages`` until a message matching ``pattern`` arrives; return both."""
        deadline = time.monotonic() + timeout
        seen: list[str] = []
        while (left := deadline - time.monotonic()) > 0:
            response = await self.live.client.get(
                "/api/chat/messages",
                params={"session_id": self.session, "after": self.last_id, "wait": min(left, 5.0)},
            )
            assert response.status_code == 200, response.text
            for message in response.json()["messages"]:
                self.last_id = message["id"]
                seen.append(message["text"])
                found = pattern.search(message["text"])
                if found is not None:
                    return found, message["text"]
        raise AssertionError(f"no message matching {pattern.pattern!r} within {timeout}s; got {seen}")

    async def start(self, form: str) -> Said:
        """Greet (which sets the language) and press the form's button."""
        greeted = await self.send(GREETING[self.lang])
        assert WELCOME[self.lang] in greeted.text
        started = await self.send(action=f"form:start:{form}")
        spec = FORMS.get(form)
        assert spec.intro.text(self.lang) in started.text
        assert spec.slots[0].prompt.text(self.lang) in started.text
        return started

    async def answer(self, answers: tuple[Answer, ...]) -> Said:
        said = Said([])
        for answer in answers:
            said = await self.send(answer.said(self.lang))
        return said

    # -- the store -------------------------------------------------------------------------------------

    async def conversation(self) -> Conversation:
        async with self.live.runtime.db.reader() as session:
            row = await session.scalar(select(Conversation).where(Conversation.thread_key == self.session))
        assert row is not None, self.session
        return row

    async def ticket(self) -> Ticket | None:
        conversation = await self.conversation()
        if conversation.ticket_id is None:
            return None
        async with self.live.runtime.db.reader() as session:
            return await session.get(Ticket, conversation.ticket_id)

    async def jobs(self) -> int:
        conversation = await self.conversation()
        async with self.live.runtime.db.reader() as session:
            count = await session.scalar(
                select(func.count()).select_from(Job).where(Job.conversation_id == conversation.id)
            )
        return int(count or 0)

    async def idle_for(self, minutes: float) -> None:
        """Make the open form look idle: move its last-activity time back in ``bot_state``."""
        async with self.live.runtime.db.transaction() as session:
            row = await session.scalar(select(Conversation).where(Conversation.thread_key == self.session))
            assert row is not None and "form" in row.bot_state
            moved = (datetime.now(UTC) - timedelta(minutes=minutes)).isoformat()
            form = {**row.bot_state["form"], "updated": moved, "started": moved}
            row.bot_state = {**row.bot_state, "form": form}
        # The pipeline keeps conversation state in memory: tell it the stored one changed.
        self.live.runtime.pipeline.forget("webchat", self.session)


def handed_over(lang: str, key: str) -> tuple[str, str]:
    return form_text(lang, key), ENGINE_TEXTS[lang]["form_handed_over"]


async def expect_ticket(
    chat: Chat, form: str, values: Mapping[str, object], *, escalated: bool = False
) -> Ticket:
    """The acknowledgement arrives with the ticket's number and the ticket holds the details."""
    spec = FORMS.get(form)
    found, ack = await chat.later(OPENED[chat.lang])
    ticket = await chat.ticket()
    assert ticket is not None
    assert found.group(1) == f"HL-{ticket.number}"
    assert ticket.category == spec.category
    assert ticket.priority == spec.priority
    details = ticket.details
    assert details["form"] == form
    for name, value in values.items():
        if value is None:
            assert name in details["values"], (name, details)
        else:
            assert details["values"][name] == value, (name, details["values"])
    if escalated:
        assert details["missing"] == [s.name for s in spec.slots if s.required and s.name not in values]
    else:
        assert details["missing"] == []
        assert set(details["values"]) == {s.name for s in spec.slots}
    if spec.priority == "urgent":
        for step in URGENT_STEPS[chat.lang]:
            assert step in ack, (step, ack)
    conversation = await chat.conversation()
    assert conversation.status == "human"
    assert "form" not in conversation.bot_state
    return ticket


# -- the scenarios -----------------------------------------------------------------------------------


async def happy_path(chat: Chat, form: str) -> None:
    """The FAQ answer offers the form; every answer; the summary; "yes"; the ticket."""
    script, spec, lang = SCRIPTS[form], FORMS.get(form), chat.lang
    answered = await chat.send(script.question[lang])
    assert f"form:start:{form}" in answered.actions, answered.text
    started = await chat.send(action=f"form:start:{form}")
    assert spec.intro.text(lang) in started.text
    for answer, following in zip(script.answers, (*spec.slots[1:], None), strict=True):
        said = await chat.send(answer.said(lang))
        if following is not None:
            assert following.prompt.text(lang) in said.text, said.text
        else:
            assert SUMMARY[lang] in said.text
            assert all(s.label.text(lang) in said.text for s in spec.slots), said.text
    done = await chat.exchange(Exchange(YES[lang], expect=handed_over(lang, "completed")))
    assert done.actions == []
    await expect_ticket(
        chat, form, {s.name: a.expected(lang) for s, a in zip(spec.slots, script.answers, strict=True)}
    )


async def several_at_once(chat: Chat, form: str) -> None:
    """Several values in one message are all taken; the form asks only for the rest."""
    script, spec, lang = SCRIPTS[form], FORMS.get(form), chat.lang
    if script.several is None:
        return  # a single structured detail: nothing to combine
    await chat.start(form)
    said = await chat.send(script.several[lang])
    filled = set(script.several_fills)
    taken = (await chat.conversation()).bot_state["form"]["values"]
    assert set(taken) == filled, (script.several[lang], taken)
    rest = [(s, a) for s, a in zip(spec.slots, script.answers, strict=True) if s.name not in filled]
    if rest:
        assert rest[0][0].prompt.text(lang) in said.text, said.text
        said = await chat.answer(tuple(a for _, a in rest))
    assert SUMMARY[lang] in said.text
    await chat.exchange(Exchange(action="form:yes", expect=handed_over(lang, "completed")))
    await expect_ticket(
        chat, form, {s.name: a.expected(lang) for s, a in zip(spec.slots, script.answers, strict=True)}
    )


async def invalid_then_corrected(chat: Chat, form: str) -> None:
    """Invalid input is re-asked with the specific reason; the corrected value is taken."""
    await chat.start(form)
    for step in SCRIPTS[form].invalid[chat.lang]:
        await chat.exchange(step)


async def correct_earlier(chat: Chat, form: str) -> None:
    """An earlier answer is corrected; the summary shows the new value and the ticket stores it."""
    script, spec, lang = SCRIPTS[form], FORMS.get(form), chat.lang
    after, step, changed = script.correction[lang]
    await chat.start(form)
    await chat.answer(script.answers[:after])
    said = await chat.exchange(step)
    if after < len(script.answers):
        assert spec.slots[after].prompt.text(lang) in said.text, said.text
        said = await chat.answer(script.answers[after:])
    assert SUMMARY[lang] in said.text
    await chat.exchange(Exchange(action="form:yes", expect=handed_over(lang, "completed")))
    values = {s.name: a.expected(lang) for s, a in zip(spec.slots, script.answers, strict=True)}
    await expect_ticket(chat, form, {**values, **changed})


async def cancel(chat: Chat, form: str) -> None:
    """Cancel ends the form, sends nothing to anyone, and the bot answers normally again."""
    lang = chat.lang
    await chat.start(form)
    await chat.answer(SCRIPTS[form].answers[:1])
    said = await chat.exchange(Exchange(CANCEL[lang], expect=(form_text(lang, "cancelled"),)))
    assert "form:cancel" not in said.actions
    conversation = await chat.conversation()
    assert "form" not in conversation.bot_state and conversation.status == "bot"
    assert await chat.jobs() == 0 and conversation.ticket_id is None
    await chat.exchange(Exchange(GREETING[lang], expect=(WELCOME[lang],)))


async def faq_in_the_middle(chat: Chat, form: str) -> None:
    """A question mid-form is answered from the FAQ, then the form asks its question again."""
    script, spec, lang = SCRIPTS[form], FORMS.get(form), chat.lang
    before = min(1, len(script.answers) - 1)
    await chat.start(form)
    await chat.answer(script.answers[:before])
    said = await chat.send(FAQ_QUESTION[lang])
    assert FAQ_ANSWER[lang] in said.replies[0]["text"], said.text
    assert form_text(lang, "resume") in said.text
    assert spec.slots[before].prompt.text(lang) in said.replies[-1]["text"]
    said = await chat.answer(script.answers[before:])
    assert SUMMARY[lang] in said.text
    await chat.exchange(Exchange(YES[lang], expect=handed_over(lang, "completed")))
    await expect_ticket(
        chat, form, {s.name: a.expected(lang) for s, a in zip(spec.slots, script.answers, strict=True)}
    )


async def escalation(chat: Chat, form: str) -> None:
    """ "Talk to a human" mid-form opens a ticket with the details so far; the bot then stays quiet."""
    script, spec, lang = SCRIPTS[form], FORMS.get(form), chat.lang
    await chat.start(form)
    await chat.answer(script.answers[:1])
    await chat.exchange(Exchange(HUMAN[lang], expect=handed_over(lang, "escalated")))
    ticket = await expect_ticket(
        chat, form, {spec.slots[0].name: script.answers[0].expected(lang)}, escalated=True
    )
    assert ticket.subject.startswith(spec.title.text(lang))
    quiet = await chat.send("hello?")
    assert quiet.replies == []


async def expiry(chat: Chat, form: str) -> None:
    """A form idle for 29 minutes goes on; one idle past the 30-minute timeout expires politely."""
    script, spec, lang = SCRIPTS[form], FORMS.get(form), chat.lang
    assert FORMS.idle_timeout == timedelta(minutes=30)
    await chat.start(form)
    await chat.idle_for(29)
    said = await chat.send(script.answers[0].said(lang))
    assert form_text(lang, "expired") not in said.text
    following = spec.slots[1].prompt.text(lang) if len(spec.slots) > 1 else SUMMARY[lang]
    assert following in said.text, said.text
    await chat.idle_for(31)
    last = script.answers[1].said(lang) if len(script.answers) > 1 else YES[lang]
    await chat.exchange(Exchange(last, expect=(form_text(lang, "expired"),), absent=(SUMMARY[lang],)))
    conversation = await chat.conversation()
    assert "form" not in conversation.bot_state and conversation.status == "bot"
    assert await chat.jobs() == 0
    await chat.exchange(Exchange(GREETING[lang], expect=(WELCOME[lang],)))


Scenario = Callable[[Chat, str], Awaitable[None]]
SCENARIOS: dict[str, Scenario] = {
    "happy": happy_path,
    "several": several_at_once,
    "invalid": invalid_then_corrected,
    "correction": correct_earlier,
    "cancel": cancel,
    "faq": faq_in_the_middle,
    "escalation": escalation,
    "expiry": expiry,
}


async def run_scenarios(live: LiveServer, form: str, lang: str, names: tuple[str, ...]) -> None:
    """Run each scenario in its own session, concurrently; report every one that failed."""
    chats = {name: Chat(live, f"{form}.{lang}.{name}", lang) for name in names}
    outcomes = await asyncio.gather(
        *(SCENARIOS[name](chats[name], form) for name in names), return_exceptions=True
    )
    failed: list[Exception] = []
    for name, outcome in zip(names, outcomes, strict=True):
        if isinstance(outcome, BaseException):
            if not isinstance(outcome, Exception):
                raise outcome
            outcome.add_note(f"scenario {name!r} of {form} ({lang})")
            failed.append(outcome)
    if failed:
        raise ExceptionGroup(f"{len(failed)} of {len(names)} scenarios failed for {form} ({lang})", failed)


def test_every_form_has_a_script() -> None:
    assert {f.id for f in FORMS.forms} == set(SCRIPTS)
    for form, script in SCRIPTS.items():
        assert len(script.answers) == len(FORMS.get(form).slots), form


@SQLITE
@pytest.mark.parametrize(("form", "lang"), CASES)
async def test_form_conversations(live: LiveServer, form: str, lang: str) -> None:
    await run_scenarios(live, form, lang, tuple(SCENARIOS))


@POSTGRESQL
@pytest.mark.parametrize("form", list(SCRIPTS))
async def test_happy_path_and_escalation_on_postgresql(live: LiveServer, form: str) -> None:
    await run_scenarios(live, form, "en", ("happy", "escalation"))

"""The channel's pure parts: update classification, long texts, callback data, pacing."""

from __future__ import annotations

import json

import pytest

from adapters.telegram_limits import SendPacer
from adapters.telegram_render import CallbackCodec, split_text, utf16_length
from adapters.telegram_updates import (
    BotIdentity,
    CustomerTurn,
    Ignored,
    MalformedUpdate,
    StaffMessage,
    classify,
    parse_update,
)
from conversations.values import Button, Surface
from core.channels import RateLimited
from tests.shared_data import shared_path
from tests.telegram.updates import (
    GROUP,
    STAFF_CHAT,
    bot_message,
    mention_entities,
    message,
    text_update,
    update,
)

ME = BotIdentity(4242, "helpline_test_bot")


class MemoryState:
    """The ChannelState port in memory (the channel's real store is tested end to end)."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    async def get(self, key: str) -> str | None:
        return self.values.get(key)

    async def put(self, key: str, value: str) -> None:
        self.values[key] = value


async def classify_raw(data: dict[str, object], staff: int | None = None) -> object:
    return await classify(parse_update(data, None), ME, CallbackCodec(MemoryState()), staff, 1_000_000)


SAMPLES = {
    "01_message_text_minimal.json": "malformed",
    "02_message_text.json": "turn",
    "03_forwarded_message.json": "turn",
    "04_forwarded_channel_message.json": "turn",
    "05_message_with_reply.json": "turn",
    "06_edited_message.json": "turn",
    "07_message_with_entities.json": "turn",
    "08_message_with_audio.json": "malformed",
    "09_voice_message.json": "malformed",
    "10_message_with_document.json": "malformed",
    "11_inline_query.json": "ignored",
    "12_chosen_inline_result.json": "ignored",
    "13_callback_query.json": "malformed",
}


@pytest.mark.parametrize("name", sorted(SAMPLES))
async def test_each_documentation_sample_is_handled_or_refused_with_a_reason(name: str) -> None:
    data = json.loads(shared_path("channels", "telegram", name).read_text())
    try:
        event = await classify_raw(data)
    except MalformedUpdate as exc:
        assert SAMPLES[name] == "malformed"
        assert "cannot be read" in str(exc)
        return
    if SAMPLES[name] == "ignored":
        assert isinstance(event, Ignored) and "not handled" in event.reason
        return
    assert SAMPLES[name] == "turn" and isinstance(event, CustomerTurn)
    assert event.message.thread_key == "1111111"
    assert event.message.surface is Surface.PRIVATE
    assert event.message.raw is not None and event.message.raw["update_id"] == 10000


async def test_group_messages_count_only_when_addressed() -> None:
    plain = await classify_raw(text_update("anyone around?", chat_id=GROUP))
    assert isinstance(plain, Ignored) and "not addressed" in plain.reason

    text = "@helpline_test_bot how do I withdraw?"
    mentioned = await classify_raw(text_update(text, chat_id=GROUP, entities=mention_entities(text)))
    assert isinstance(mentioned, CustomerTurn)
    assert mentioned.message.surface is Surface.PUBLIC
    assert mentioned.message.text == "how do I withdraw?"

    replied = await classify_raw(text_update("and fees?", chat_id=GROUP, reply_to=bot_message(9, GROUP)))
    assert isinstance(replied, CustomerTurn) and replied.message.reply_to_external_id == f"{GROUP}:9"

    other_bot = "/status@some_other_bot"
    entities = [{"type": "bot_command", "offset": 0, "length": len(other_bot)}]
    assert isinstance(await classify_raw(text_update(other_bot, chat_id=GROUP, entities=entities)), Ignored)


async def test_the_staff_group_is_not_a_customer_conversation() -> None:
    event = await classify_raw(text_update("on it", chat_id=STAFF_CHAT), staff=STAFF_CHAT)
    assert isinstance(event, StaffMessage)


async def test_deep_links_map_to_engine_actions() -> None:
    cases = {
        "/start topic-support__ticket_status": "topic:support.ticket_status",
        "/start form-missing_deposit": "form:start:missing_deposit",
        "/start lang-zh": "lang:zh",
        "/ticket": "form:start:talk_to_human",
    }
    for text, action in cases.items():
        event = await classify_raw(update(message=message(text)))
        assert isinstance(event, CustomerTurn) and event.message.action == action, text
    unknown = await classify_raw(update(message=message("/start promo-2024")))
    assert isinstance(unknown, CustomerTurn) and (unknown.message.text, unknown.message.action) == (
        "hello",
        None,
    )


def test_long_texts_split_on_paragraphs_within_the_limit() -> None:
    paragraphs = [f"Paragraph {i}. " + "word " * 300 for i in range(8)]
    parts = split_text("\n\n".join(paragraphs))
    assert all(utf16_length(p) <= 4096 for p in parts)
    assert len(parts) == 4  # two paragraphs fit in each part, three do not
    assert all(p.startswith("Paragraph") for p in parts)
    assert "".join(parts).replace("\n", "").replace(" ", "") == "".join(paragraphs).replace(" ", "")


def test_splitting_counts_utf16_and_never_halves_a_character() -> None:
    text = "😀" * 3000  # 6,000 UTF-16 units, no boundary at all
    parts = split_text(text)
    assert [utf16_length(p) for p in parts] == [4096, 6000 - 4096]
    assert "".join(parts) == text


async def test_long_actions_travel_as_durable_tokens() -> None:
    state = MemoryState()
    codec = CallbackCodec(state)
    long_action = "topic:" + "very.long.topic.identifier." * 4
    short = await codec.encode("lang:zh")
    token = await codec.encode(long_action)
    assert short == "lang:zh"
    assert len(token.encode()) <= 64 and token != long_action
    assert await CallbackCodec(state).decode(token) == long_action  # after a restart too
    assert await codec.decode("t:never-issued") is None
    markup = await codec.keyboard([Button("A", "human"), Button("B", long_action)])
    assert markup is not None
    assert [row[0].callback_data for row in markup.inline_keyboard] == ["human", token]


def test_pacing_allows_a_burst_then_spaces_sends_and_hands_long_waits_back() -> None:
    now = [0.0]
    pacer = SendPacer(30, 1, 20, max_wait=5, clock=lambda: now[0])
    assert [pacer.reserve(1) for _ in range(3)] == [0, 0, 0]
    assert pacer.reserve(1) == pytest.approx(1.0)
    assert pacer.reserve(2) == 0  # another chat is not held back
    with pytest.raises(RateLimited) as refused:
        for _ in range(10):
            pacer.reserve(1)
    assert refused.value.retry_after is not None and refused.value.retry_after > 5
    group_waits = [pacer.reserve(GROUP) for _ in range(4)]
    assert group_waits[:3] == [0, 0, 0] and group_waits[3] == pytest.approx(3.0)

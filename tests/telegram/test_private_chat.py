"""Private chats end to end in polling mode.

Fake Bot API → python-telegram-bot → the channel → pipeline → store (SQLite and PostgreSQL)
→ outbox → dispatcher → python-telegram-bot → fake Bot API.
"""

from __future__ import annotations

import asyncio
import logging

import pytest
from sqlalchemy import select

from conversations.channel_state import ChannelStateStore
from conversations.tables import Conversation, OutboxEntry
from tests.telegram.conftest import SQLITE_ONLY, Helpline, Start
from tests.telegram.fake_bot_api import Failure
from tests.telegram.updates import CUSTOMER, again, button_press, message, text_update, update, user


async def outbox(helpline: Helpline) -> list[OutboxEntry]:
    async with helpline.runtime.db.reader() as session:
        return list((await session.scalars(select(OutboxEntry).order_by(OutboxEntry.id))).all())


async def until_outbox(helpline: Helpline, status: str, timeout: float = 10.0) -> list[OutboxEntry]:
    async with asyncio.timeout(timeout):
        while not (entries := await outbox(helpline)) or any(e.status != status for e in entries):
            await asyncio.sleep(0.02)
    return entries


async def test_a_question_is_answered_with_an_inline_keyboard(start_helpline: Start) -> None:
    helpline = await start_helpline()
    api = helpline.api
    await api.push(text_update("hello", message_id=11))

    await api.wait_for(lambda: len(api.sent(CUSTOMER)) == 1)
    [call] = api.sent(CUSTOMER)
    assert "support assistant" in call.params["text"]
    keyboard = call.params["reply_markup"]["inline_keyboard"]
    assert [row[0]["callback_data"] for row in keyboard] == ["human", "lang:zh"]
    assert call.params["reply_parameters"]["message_id"] == 11
    assert "parse_mode" not in call.params  # plain text: nothing to escape
    [stored] = await helpline.until_stored(1)
    assert stored.external_id == f"{CUSTOMER}:11"
    assert stored.raw is not None and stored.raw["message"]["text"] == "hello"
    [entry] = await until_outbox(helpline, "sent")
    assert entry.external_id == f"{CUSTOMER}:1000"


async def test_an_update_delivered_twice_is_stored_and_answered_once(start_helpline: Start) -> None:
    helpline = await start_helpline()
    api = helpline.api
    twice = text_update("hello", message_id=12)
    await api.push(twice, redelivered := again(twice))

    stored = await helpline.until_stored(1)
    state = ChannelStateStore(helpline.runtime.db, "telegram")
    async with asyncio.timeout(10):
        while await state.get("offset") != str(redelivered["update_id"] + 1):
            await asyncio.sleep(0.02)
    await until_outbox(helpline, "sent")
    assert len(await helpline.messages("in")) == len(stored) == 1
    assert len(await outbox(helpline)) == 1
    assert len(api.sent(CUSTOMER)) == 1


async def test_an_edit_is_recorded_against_the_original(start_helpline: Start) -> None:
    helpline = await start_helpline()
    await helpline.api.push(text_update("my deposit has not arrived", message_id=13))
    [original] = await helpline.until_stored(1)
    edited = message(
        "my USDT deposit has not arrived", message_id=13, edit_date=original.created_at.timestamp()
    )
    await helpline.api.push(update(edited_message=edited))

    [_, edit] = await helpline.until_stored(2)
    assert edit.edit_of_id == original.id
    assert edit.text == "my USDT deposit has not arrived"
    assert edit.external_id is not None and edit.external_id.startswith(f"{CUSTOMER}:13:edit:")


async def test_a_button_is_answered_its_keyboard_removed_and_a_second_press_ignored(
    start_helpline: Start,
) -> None:
    helpline = await start_helpline()
    api = helpline.api
    await api.push(text_update("hello", message_id=14))
    await api.wait_for(lambda: len(api.sent(CUSTOMER)) == 1)
    keyboard_id = api.posted(CUSTOMER)[0]["message_id"]

    await api.push(button_press("lang:zh", keyboard_id, query_id="q-1"))
    await api.wait_for(lambda: len(api.sent(CUSTOMER)) == 2)
    assert api.sent(CUSTOMER)[1].params["text"] == "好的，接下来我会用中文回复您。"
    assert [c.params["callback_query_id"] for c in api.of("answerCallbackQuery")] == ["q-1"]
    [removed] = api.of("editMessageReplyMarkup")
    assert int(removed.params["message_id"]) == keyboard_id
    assert "reply_markup" not in removed.params

    await api.push(button_press("lang:zh", keyboard_id, query_id="q-2"))
    await api.wait_for(lambda: len(api.of("answerCallbackQuery")) == 2)
    await api.push(text_update("hello", message_id=15))
    await api.wait_for(lambda: len(api.sent(CUSTOMER)) == 3)
    assert "客服助手" in api.sent(CUSTOMER)[2].params["text"]  # the language stuck; nothing between
    presses = [m for m in await helpline.messages("in") if m.action == "lang:zh"]
    assert len(presses) == 1


@SQLITE_ONLY
async def test_commands_and_deep_links_reach_the_engine(start_helpline: Start) -> None:
    helpline = await start_helpline()
    api = helpline.api
    zh = user(language="zh-hans")
    await api.push(text_update("/start", message_id=20, sender=zh))
    await api.wait_for(lambda: len(api.sent(CUSTOMER)) == 1)
    assert "客服助手" in api.sent(CUSTOMER)[0].params["text"]  # greeted in the customer's language

    await api.push(text_update("/language en", message_id=21))
    await api.wait_for(lambda: len(api.sent(CUSTOMER)) == 2)
    assert api.sent(CUSTOMER)[1].params["text"] == "I'll answer in English from now on."

    await api.push(text_update("/status", message_id=22))
    await api.wait_for(lambda: len(api.sent(CUSTOMER)) == 3)
    assert "ticket" in api.sent(CUSTOMER)[2].params["text"].lower()

    await api.push(text_update("/start human", message_id=23))
    await api.wait_for(lambda: len(api.sent(CUSTOMER)) == 4)
    assert api.sent(CUSTOMER)[3].params["text"].startswith("I've asked a support agent")
    actions = [m.action for m in await helpline.messages("in")]
    assert actions == [None, None, "topic:support.ticket_status", "human"]


@SQLITE_ONLY
async def test_a_form_is_completed_through_buttons_and_text(start_helpline: Start) -> None:
    helpline = await start_helpline()
    api = helpline.api
    await api.push(text_update("/ticket", message_id=30))
    await api.wait_for(lambda: len(api.sent(CUSTOMER)) >= 1)
    assert "support agent" in api.sent(CUSTOMER)[0].params["text"]

    await api.push(text_update("I cannot log in since the app update yesterday", message_id=31))
    await api.wait_for(lambda: any(c.params.get("reply_markup") for c in api.sent(CUSTOMER)[1:]))
    confirm = next(c for c in api.sent(CUSTOMER)[1:] if c.params.get("reply_markup"))
    buttons = [row[0] for row in confirm.params["reply_markup"]["inline_keyboard"]]
    assert all(len(b["callback_data"].encode()) <= 64 for b in buttons)
    keyboard_id = next(m["message_id"] for m in api.posted(CUSTOMER) if m["text"] == confirm.params["text"])
    sent_before = len(api.sent(CUSTOMER))
    await api.push(button_press(buttons[0]["callback_data"], keyboard_id, query_id="q-form"))
    await api.wait_for(lambda: len(api.sent(CUSTOMER)) > sent_before)

    async with helpline.runtime.db.reader() as session:
        conversation = await session.scalar(select(Conversation).where(Conversation.channel == "telegram"))
    assert conversation is not None
    assert conversation.status == "human"
    assert "cannot log in" in str(conversation.slots["form"])


@SQLITE_ONLY
async def test_a_429_is_retried_after_retry_after_and_sent_once(start_helpline: Start) -> None:
    helpline = await start_helpline()
    api = helpline.api
    api.fail("sendMessage", Failure(429, "Too Many Requests: retry after 1", retry_after=1))
    await api.push(text_update("hello", message_id=40))

    [entry] = await until_outbox(helpline, "sent")
    assert entry.attempts == 2
    assert len(api.posted(CUSTOMER)) == 1  # the first attempt was refused, the second delivered
    refused, delivered = api.sent(CUSTOMER)
    assert delivered.at - refused.at >= 0.9  # Telegram's retry_after, not the 0.1 s backoff


@SQLITE_ONLY
async def test_a_server_error_is_retried_with_backoff(start_helpline: Start) -> None:
    helpline = await start_helpline()
    api = helpline.api
    api.fail("sendMessage", Failure(502, "Bad Gateway"), Failure(500, "Internal Server Error"))
    await api.push(text_update("hello", message_id=41))

    [entry] = await until_outbox(helpline, "sent")
    assert entry.attempts == 3
    assert len(api.posted(CUSTOMER)) == 1


@SQLITE_ONLY
async def test_a_blocked_bot_is_not_retried_and_the_chat_is_marked_unreachable(start_helpline: Start) -> None:
    helpline = await start_helpline()
    api = helpline.api
    api.fail("sendMessage", Failure(403, "Forbidden: bot was blocked by the user"))
    await api.push(text_update("hello", message_id=42))

    [entry] = await until_outbox(helpline, "failed")
    assert entry.attempts == 1
    assert entry.last_error is not None and "blocked" in entry.last_error
    state = ChannelStateStore(helpline.runtime.db, "telegram")
    assert await state.get(f"unreachable:{CUSTOMER}")


@SQLITE_ONLY
async def test_malformed_updates_are_logged_and_skipped(
    start_helpline: Start, caplog: pytest.LogCaptureFixture
) -> None:
    helpline = await start_helpline()
    api = helpline.api
    caplog.set_level(logging.INFO, "adapters.telegram_channel")
    broken = update(message={"message_id": "not a number", "chat": "nowhere"})
    await api.push(broken, update(inline_query={"id": "1", "from": user(), "query": "x", "offset": ""}))
    await api.push(text_update("hello", message_id=43))

    await api.wait_for(lambda: len(api.sent(CUSTOMER)) == 1)
    assert len(await helpline.until_stored(1)) == 1
    assert f"update {broken['update_id']} cannot be read" in caplog.text
    assert "inline_query is not handled" in caplog.text


@SQLITE_ONLY
async def test_photos_are_stored_and_oversized_files_refused_politely(start_helpline: Start) -> None:
    helpline = await start_helpline(max_attachment_bytes=1_000_000)
    api = helpline.api
    photo = [
        {"file_id": "small", "file_unique_id": "s", "width": 90, "height": 90, "file_size": 1_000},
        {"file_id": "large", "file_unique_id": "l", "width": 900, "height": 900, "file_size": 90_000},
    ]
    await api.push(update(message=message("", message_id=50, photo=photo, caption="deposit screenshot")))
    [stored] = await helpline.until_stored(1)
    assert stored.text == "deposit screenshot"
    assert [(a["kind"], a["file_id"], a["size"]) for a in stored.attachments] == [("photo", "large", 90_000)]

    document = {"file_id": "big", "file_unique_id": "b", "file_name": "statement.pdf", "file_size": 5_000_000}
    await api.push(update(message=message("", message_id=51, document=document)))
    await api.wait_for(lambda: any("statement.pdf" in c.params["text"] for c in api.sent(CUSTOMER)))
    [_, refused] = await helpline.until_stored(2)
    assert refused.attachments == []
    await api.push(
        update(
            message=message("", message_id=52, voice={"file_id": "v", "file_unique_id": "v", "duration": 3})
        )
    )
    await api.wait_for(lambda: any("only read text" in c.params["text"] for c in api.sent(CUSTOMER)))

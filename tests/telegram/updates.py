"""Telegram updates as the Bot API sends them (current shape: ``is_bot``, ``chat.type``...)."""

from __future__ import annotations

import itertools
import time
from typing import Any

from tests.telegram.fake_bot_api import BOT_USER

_update_ids = itertools.count(1)
CUSTOMER = 7001
STAFF_CHAT = -100777
GROUP = -100555


def user(user_id: int = CUSTOMER, language: str = "en", name: str = "Ada") -> dict[str, Any]:
    """A person."""
    return {
        "id": user_id,
        "is_bot": False,
        "first_name": name,
        "username": f"u{user_id}",
        "language_code": language,
    }


def chat(chat_id: int) -> dict[str, Any]:
    """A private chat for positive ids, a supergroup for negative ones."""
    if chat_id > 0:
        return {"id": chat_id, "type": "private", "first_name": "Ada"}
    return {"id": chat_id, "type": "supergroup", "title": "Acme traders"}


def message(
    text: str,
    *,
    chat_id: int = CUSTOMER,
    message_id: int = 1,
    sender: dict[str, Any] | None = None,
    reply_to: dict[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A message object."""
    body: dict[str, Any] = {
        "message_id": message_id,
        "date": int(time.time()),
        "chat": chat(chat_id),
        "from": sender or user(),
        **extra,
    }
    if text:
        body["text"] = text
    if reply_to is not None:
        body["reply_to_message"] = reply_to
    return body


def update(**content: Any) -> dict[str, Any]:
    """An update with a fresh id around one content field (message, callback_query...)."""
    return {"update_id": next(_update_ids), **content}


def text_update(text: str, **kwargs: Any) -> dict[str, Any]:
    """A new text message."""
    return update(message=message(text, **kwargs))


def mention_entities(text: str) -> list[dict[str, Any]]:
    """The ``mention`` entity of the bot's @username in ``text``."""
    handle = f"@{BOT_USER['username']}"
    return [{"type": "mention", "offset": text.index(handle), "length": len(handle)}]


def bot_message(message_id: int, chat_id: int = CUSTOMER, text: str = "…") -> dict[str, Any]:
    """A message the bot sent (what a reply or a button press refers to)."""
    return {
        "message_id": message_id,
        "date": int(time.time()),
        "chat": chat(chat_id),
        "from": BOT_USER,
        "text": text,
    }


def button_press(data: str, message_id: int, chat_id: int = CUSTOMER, query_id: str = "q1") -> dict[str, Any]:
    """A callback query from the keyboard of the bot's message ``message_id``."""
    return update(
        callback_query={
            "id": query_id,
            "from": user(),
            "chat_instance": "ci-1",
            "data": data,
            "message": bot_message(message_id, chat_id),
        }
    )


def again(delivered: dict[str, Any]) -> dict[str, Any]:
    """The same content delivered again under a new update id (a lost acknowledgement)."""
    return {**delivered, "update_id": next(_update_ids)}

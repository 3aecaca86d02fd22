"""Outbound shapes for Telegram: message ids, long texts in parts, buttons as inline keyboards.

Texts go out as plain text (no ``parse_mode``): nothing a customer or the knowledge base
writes can break Markdown or HTML entities, so there is nothing to escape. Telegram counts
a message's length in UTF-16 code units; :func:`split_text` does too.

Callback data is limited to 64 bytes. Actions that fit are sent as they are; a longer one
is stored under a short durable token (``t:<hash>``) in the channel's state, so a button
still works after a restart.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from conversations.values import Button
from core.channels import ChannelState

MAX_TEXT = 4096
MAX_CALLBACK_BYTES = 64
TOKEN_PREFIX = "t:"
# Cut at the strongest boundary found in the last part of a full chunk: paragraph, line,
# sentence, word; a boundary earlier than this share of the chunk would leave a tiny part.
_BOUNDARIES = ("\n\n", "\n", ". ", "。", " ")
_MIN_SHARE = 0.5


def message_key(chat_id: int, message_id: int) -> str:
    """The platform id Helpline stores for a Telegram message (ids are unique per chat only)."""
    return f"{chat_id}:{message_id}"


def parse_message_key(key: str | None) -> tuple[int, int] | None:
    """``(chat_id, message_id)`` from :func:`message_key`'s form, or ``None``."""
    if not key:
        return None
    chat, _, message = key.partition(":")
    try:
        return int(chat), int(message)
    except ValueError:
        return None


def utf16_length(text: str) -> int:
    """The length Telegram measures: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Split ``text`` into parts of at most ``limit`` UTF-16 units, on paragraph boundaries where possible."""
    parts: list[str] = []
    rest = text.strip()
    while utf16_length(rest) > limit:
        fits = _prefix_fitting(rest, limit)
        cut = fits
        for boundary in _BOUNDARIES:
            at = rest.rfind(boundary, 0, fits)
            if at >= fits * _MIN_SHARE:
                cut = at + len(boundary.rstrip()) if boundary.strip() else at
                break
        part, rest = rest[:cut].rstrip(), rest[cut:].lstrip()
        if part:
            parts.append(part)
    if rest:
        parts.append(rest)
    return parts


def _prefix_fitting(text: str, limit: int) -> int:
    """The longest prefix (in characters) of at most ``limit`` UTF-16 units, never halving a pair."""
    units = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            return index
    return len(text)


class CallbackCodec:
    """Turns button actions into callback data of at most 64 bytes, and back.

    Args:
        state: The channel's durable state, where long actions are kept under their token.

    """

    def __init__(self, state: ChannelState) -> None:
        self._state = state
        self._stored: set[str] = set()

    async def encode(self, action: str) -> str:
        """Callback data for ``action``: the action itself, or a token that maps to it."""
        if len(action.encode()) <= MAX_CALLBACK_BYTES and not action.startswith(TOKEN_PREFIX):
            return action
        token = TOKEN_PREFIX + hashlib.sha256(action.encode()).hexdigest()[:32]
        if token not in self._stored:
            await self._state.put(f"callback:{token}", action)
            self._stored.add(token)
        return token

    async def decode(self, data: str) -> str | None:
        """The action behind callback data, or ``None`` for a token this bot never issued."""
        if not data.startswith(TOKEN_PREFIX):
            return data
        return await self._state.get(f"callback:{data}")

    async def keyboard(self, buttons: Sequence[Button]) -> InlineKeyboardMarkup | None:
        """One button per row (labels are sentences, not single words), or ``None`` for no buttons."""
        if not buttons:
            return None
        rows = [
            [InlineKeyboardButton(b.label[:64], callback_data=await self.encode(b.action))] for b in buttons
        ]
        return InlineKeyboardMarkup(rows)

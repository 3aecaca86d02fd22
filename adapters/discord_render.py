"""Turning an outbound message into Discord's shape: 2,000-character parts, nonces, components.

Quick replies become message components whose ``custom_id`` carries the action itself
(``hl:b:<action>`` for a button, ``hl:s`` for the select menu whose option values are
actions), so a press is understood from the id alone — after a restart too, with no view
kept in memory. Topic suggestions ("did you mean") become one select menu; every other
quick reply (a person, a language, a form, a survey rating) a button.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence

import discord

from conversations.values import Button

log = logging.getLogger(__name__)

MAX_CHARS = 2000
MAX_NONCE = 25
BUTTON_PREFIX = "hl:b:"
SELECT_ID = "hl:s"
MAX_CUSTOM_ID = 100
MAX_BUTTONS = 20  # four rows of five; the fifth row holds the select menu
MAX_OPTIONS = 25
SUGGESTION_PREFIX = "topic:"


def split_text(text: str, limit: int = MAX_CHARS) -> list[str]:
    """Split ``text`` into parts of at most ``limit`` characters at the cleanest boundary.

    Paragraphs first, then lines, then sentence ends, then spaces; a single word longer
    than ``limit`` is cut. No text is lost and no part is empty.
    """
    text = text.strip()
    parts: list[str] = []
    while len(text) > limit:
        cut = _boundary(text, limit)
        head, text = text[:cut].rstrip(), text[cut:].lstrip()
        if head:
            parts.append(head)
    if text:
        parts.append(text)
    return parts or [""]


def _boundary(text: str, limit: int) -> int:
    window = text[: limit + 1]
    for separator in ("\n\n", "\n", ". ", "。", "! ", "? ", "！", "？", " "):
        at = window.rfind(separator, 0, limit)
        # A boundary in the first quarter would leave a stub of a part: look for a later one.
        if at >= limit // 4:
            return at + len(separator) if separator.strip() else at
    return limit


def nonce_for(idempotency_key: str, part: int) -> str:
    """A Discord nonce (at most 25 characters) for part ``part`` of a message; stable across retries."""
    nonce = idempotency_key if part == 0 else f"{idempotency_key}.{part}"
    if len(nonce) <= MAX_NONCE:
        return nonce
    return hashlib.sha256(nonce.encode()).hexdigest()[:MAX_NONCE]


def button_id(action: str) -> str | None:
    """The ``custom_id`` of a button for ``action``, or ``None`` if it would be too long."""
    custom_id = BUTTON_PREFIX + action
    return custom_id if len(custom_id) <= MAX_CUSTOM_ID else None


def build_view(buttons: Sequence[Button], *, placeholder: str = "Did you mean…") -> discord.ui.View | None:
    """The components for ``buttons``, or ``None`` when there are none to show."""
    suggestions = [b for b in buttons if b.action.startswith(SUGGESTION_PREFIX)]
    use_select = len(suggestions) >= 2
    plain = [b for b in buttons if not (use_select and b.action.startswith(SUGGESTION_PREFIX))]
    view = discord.ui.View(timeout=None)
    if use_select:
        options = [
            discord.SelectOption(label=_clip(b.label, 100), value=b.action)
            for b in suggestions[:MAX_OPTIONS]
            if len(b.action) <= MAX_CUSTOM_ID
        ]
        view.add_item(discord.ui.Select(custom_id=SELECT_ID, placeholder=placeholder, options=options, row=0))
    for index, button in enumerate(plain[:MAX_BUTTONS]):
        custom_id = button_id(button.action)
        if custom_id is None:
            log.warning("discord: dropping a button whose action is too long: %r", button.action[:60])
            continue
        style = discord.ButtonStyle.primary if index == 0 else discord.ButtonStyle.secondary
        row = (1 if use_select else 0) + index // 5
        view.add_item(
            discord.ui.Button(label=_clip(button.label, 80), custom_id=custom_id, style=style, row=row)
        )
    return view if view.children else None


def disabled_copy(message: discord.Message) -> discord.ui.View:
    """The components of ``message`` with every control disabled (a press is final)."""
    view = discord.ui.View.from_message(message, timeout=None)
    for item in view.children:
        if isinstance(item, discord.ui.Button | discord.ui.Select):
            item.disabled = True
    return view


def _clip(label: str, limit: int) -> str:
    label = " ".join(label.split()) or "…"
    return label if len(label) <= limit else label[: limit - 1] + "…"

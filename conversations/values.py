"""Values that cross the channel boundary: frozen, slotted, platform-free.

A channel adapter turns a platform event into an :class:`InboundMessage` and turns an
:class:`OutboundMessage` back into the platform's own call. No platform object ever
crosses this line, so the engine and the store are the same for every channel.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Surface(StrEnum):
    """Who can read a conversation: only the customer and us, or everyone."""

    PRIVATE = "private"
    PUBLIC = "public"


class Direction(StrEnum):
    """Whether a message came from the customer or went to them."""

    IN = "in"
    OUT = "out"


class Author(StrEnum):
    """Who wrote a message."""

    CUSTOMER = "customer"
    BOT = "bot"
    AGENT = "agent"
    SYSTEM = "system"


@dataclass(frozen=True, slots=True)
class Button:
    """A quick reply: the label a customer sees and the action sent back when pressed."""

    label: str
    action: str


@dataclass(frozen=True, slots=True)
class Attachment:
    """Metadata of a file a customer sent; the bytes stay on the platform."""

    kind: str
    file_id: str
    name: str | None = None
    mime_type: str | None = None
    size: int | None = None


@dataclass(frozen=True, slots=True)
class Sender:
    """The platform identity behind a message."""

    external_id: str
    handle: str | None = None
    display_name: str | None = None
    language_hint: str | None = None


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """One customer event, normalised.

    Attributes:
        channel: Channel name, e.g. ``"webchat"`` or ``"telegram"``.
        thread_key: The platform's conversation key (chat id, DM channel, tweet
            conversation, e-mail thread, web chat session).
        external_id: The platform's message id, unique within ``channel``; a
            redelivery carries the same id and is stored only once.
        sender: Who wrote it.
        text: The text, possibly empty (a button press or a bare attachment).
        action: The action of a pressed button, if this is a button press.
        surface: Whether the conversation is public (mentions, group chats).
        attachments: Files attached to the message.
        reply_to_external_id: The platform id of the message this one replies to.
        edit_of_external_id: For an edit, the platform id of the edited message.
        sent_at: When the platform says the message was sent.
        raw: The platform payload as JSON-compatible data, kept for audits.

    """

    channel: str
    thread_key: str
    external_id: str
    sender: Sender
    text: str = ""
    action: str | None = None
    surface: Surface = Surface.PRIVATE
    attachments: tuple[Attachment, ...] = ()
    reply_to_external_id: str | None = None
    edit_of_external_id: str | None = None
    sent_at: datetime | None = None
    raw: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    """A reply to deliver on a channel.

    Attributes:
        message_id: Our id of the stored message.
        idempotency_key: Stable across retries; channels whose platform can
            deduplicate (a nonce, a Message-ID) pass it on.
        channel: Channel name.
        thread_key: Where to deliver it.
        surface: The surface of the conversation it belongs to.
        text: Plain text.
        buttons: Quick replies, rendered with the platform's native controls.
        reply_to_external_id: Platform id of the message this answers, if any.
        author: Bot, agent or system.
        metadata: Channel-specific extras (e-mail subject, ticket number).

    """

    message_id: int
    idempotency_key: str
    channel: str
    thread_key: str
    text: str
    surface: Surface = Surface.PRIVATE
    buttons: tuple[Button, ...] = ()
    reply_to_external_id: str | None = None
    author: Author = Author.BOT
    metadata: Mapping[str, Any] = field(default_factory=dict)

"""Telegram updates → what Helpline does with them.

:func:`parse_update` reads a raw update with python-telegram-bot's own types;
:func:`classify` decides what it is for Helpline:

- :class:`CustomerTurn` — a customer's message, edit or button press, normalised into an
  :class:`~conversations.values.InboundMessage` for the pipeline;
- :class:`StaffMessage` — something an agent wrote in the staff group;
- :class:`Reachability` — a customer blocked (or unblocked) the bot;
- :class:`Ignored` — anything else, with the reason for the log.

Ids: a message is ``"<chat id>:<message id>"`` (Telegram numbers messages per chat); an
edit is ``"<chat id>:<message id>:edit:<edit date>"`` recorded against the original; a button
press is ``"cb:<chat id>:<message id>"`` — keyed on the keyboard's message, not the press, so
a keyboard counts once however often it is pressed (the store keeps the first press only).

In a group the bot answers only when mentioned, replied to or given one of its commands,
and the conversation is public. Commands: ``/start [payload]`` and ``/help`` greet (the
deep-link payloads ``human``, ``lang-zh``, ``topic-<id with . as __>`` and ``form-<id>`` lead
straight to that action), ``/language zh|en`` switches language, ``/ticket`` starts the
"talk to a human" form and ``/status`` answers with the customer's ticket.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from telegram import Bot, Message, MessageEntity, Update, User
from telegram.constants import ChatType

from adapters.telegram_render import CallbackCodec, message_key
from conversations.values import Attachment, InboundMessage, Sender, Surface

log = logging.getLogger(__name__)
NAME = "telegram"
GREETING = {"en": "hello", "zh": "你好"}
COMMAND_ACTIONS = {"ticket": "form:start:talk_to_human", "status": "topic:support.ticket_status"}
GREETING_COMMANDS = frozenset({"start", "help"})
COMMANDS = frozenset({*COMMAND_ACTIONS, *GREETING_COMMANDS, "language", "lang"})
_USER_KEYS = frozenset({"from", "forward_from", "user", "via_bot", "new_chat_members", "left_chat_member"})
_UNSUPPORTED = (
    "audio",
    "voice",
    "video",
    "video_note",
    "animation",
    "sticker",
    "location",
    "venue",
    "contact",
    "poll",
    "dice",
)


@dataclass(frozen=True, slots=True)
class BotIdentity:
    """Who the bot is (from ``getMe``): how it is mentioned in groups."""

    id: int
    username: str


@dataclass(frozen=True, slots=True)
class CustomerTurn:
    """A customer event for the pipeline.

    Attributes:
        message: The normalised message.
        callback_query_id: For a button press: the query to answer.
        keyboard: For a button press: ``(chat id, message id)`` whose keyboard is removed.
        oversized: Files refused for their size (their names or kinds), to tell the customer.
        expired: A button press whose action is unknown (a token this bot never issued).

    """

    message: InboundMessage
    callback_query_id: str | None = None
    keyboard: tuple[int, int] | None = None
    oversized: tuple[str, ...] = ()
    expired: bool = False


@dataclass(frozen=True, slots=True)
class StaffMessage:
    """A message in the staff group."""

    message: Message


@dataclass(frozen=True, slots=True)
class Reachability:
    """A private chat's member status changed: the customer blocked or restarted the bot."""

    chat_id: int
    reachable: bool


@dataclass(frozen=True, slots=True)
class Ignored:
    """An update Helpline does not act on, and why."""

    reason: str


Event = CustomerTurn | StaffMessage | Reachability | Ignored


class MalformedUpdate(ValueError):
    """The payload is not a Telegram update python-telegram-bot can read."""


def parse_update(data: Any, bot: Bot | None) -> Update:
    """Read one raw update.

    Users without ``is_bot`` (Telegram's own documentation samples and old tools omit it)
    are read as people; anything else python-telegram-bot cannot read is refused.

    Raises:
        MalformedUpdate: With the reason.

    """
    if not isinstance(data, Mapping) or not isinstance(data.get("update_id"), int):
        raise MalformedUpdate("not an update: a JSON object with an integer update_id is expected")
    wrong = _wrong_type(data)
    if wrong is not None:
        raise MalformedUpdate(f"update {data['update_id']} cannot be read: {wrong}")
    try:
        update = Update.de_json(_with_is_bot(dict(data)), bot)
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        raise MalformedUpdate(f"update {data.get('update_id')} cannot be read: {exc}") from None
    return update


# python-telegram-bot copies values as they come, unchecked: the fields Helpline reads must
# have these types (checked on the raw JSON, which also bounds its nesting).
_TYPES: dict[str, tuple[type, ...]] = {
    "message_id": (int,),
    "id": (int, str),
    "text": (str,),
    "caption": (str,),
    "data": (str,),
    "type": (str,),
    "first_name": (str,),
    "last_name": (str,),
    "username": (str,),
    "title": (str,),
    "language_code": (str,),
    "file_id": (str,),
    "file_name": (str,),
    "mime_type": (str,),
    "file_size": (int,),
    "width": (int,),
    "height": (int,),
    "offset": (int, str),
    "length": (int,),
    "status": (str,),
    "is_bot": (bool,),
}
_MESSAGE = ("message_id", "date", "chat")
# Objects (by the key they come under) and the fields Telegram always sends with them.
_REQUIRED: dict[str, tuple[str, ...]] = {
    "message": _MESSAGE,
    "edited_message": _MESSAGE,
    "reply_to_message": _MESSAGE,
    "chat": ("id", "type"),
    "sender_chat": ("id", "type"),
    "from": ("id", "first_name"),
    "callback_query": ("id", "from"),
    "my_chat_member": ("chat", "from", "date", "old_chat_member", "new_chat_member"),
    "new_chat_member": ("status", "user"),
    "old_chat_member": ("status", "user"),
    "entities": ("type", "offset", "length"),
    "caption_entities": ("type", "offset", "length"),
    "photo": ("file_id", "file_unique_id", "width", "height"),
    "document": ("file_id", "file_unique_id"),
}


def _wrong_type(value: Any, where: str = "update", depth: int = 0, key: str = "") -> str | None:
    """The first field Helpline reads that is missing or has the wrong type in the raw update, or ``None``."""
    if depth > 32:
        return f"{where} is nested too deeply"
    if isinstance(value, list):
        return next((w for w in (_wrong_type(v, where, depth + 1, key) for v in value) if w), None)
    if not isinstance(value, Mapping):
        return None
    missing = [name for name in _REQUIRED.get(key, ()) if value.get(name) is None]
    if missing:
        return f"{where} has no {', '.join(missing)}"
    for name, field in value.items():
        expected = _TYPES.get(name)
        if expected is not None and field is not None and not isinstance(field, expected):
            return f"{where}.{name} should be {' or '.join(t.__name__ for t in expected)}"
        found = _wrong_type(field, f"{where}.{name}", depth + 1, name)
        if found is not None:
            return found
    return None


def _with_is_bot(value: Any, key: str | None = None) -> Any:
    if isinstance(value, dict):
        fixed = {k: _with_is_bot(v, k) for k, v in value.items()}
        if key in _USER_KEYS and "first_name" in fixed and "is_bot" not in fixed:
            fixed["is_bot"] = False
        return fixed
    if isinstance(value, list):
        return [_with_is_bot(v, key) for v in value]
    return value


async def classify(
    update: Update, me: BotIdentity, codec: CallbackCodec, staff_chat_id: int | None, max_bytes: int
) -> Event:
    """What Helpline does with an update."""
    if update.callback_query is not None:
        return await _button(update, me, codec)
    if update.my_chat_member is not None:
        change = update.my_chat_member
        if change.chat.type != ChatType.PRIVATE:
            return Ignored(f"membership change in {change.chat.type} chat {change.chat.id}")
        return Reachability(change.chat.id, change.new_chat_member.status not in ("kicked", "left"))
    message = update.message or update.edited_message
    if message is None:
        kinds = [k for k, v in update.to_dict().items() if k != "update_id" and v]
        return Ignored(f"update {update.update_id} of kind {', '.join(kinds) or 'unknown'} is not handled")
    if staff_chat_id is not None and message.chat.id == staff_chat_id:
        return StaffMessage(message) if update.message is not None else Ignored("an edit in the staff group")
    return _message(update, message, me, max_bytes)


def _message(update: Update, message: Message, me: BotIdentity, max_bytes: int) -> Event:
    chat = message.chat
    if chat.type not in (ChatType.PRIVATE, ChatType.GROUP, ChatType.SUPERGROUP):
        return Ignored(f"message in {chat.type} {chat.id}")
    sender = _sender(message)
    if sender is None:
        return Ignored(f"message {message.message_id} in {chat.id} has no sender")
    if message.from_user is not None and message.from_user.is_bot:
        return Ignored(f"message {message.message_id} in {chat.id} is from a bot")
    public = chat.type != ChatType.PRIVATE
    text = message.text or message.caption or ""
    addressed, text = _addressed(message, text, me)
    if public and not addressed:
        return Ignored(f"group message {message.message_id} in {chat.id} is not addressed to the bot")
    attachments, oversized = _attachments(message, max_bytes)
    kind = unsupported_kind(message)
    if kind is not None and not text:
        # The engine answers an empty message by asking for words: the polite answer.
        log.info("telegram: %s in %s is not supported; the customer is asked for text", kind, chat.id)
    text, action = _command(text, sender.language_hint, me)
    edited = update.edited_message is not None
    key = message_key(chat.id, message.message_id)
    reply_to = message.reply_to_message
    inbound = InboundMessage(
        channel=NAME,
        thread_key=str(chat.id),
        external_id=f"{key}:edit:{int(message.edit_date.timestamp())}"
        if edited and message.edit_date
        else key,
        sender=sender,
        text=text,
        action=action,
        surface=Surface.PUBLIC if public else Surface.PRIVATE,
        attachments=attachments,
        reply_to_external_id=message_key(chat.id, reply_to.message_id) if reply_to is not None else None,
        edit_of_external_id=key if edited else None,
        sent_at=message.date,
        raw=update.to_dict(),
    )
    return CustomerTurn(inbound, oversized=oversized)


async def _button(update: Update, me: BotIdentity, codec: CallbackCodec) -> Event:
    query = update.callback_query
    assert query is not None
    message = query.message
    if message is None:
        return Ignored(f"button press {query.id} without a message (inline mode is not used)")
    chat = message.chat
    public = chat.type != ChatType.PRIVATE
    action = await codec.decode(query.data) if query.data else None
    inbound = InboundMessage(
        channel=NAME,
        thread_key=str(chat.id),
        external_id=f"cb:{message_key(chat.id, message.message_id)}",
        sender=_person(query.from_user),
        action=action,
        surface=Surface.PUBLIC if public else Surface.PRIVATE,
        reply_to_external_id=message_key(chat.id, message.message_id),
        raw=update.to_dict(),
    )
    return CustomerTurn(
        inbound,
        callback_query_id=query.id,
        keyboard=(chat.id, message.message_id),
        expired=action is None,
    )


def _sender(message: Message) -> Sender | None:
    if message.from_user is not None:
        return _person(message.from_user)
    if message.sender_chat is not None:
        return Sender(f"chat:{message.sender_chat.id}", display_name=message.sender_chat.title)
    return None


def _person(user: User) -> Sender:
    code = (user.language_code or "").lower()
    language = "zh" if code.startswith("zh") else "en" if code.startswith("en") else None
    return Sender(str(user.id), handle=user.username, display_name=user.full_name, language_hint=language)


def _addressed(message: Message, text: str, me: BotIdentity) -> tuple[bool, str]:
    """Whether the bot is mentioned, replied to or commanded; the text without its mention."""
    entities = message.parse_entities() if message.text else message.parse_caption_entities()
    addressed = False
    mention = f"@{me.username}".lower()
    for entity, value in entities.items():
        if entity.type == MessageEntity.MENTION and value.lower() == mention:
            addressed = True
            text = text.replace(value, "", 1)
        elif (
            entity.type == MessageEntity.TEXT_MENTION and entity.user is not None and entity.user.id == me.id
        ):
            addressed = True
        elif entity.type == MessageEntity.BOT_COMMAND and entity.offset == 0:
            command, _, target = value[1:].partition("@")
            addressed = (
                addressed or target.lower() == me.username.lower() or (not target and command in COMMANDS)
            )
    reply_to = message.reply_to_message
    if reply_to is not None and reply_to.from_user is not None and reply_to.from_user.id == me.id:
        addressed = True
    return addressed, " ".join(text.split()) if addressed else text


def _command(text: str, language: str | None, me: BotIdentity) -> tuple[str, str | None]:
    """The text and action for the engine: Telegram's commands become the engine's actions."""
    if not text.startswith("/"):
        return text, None
    head, _, argument = text[1:].partition(" ")
    command, _, target = head.partition("@")
    command, argument = command.lower(), argument.strip()
    if target and target.lower() != me.username.lower():
        return text, None
    if command in GREETING_COMMANDS:
        action = _deep_link(argument) if command == "start" and argument else None
        if action is not None:
            return "", action
        if argument:
            log.info("telegram: unknown /start payload %r: greeting instead", argument)
        return GREETING.get(language or "en", GREETING["en"]), None
    if command in COMMAND_ACTIONS:
        return "", COMMAND_ACTIONS[command]
    if command in ("language", "lang"):
        return f"/language {argument}".strip() if argument else GREETING.get(language or "en", "hello"), None
    return text, None


def _deep_link(payload: str) -> str | None:
    """The action of a ``t.me/<bot>?start=<payload>`` link (payloads allow only ``A-Za-z0-9_-``)."""
    if payload == "human":
        return "human"
    kind, _, rest = payload.partition("-")
    if not rest:
        return None
    if kind == "lang" and rest in GREETING:
        return f"lang:{rest}"
    if kind == "topic":
        return f"topic:{rest.replace('__', '.')}"
    if kind == "form":
        return f"form:start:{rest}"
    return None


def _attachments(message: Message, max_bytes: int) -> tuple[tuple[Attachment, ...], tuple[str, ...]]:
    found: list[Attachment] = []
    if message.photo:
        largest = max(message.photo, key=lambda p: (p.file_size or 0, p.width * p.height))
        found.append(Attachment("photo", largest.file_id, None, "image/jpeg", largest.file_size))
    if message.document is not None:
        doc = message.document
        found.append(Attachment("document", doc.file_id, doc.file_name, doc.mime_type, doc.file_size))
    kept = tuple(a for a in found if a.size is None or a.size <= max_bytes)
    oversized = tuple(a.name or a.kind for a in found if a not in kept)
    return kept, oversized


def unsupported_kind(message: Message) -> str | None:
    """The kind of content Helpline does not take (voice, stickers...), if the message has one."""
    return next((kind for kind in _UNSUPPORTED if getattr(message, kind, None)), None)

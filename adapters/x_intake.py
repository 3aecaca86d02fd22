"""From X payloads to Helpline messages: parsing, what to ignore and why, normalising.

Both intakes (the v2 mentions timeline and DM events when polling, the Account Activity
webhook's v1.1 events) parse into :class:`Mention` and :class:`DirectMessage`; one
:class:`IntakeFilter` decides what is ignored, and :func:`mention_message` /
:func:`dm_message` build the :class:`InboundMessage`. A mention is a public conversation
keyed on the tweet's ``conversation_id``; a DM a private one keyed on ``dm_conversation_id``.

Payloads are validated item by item: one malformed tweet is skipped (and counted) without
losing the rest of its page.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from adapters.x_text import links
from conversations.values import InboundMessage, Sender, Surface
from core.channels import ChannelState
from core.mentions import AUTHOR_HANDLE_KEY

log = logging.getLogger(__name__)
NAME = "x"
_HANDLE = re.compile(r"(?<![\w@])@([A-Za-z0-9_]{1,15})\b")
_LEADING_HANDLES = re.compile(r"^(?:[.\s]*@[A-Za-z0-9_]{1,15}\b[\s,:]*)+")
_TAGS = re.compile(r"(?<![\w&])[#$][^\W\d]\w*", re.UNICODE)
_LANGUAGES = frozenset({"en", "zh"})
_ID = r"^[0-9]{1,20}$"


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


_M = TypeVar("_M", bound=_Lenient)


class V2Reference(_Lenient):
    """A tweet another tweet retweets, quotes or replies to."""

    type: str
    id: str


class V2Tweet(_Lenient):
    """A tweet as API v2 returns it (the fields Helpline asks for)."""

    id: str = Field(pattern=_ID)
    text: str
    author_id: str | None = Field(default=None, pattern=_ID)
    conversation_id: str | None = Field(default=None, pattern=_ID)
    in_reply_to_user_id: str | None = None
    created_at: datetime | None = None
    lang: str | None = None
    referenced_tweets: tuple[V2Reference, ...] = ()


class V2User(_Lenient):
    """A user from a response's ``includes``."""

    id: str
    username: str
    name: str | None = None


class V2DmEvent(_Lenient):
    """A DM event as API v2 returns it."""

    id: str = Field(pattern=_ID)
    event_type: str
    text: str = ""
    sender_id: str | None = Field(default=None, pattern=_ID)
    dm_conversation_id: str | None = None
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Mention:
    """A tweet addressed to the support account, platform-neutral."""

    id: str
    text: str
    author_id: str
    author_handle: str | None = None
    author_name: str | None = None
    conversation_id: str | None = None
    in_reply_to_id: str | None = None
    retweet: bool = False
    created_at: datetime | None = None
    lang: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class DirectMessage:
    """A DM sent to the support account."""

    id: str
    text: str
    sender_id: str
    conversation_id: str
    sender_handle: str | None = None
    sender_name: str | None = None
    created_at: datetime | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a v2 list response, parsed."""

    mentions: tuple[Mention, ...] = ()
    dms: tuple[DirectMessage, ...] = ()
    malformed: int = 0
    newest_id: str | None = None
    next_token: str | None = None


def _users(body: Mapping[str, Any]) -> dict[str, V2User]:
    includes = body.get("includes")
    found: dict[str, V2User] = {}
    if isinstance(includes, Mapping):
        for item in includes.get("users") or ():
            try:
                user = V2User.model_validate(item)
            except ValidationError:
                continue
            found[user.id] = user
    return found


def _handle_and_name(users: Mapping[str, V2User], user_id: str) -> tuple[str | None, str | None]:
    """The ``@handle`` and display name of a user the page includes, else ``None`` for both."""
    user = users.get(user_id)
    return (f"@{user.username}", user.name) if user else (None, None)


def _items(body: Mapping[str, Any]) -> Sequence[Any]:
    data = body.get("data")
    return data if isinstance(data, list) else ()


def _valid(body: Mapping[str, Any], model: type[_M], what: str) -> tuple[list[tuple[Any, _M]], int]:
    """The page's items that ``model`` validates (each with its raw item), and how many did not.

    Args:
        body: The page.
        model: What each item must be.
        what: The item's name in the warning for one that is not (``tweet``, ``DM event``).

    """
    valid: list[tuple[Any, _M]] = []
    malformed = 0
    for item in _items(body):
        try:
            valid.append((item, model.model_validate(item)))
        except ValidationError as exc:
            malformed += 1
            log.warning("x: skipped a malformed %s: %s", what, exc.errors()[0]["msg"])
    return valid, malformed


def _meta(body: Mapping[str, Any], key: str) -> str | None:
    meta = body.get("meta")
    value = meta.get(key) if isinstance(meta, Mapping) else None
    return str(value) if isinstance(value, str | int) and str(value) else None


def mentions_page(body: Mapping[str, Any]) -> Page:
    """Parse a mentions-timeline page (``GET /2/users/:id/mentions``)."""
    users = _users(body)
    tweets, malformed = _valid(body, V2Tweet, "tweet")
    mentions: list[Mention] = []
    for item, tweet in tweets:
        if tweet.author_id is None:
            malformed += 1
            log.warning("x: skipped tweet %s: it has no author_id", tweet.id)
            continue
        handle, name = _handle_and_name(users, tweet.author_id)
        replied = next((r.id for r in tweet.referenced_tweets if r.type == "replied_to"), None)
        mentions.append(
            Mention(
                id=tweet.id,
                text=tweet.text,
                author_id=tweet.author_id,
                author_handle=handle,
                author_name=name,
                conversation_id=tweet.conversation_id,
                in_reply_to_id=replied,
                retweet=any(r.type == "retweeted" for r in tweet.referenced_tweets),
                created_at=tweet.created_at,
                lang=tweet.lang,
                raw=dict(item),
            )
        )
    return Page(
        mentions=tuple(mentions),
        malformed=malformed,
        newest_id=_meta(body, "newest_id"),
        next_token=_meta(body, "next_token"),
    )


def dm_page(body: Mapping[str, Any]) -> Page:
    """Parse a DM-events page (``GET /2/dm_events``); events other than messages are left out."""
    users = _users(body)
    events, malformed = _valid(body, V2DmEvent, "DM event")
    dms: list[DirectMessage] = []
    for item, event in events:
        if event.event_type != "MessageCreate":
            continue
        if event.sender_id is None or not event.dm_conversation_id:
            malformed += 1
            log.warning("x: skipped DM event %s: no sender_id or dm_conversation_id", event.id)
            continue
        handle, name = _handle_and_name(users, event.sender_id)
        dms.append(
            DirectMessage(
                id=event.id,
                text=event.text,
                sender_id=event.sender_id,
                conversation_id=event.dm_conversation_id,
                sender_handle=handle,
                sender_name=name,
                created_at=event.created_at,
                raw=dict(item),
            )
        )
    return Page(dms=tuple(dms), malformed=malformed, next_token=_meta(body, "next_token"))


class IntakeFilter:
    """Decides which mentions are ignored, and names the reason.

    Args:
        account_id: The support account's id (its own tweets are ignored).
        max_mentions: More other accounts tagged than this is spam-like.
        max_hashtags: More hashtags and cashtags than this is spam-like.
        max_links: More links than this is spam-like.
        ignore_authors: Account ids or handles (with or without ``@``) to ignore.

    """

    def __init__(
        self,
        account_id: str,
        *,
        max_mentions: int,
        max_hashtags: int,
        max_links: int,
        ignore_authors: Iterable[str] = (),
    ) -> None:
        self._account_id = account_id
        self._max_mentions = max_mentions
        self._max_hashtags = max_hashtags
        self._max_links = max_links
        self._ignored = {a.strip().lstrip("@").lower() for a in ignore_authors if a.strip()}

    def reason(self, mention: Mention) -> str | None:
        """Why ``mention`` is ignored (``retweet``, ``own_tweet``, ``spam_*``...), or ``None``."""
        if mention.retweet or mention.text.startswith("RT @"):
            return "retweet"
        if mention.author_id == self._account_id:
            return "own_tweet"
        handle = (mention.author_handle or "").lstrip("@").lower()
        if mention.author_id in self._ignored or (handle and handle in self._ignored):
            return "ignored_author"
        if len(set(_HANDLE.findall(mention.text))) - 1 > self._max_mentions:
            return "spam_mentions"
        if len(_TAGS.findall(mention.text)) > self._max_hashtags:
            return "spam_hashtags"
        if len(links(mention.text)) > self._max_links:
            return "spam_links"
        return None

    def own(self, dm: DirectMessage) -> bool:
        """Whether the support account sent this DM (our own replies come back as events)."""
        return dm.sender_id == self._account_id


def strip_leading_handles(text: str) -> str:
    """The text without the ``@a @b`` prefix X puts on replies (kept whole if nothing else is left)."""
    stripped = _LEADING_HANDLES.sub("", text, count=1).strip()
    return stripped or text.strip()


def _language(lang: str | None) -> str | None:
    return lang if lang in _LANGUAGES else None


def mention_message(mention: Mention, thread_key: str | None = None) -> InboundMessage:
    """The public inbound message for a mention; its thread is the tweet's conversation."""
    raw = {"tweet": dict(mention.raw), AUTHOR_HANDLE_KEY: mention.author_handle}
    return InboundMessage(
        channel=NAME,
        thread_key=thread_key or mention.conversation_id or mention.id,
        external_id=mention.id,
        sender=Sender(
            mention.author_id,
            handle=mention.author_handle,
            display_name=mention.author_name,
            language_hint=_language(mention.lang),
        ),
        text=strip_leading_handles(mention.text),
        surface=Surface.PUBLIC,
        reply_to_external_id=mention.id,
        sent_at=mention.created_at,
        raw=raw,
    )


def dm_message(dm: DirectMessage) -> InboundMessage:
    """The private inbound message for a DM; its thread is the DM conversation."""
    return InboundMessage(
        channel=NAME,
        thread_key=dm.conversation_id,
        external_id=f"dm:{dm.id}",
        sender=Sender(dm.sender_id, handle=dm.sender_handle, display_name=dm.sender_name),
        text=dm.text,
        surface=Surface.PRIVATE,
        sent_at=dm.created_at,
        raw={"dm_event": dict(dm.raw), AUTHOR_HANDLE_KEY: dm.sender_handle},
    )


class IgnoredLog:
    """Counts ignored events by reason in the channel's durable state, and logs each one.

    Keys: ``ignored.<reason>`` (a count) and ``ignored.last`` (``<id> <reason>``).
    """

    def __init__(self, state: ChannelState) -> None:
        self._state = state

    async def record(self, event_id: str, reason: str) -> None:
        """Note that event ``event_id`` was ignored because of ``reason``."""
        log.info("x: ignored %s (%s)", event_id, reason)
        key = f"ignored.{reason}"
        count = await self._state.get(key)
        await self._state.put(key, str(int(count) + 1 if count and count.isdigit() else 1))
        await self._state.put("ignored.last", f"{event_id} {reason}")

    async def count(self, reason: str) -> int:
        """How many events were ignored for ``reason``."""
        value = await self._state.get(f"ignored.{reason}")
        return int(value) if value and value.isdigit() else 0

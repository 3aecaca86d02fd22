"""Account Activity webhook intake: the CRC challenge, the signature check and the v1.1 events.

X registers ``GET /api/x/webhook?crc_token=…`` and expects ``{"response_token":
"sha256=<base64 HMAC-SHA256(consumer secret, crc_token)>"}``; it repeats the challenge
hourly. Events arrive as ``POST /api/x/webhook`` signed in ``x-twitter-webhooks-signature:
sha256=<base64 HMAC-SHA256(consumer secret, body)>``; a missing or wrong signature is
refused (403) before the body is even parsed, so the check fails closed.

``tweet_create_events`` carry v1.1 tweets: those that mention or reply to the account
become mentions (the account's own tweets and retweets are ignored with a reason).
v1.1 tweets have no ``conversation_id``: a reply joins the thread of the tweet it answers
when Helpline knows it, else that tweet starts the thread. ``direct_message_events`` become
DMs in the one-to-one conversation ``<lower id>-<higher id>``, as API v2 names it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import Request
from starlette.responses import Response

from adapters.http_helpers import error, json_response, read_limited
from adapters.x_intake import DirectMessage, IgnoredLog, IntakeFilter, Mention, dm_message, mention_message
from adapters.x_polling import last_mention_key
from conversations.errors import StoreUnavailable
from core.channels import ChannelState, Inbox, ThreadDirectory

log = logging.getLogger(__name__)
PATH = "/api/x/webhook"
MAX_BODY = 1_048_576


def _hmac(secret: str, data: bytes) -> str:
    digest = hmac.new(secret.encode(), data, hashlib.sha256).digest()
    return "sha256=" + base64.b64encode(digest).decode()


def crc_response_token(consumer_secret: str, crc_token: str) -> str:
    """The answer to X's CRC challenge."""
    return _hmac(consumer_secret, crc_token.encode())


def signature(consumer_secret: str, body: bytes) -> str:
    """The ``x-twitter-webhooks-signature`` value X sends with ``body``."""
    return _hmac(consumer_secret, body)


# Ids are stored in 255-character columns: a numeric id of X is at most 20 digits.
_ID = r"^[0-9]{1,20}$"


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class V1User(_Lenient):
    """The author of a v1.1 tweet."""

    id_str: str = Field(pattern=_ID)
    screen_name: str | None = None
    name: str | None = None


class V1UserMention(_Lenient):
    """An account a v1.1 tweet tags."""

    id_str: str


class V1Entities(_Lenient):
    """The entities of a v1.1 tweet."""

    user_mentions: tuple[V1UserMention, ...] = ()


class V1Extended(_Lenient):
    """The full text of a long v1.1 tweet."""

    full_text: str


class V1Tweet(_Lenient):
    """A v1.1 tweet as Account Activity delivers it."""

    id_str: str = Field(pattern=_ID)
    text: str = ""
    full_text: str | None = None
    extended_tweet: V1Extended | None = None
    user: V1User
    in_reply_to_status_id_str: str | None = Field(default=None, pattern=_ID)
    in_reply_to_user_id_str: str | None = None
    retweeted_status: dict[str, Any] | None = None
    entities: V1Entities = V1Entities()
    created_at: str | None = None
    lang: str | None = None


class V1MessageData(_Lenient):
    """The content of a DM."""

    text: str = ""


class V1Target(_Lenient):
    """The recipient of a DM."""

    recipient_id: str = Field(pattern=_ID)


class V1MessageCreate(_Lenient):
    """A DM's sender, recipient and content."""

    sender_id: str = Field(pattern=_ID)
    target: V1Target
    message_data: V1MessageData


class V1DmEvent(_Lenient):
    """A v1.1 direct-message event."""

    type: str
    id: str = Field(pattern=_ID)
    created_timestamp: str | None = None
    message_create: V1MessageCreate | None = None


class WebhookIntake:
    """Serves the Account Activity webhook for one account.

    Args:
        consumer_secret: The app's consumer secret (signs the CRC answer and the events).
        account_id: The subscribed account.
        intake: What to ignore.
        state: The channel's durable state (ignored counts, last mention per thread).
        threads: Finds the thread of a tweet a mention replies to.

    """

    def __init__(
        self,
        consumer_secret: str,
        account_id: str,
        intake: IntakeFilter,
        state: ChannelState,
        threads: ThreadDirectory,
    ) -> None:
        self._secret = consumer_secret
        self._account_id = account_id
        self._intake = intake
        self._state = state
        self._threads = threads
        self._ignored = IgnoredLog(state)
        self.inbox: Inbox | None = None

    async def crc(self, request: Request) -> Response:
        """Answer the CRC challenge."""
        token = request.query_params.get("crc_token", "")
        if not token:
            return error(400, "missing_crc_token", "the crc_token query parameter is required")
        return json_response(200, {"response_token": crc_response_token(self._secret, token)})

    async def events(self, request: Request) -> Response:
        """Verify, parse and hand over one Account Activity delivery."""
        inbox = self.inbox
        if inbox is None:
            return error(503, "unavailable", "the X channel is not running; retry shortly")
        body = await read_limited(request, MAX_BODY)
        if body is None:
            return error(413, "too_large", f"the body is larger than {MAX_BODY} bytes")
        given = request.headers.get("x-twitter-webhooks-signature", "")
        if not given or not hmac.compare_digest(given.encode(), signature(self._secret, body).encode()):
            log.warning("x: refused a webhook delivery with a missing or wrong signature")
            return error(403, "bad_signature", "x-twitter-webhooks-signature does not match the body")
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError:
            return error(400, "invalid_json", "the body is not valid JSON")
        if not isinstance(payload, dict):
            return error(400, "invalid_request", "the body is not a JSON object")
        if str(payload.get("for_user_id", "")) != self._account_id:
            return json_response(200, {"status": "ignored", "reason": "another account"})
        try:
            stored = await self._deliver(inbox, payload)
        except StoreUnavailable:
            return error(503, "unavailable", "the events were not stored; send them again")
        return json_response(200, {"status": "accepted", "messages": stored})

    async def _deliver(self, inbox: Inbox, payload: Mapping[str, Any]) -> int:
        stored = 0
        for item in _list(payload.get("tweet_create_events")):
            mention = self._mention(item)
            if mention is None:
                continue
            reason = self._intake.reason(mention)
            if reason is not None:
                await self._ignored.record(mention.id, reason)
                continue
            thread = None
            if mention.in_reply_to_id:
                known = await self._threads.thread_of_message(mention.in_reply_to_id)
                thread = known or mention.in_reply_to_id
            message = mention_message(mention, thread)
            await inbox.receive(message)
            await self._state.put(last_mention_key(message.thread_key), mention.id)
            stored += 1
        found = payload.get("users")
        users: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
        for item in _list(payload.get("direct_message_events")):
            dm = self._dm(item, users)
            if dm is not None and not self._intake.own(dm):
                await inbox.receive(dm_message(dm))
                stored += 1
        return stored

    def _mention(self, item: Any) -> Mention | None:
        try:
            tweet = V1Tweet.model_validate(item)
        except ValidationError as exc:
            log.warning("x: skipped a malformed webhook tweet: %s", exc.errors()[0]["msg"])
            return None
        tagged = any(m.id_str == self._account_id for m in tweet.entities.user_mentions)
        own = tweet.user.id_str == self._account_id
        if not (tagged or own or tweet.in_reply_to_user_id_str == self._account_id):
            return None  # a tweet of the account's timeline that is not addressed to it
        text = tweet.extended_tweet.full_text if tweet.extended_tweet else tweet.full_text or tweet.text
        return Mention(
            id=tweet.id_str,
            text=text,
            author_id=tweet.user.id_str,
            author_handle=f"@{tweet.user.screen_name}" if tweet.user.screen_name else None,
            author_name=tweet.user.name,
            in_reply_to_id=tweet.in_reply_to_status_id_str,
            retweet=tweet.retweeted_status is not None,
            created_at=_v1_time(tweet.created_at),
            lang=tweet.lang,
            raw=dict(item),
        )

    def _dm(self, item: Any, users: Mapping[str, Any]) -> DirectMessage | None:
        try:
            event = V1DmEvent.model_validate(item)
        except ValidationError as exc:
            log.warning("x: skipped a malformed webhook DM: %s", exc.errors()[0]["msg"])
            return None
        create = event.message_create
        if event.type != "message_create" or create is None:
            return None
        sender, recipient = create.sender_id, create.target.recipient_id
        pair = sorted((sender, recipient), key=lambda i: int(i) if i.isdigit() else 0)
        user = users.get(sender) if isinstance(users.get(sender), Mapping) else {}
        handle = user.get("screen_name") if isinstance(user, Mapping) else None
        return DirectMessage(
            id=event.id,
            text=create.message_data.text,
            sender_id=sender,
            conversation_id="-".join(pair),
            sender_handle=f"@{handle}" if isinstance(handle, str) else None,
            created_at=_ms_time(event.created_timestamp),
            raw=dict(item),
        )


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _v1_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.strptime(value, "%a %b %d %H:%M:%S %z %Y")
    except ValueError:
        try:
            return parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None


def _ms_time(value: str | None) -> datetime | None:
    if not value or not (value.isascii() and value.isdigit()) or len(value) > 15:
        return None  # str.isdigit alone takes "²", which int() refuses
    try:
        return datetime.fromtimestamp(int(value) / 1000, UTC)
    except (ValueError, OverflowError, OSError):  # beyond the years datetime can hold
        return None

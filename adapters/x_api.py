"""The X API v2 calls Helpline makes, through tweepy's async client, with errors translated.

Every call runs with OAuth 1.0a user context (the support account) and asks tweepy for
the raw ``aiohttp.ClientResponse``, so the rate-limit headers (``x-rate-limit-remaining``,
``x-rate-limit-reset``) are read on success as well as on 429. The body is parsed by the
caller (:mod:`adapters.x_intake`), item by item.

Errors become the channel error tree: 429 → :class:`RateLimited` with ``retry_after`` from
``x-rate-limit-reset``; 5xx, timeouts, network errors and malformed bodies →
:class:`ChannelUnavailable`; 400/401/403/404 → :class:`DeliveryRejected`. A request that may
have reached X before failing (a timeout or a dropped connection, not a refused one) raises
:class:`Unconfirmed`, so a reply is never posted again blindly.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
import tweepy  # type: ignore[import-untyped]
from tweepy.asynchronous import AsyncClient  # type: ignore[import-untyped]

from adapters.x_settings import XSettings
from core.channels import ChannelUnavailable, DeliveryRejected, RateLimited

TWEET_FIELDS = [
    "author_id",
    "conversation_id",
    "created_at",
    "in_reply_to_user_id",
    "lang",
    "referenced_tweets",
]
USER_FIELDS = ["username", "name"]
DM_FIELDS = ["id", "text", "event_type", "created_at", "sender_id", "dm_conversation_id"]
DEFAULT_RETRY = 60.0


class Unconfirmed(ChannelUnavailable):
    """The request may have reached X before it failed: whether it took effect is unknown."""


@dataclass(frozen=True, slots=True)
class ApiResult:
    """A successful response: its JSON body and the rate-limit window it reported."""

    body: Mapping[str, Any]
    remaining: int | None = None
    reset_at: float | None = None

    def wait_for_window(self, now: float | None = None) -> float:
        """Seconds until the window resets when it is used up, else 0."""
        if self.remaining is None or self.remaining > 0 or self.reset_at is None:
            return 0.0
        return max(0.0, self.reset_at - (now if now is not None else time.time()))


def default_session(settings: XSettings) -> aiohttp.ClientSession:
    """The HTTP session for the real X API."""
    return aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=settings.timeout_seconds))


class XApi:
    """The support account's calls to X.

    Args:
        settings: Credentials and limits.
        session: The aiohttp session tweepy sends through (tests point it at a local fake X).

    """

    def __init__(self, settings: XSettings, session: aiohttp.ClientSession) -> None:
        self._session = session
        self._client = AsyncClient(
            consumer_key=settings.consumer_key,
            consumer_secret=settings.consumer_secret,
            access_token=settings.access_token,
            access_token_secret=settings.access_token_secret,
            return_type=aiohttp.ClientResponse,
        )
        self._client.session = session
        self._max_results = settings.max_results

    async def close(self) -> None:
        """Close the HTTP session."""
        await self._session.close()

    async def me(self) -> str:
        """The support account's user id."""
        result = await self._call(lambda: self._client.get_me(user_auth=True))
        data = result.body.get("data")
        user_id = data.get("id") if isinstance(data, Mapping) else None
        if not isinstance(user_id, str) or not user_id.isdigit():
            raise ChannelUnavailable("GET /2/users/me answered without a user id")
        return user_id

    async def mentions(self, user_id: str, since_id: str | None, page: str | None) -> ApiResult:
        """One page of the account's mentions newer than ``since_id``, newest first."""
        params: dict[str, Any] = {
            "max_results": self._max_results,
            "tweet_fields": TWEET_FIELDS,
            "expansions": ["author_id"],
            "user_fields": USER_FIELDS,
        }
        if since_id:
            params["since_id"] = since_id
        if page:
            params["pagination_token"] = page
        return await self._call(lambda: self._client.get_users_mentions(user_id, user_auth=True, **params))

    async def dm_events(self, page: str | None) -> ApiResult:
        """One page of the account's DM message events, newest first."""
        params: dict[str, Any] = {
            "max_results": self._max_results,
            "dm_event_fields": DM_FIELDS,
            "event_types": "MessageCreate",
            "expansions": ["sender_id"],
            "user_fields": USER_FIELDS,
        }
        if page:
            params["pagination_token"] = page
        return await self._call(lambda: self._client.get_direct_message_events(**params))

    async def reply(self, text: str, in_reply_to: str, dm_deep_link: str | None = None) -> str:
        """Post ``text`` as a reply to tweet ``in_reply_to``; returns the new tweet's id."""
        result = await self._call(
            lambda: self._client.create_tweet(
                text=text, in_reply_to_tweet_id=in_reply_to, direct_message_deep_link=dm_deep_link
            )
        )
        return _data_id(result.body, "id", "POST /2/tweets")

    async def direct_message(self, conversation_id: str, text: str) -> str:
        """Send ``text`` in a DM conversation; returns the DM event id."""
        result = await self._call(
            lambda: self._client.create_direct_message(dm_conversation_id=conversation_id, text=text)
        )
        return _data_id(result.body, "dm_event_id", "POST /2/dm_conversations/:id/messages")

    async def _call(self, request: Callable[[], Awaitable[Any]]) -> ApiResult:
        try:
            response: aiohttp.ClientResponse = await request()
            body = await response.json(content_type=None)
        except tweepy.TooManyRequests as exc:
            raise RateLimited(f"429 from X: {_describe(exc)}", retry_after=_retry_after(exc)) from exc
        except tweepy.TwitterServerError as exc:
            raise ChannelUnavailable(f"X server error: {_describe(exc)}") from exc
        except (tweepy.BadRequest, tweepy.Unauthorized, tweepy.Forbidden, tweepy.NotFound) as exc:
            raise DeliveryRejected(f"X refused: {_describe(exc)}") from exc
        except tweepy.HTTPException as exc:
            raise ChannelUnavailable(f"X answered {_describe(exc)}") from exc
        except aiohttp.ContentTypeError as exc:  # an error page that is not JSON
            raise _status_error(exc.status, "a body that is not JSON") from exc
        except json.JSONDecodeError as exc:
            raise ChannelUnavailable("X answered with a malformed JSON body") from exc
        except (aiohttp.ClientConnectorError, ConnectionRefusedError) as exc:
            raise ChannelUnavailable(f"cannot reach X: {exc!r}") from exc
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise Unconfirmed(f"the request to X failed midway: {exc!r}") from exc
        if not isinstance(body, Mapping):
            raise ChannelUnavailable("X answered with a JSON body that is not an object")
        return ApiResult(body, _int(response.headers.get("x-rate-limit-remaining")), _reset(response.headers))


def _data_id(body: Mapping[str, Any], key: str, what: str) -> str:
    data = body.get("data")
    value = data.get(key) if isinstance(data, Mapping) else None
    if not isinstance(value, str) or not value:
        raise Unconfirmed(f"{what} answered without data.{key}")
    return value


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _reset(headers: Mapping[str, str]) -> float | None:
    value = _int(headers.get("x-rate-limit-reset"))
    return float(value) if value is not None else None


def _retry_after(exc: tweepy.TooManyRequests) -> float:
    reset = getattr(exc, "reset_time", None)
    if isinstance(reset, int | float):
        return max(1.0, float(reset) - time.time())
    return DEFAULT_RETRY


def _status_error(status: int, what: str) -> ChannelUnavailable | DeliveryRejected:
    if status == 429:
        return RateLimited(f"429 from X with {what}", retry_after=DEFAULT_RETRY)
    if status >= 500 or status < 400:
        return ChannelUnavailable(f"X answered {status} with {what}")
    return DeliveryRejected(f"X answered {status} with {what}")


def _describe(exc: tweepy.HTTPException) -> str:
    detail = "; ".join(exc.api_messages) or "no detail"
    return f"{exc.response.status} {detail}"[:300]

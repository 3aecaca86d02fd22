"""A signed HTTP integration channel, for an exchange's own app chat or any custom front end.

Inbound: the integrator POSTs ``/api/webhook/messages`` with a JSON body
``{"conversation_id", "message_id", "user": {"id", "name"?, "language"?}, "text" | "action"}``,
signed with HMAC-SHA256 over ``"{timestamp}.{body}"`` in ``X-Helpline-Signature:
sha256=<hex>`` and ``X-Helpline-Timestamp`` (seconds; more than five minutes off is refused
as a replay). The answer is ``202`` at once; replies follow asynchronously.

Outbound: each reply is POSTed to ``deliver_url`` as ``{"conversation_id", "message_id",
"text", "buttons", "in_reply_to"}``, signed the same way, with an ``Idempotency-Key`` that
stays the same across retries so the integrator can drop a repeat. A 2xx answer is
delivery (``{"id": ...}`` in the body becomes the platform id), 429 and 5xx are retried,
other 4xx are refused for good.

Settings (section ``webhook``): ``HELPLINE_WEBHOOK__ENABLED=true``,
``HELPLINE_WEBHOOK__SECRET`` (required, environment only), ``HELPLINE_WEBHOOK__DELIVER_URL``.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from collections.abc import Mapping
from typing import Any

import httpx
import orjson
from pydantic import BaseModel, ConfigDict, Field, model_validator
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from adapters.http_helpers import (
    ID_PATTERN,
    MessageBody,
    check_external_id,
    error,
    json_response,
    parse_message,
    read_limited,
    unavailable,
)
from conversations.errors import StoreUnavailable
from conversations.values import InboundMessage, OutboundMessage, Sender, Surface
from core.channels import (
    Channel,
    ChannelContext,
    ChannelUnavailable,
    DeliveryRejected,
    Inbox,
    RateLimited,
)

log = logging.getLogger(__name__)
NAME = "webhook"
MAX_CLOCK_SKEW = 300


class WebhookSettings(BaseModel):
    """The ``webhook`` settings section."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = False
    secret: str = Field("", repr=False)
    deliver_url: str = ""
    timeout_seconds: float = Field(10.0, gt=0)
    max_text_chars: int = Field(4000, ge=1)
    max_body_bytes: int = Field(65536, ge=1024)


class WebhookUser(BaseModel):
    """The integrator's user."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=255, pattern=ID_PATTERN)
    name: str | None = Field(default=None, max_length=255)
    language: str | None = Field(default=None, max_length=8, pattern=ID_PATTERN)


class WebhookPost(MessageBody):
    """The body of ``POST /api/webhook/messages``."""

    conversation_id: str = Field(min_length=1, max_length=255, pattern=ID_PATTERN)
    message_id: str = Field(min_length=1, max_length=255, pattern=ID_PATTERN)
    user: WebhookUser

    @model_validator(mode="after")
    def _storable_ids(self) -> WebhookPost:
        check_external_id(self.conversation_id, self.message_id, "conversation_id and message_id")
        return self


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header value for ``body`` sent at ``timestamp``."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


class WebhookChannel(Channel):
    """Receives signed JSON over HTTP and delivers replies to the integrator's URL."""

    name = NAME

    def __init__(self, settings: WebhookSettings, client: httpx.AsyncClient | None = None) -> None:
        self._settings = settings
        self._client = client
        self._inbox: Inbox | None = None

    @classmethod
    def configure(
        cls, section: Mapping[str, Any], context: ChannelContext | None = None
    ) -> WebhookChannel | str:
        """Build from the settings section, or say why the channel stays off."""
        settings = WebhookSettings.model_validate(section)
        if not settings.enabled:
            return "disabled (set HELPLINE_WEBHOOK__ENABLED=true to enable)"
        if not settings.secret or not settings.deliver_url:
            return "not configured (set HELPLINE_WEBHOOK__SECRET and HELPLINE_WEBHOOK__DELIVER_URL)"
        return cls(settings)

    async def start(self, inbox: Inbox) -> None:
        """Open the HTTP client and accept inbound requests."""
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self._settings.timeout_seconds)
        self._inbox = inbox

    async def stop(self) -> None:
        """Refuse inbound requests and close the HTTP client."""
        self._inbox = None
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def send(self, message: OutboundMessage) -> str:
        """POST the reply to the integrator, translating HTTP failures into channel errors."""
        if self._client is None:
            raise ChannelUnavailable("the webhook channel is not started")
        body = orjson.dumps(
            {
                "conversation_id": message.thread_key,
                "message_id": message.message_id,
                "text": message.text,
                "buttons": [{"label": b.label, "action": b.action} for b in message.buttons],
                "in_reply_to": message.reply_to_external_id,
                "author": message.author.value,
            }
        )
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": message.idempotency_key,
            "X-Helpline-Timestamp": timestamp,
            "X-Helpline-Signature": sign(self._settings.secret, timestamp, body),
        }
        try:
            response = await self._client.post(self._settings.deliver_url, content=body, headers=headers)
        except httpx.TransportError as exc:
            raise ChannelUnavailable(f"cannot reach {self._settings.deliver_url}: {exc!r}") from exc
        if response.status_code == 429:
            raise RateLimited("429 Too Many Requests", retry_after=_retry_after(response))
        if response.status_code >= 500:
            raise ChannelUnavailable(f"{response.status_code} from {self._settings.deliver_url}")
        if response.status_code >= 400:
            raise DeliveryRejected(f"{response.status_code}: {response.text[:200]}")
        try:
            platform_id = orjson.loads(response.content).get("id")
        except (orjson.JSONDecodeError, AttributeError):
            platform_id = None
        return str(platform_id) if platform_id else message.idempotency_key

    def routes(self) -> list[BaseRoute]:
        """The inbound endpoint."""
        return [Route("/api/webhook/messages", self._post, methods=["POST"])]

    async def _post(self, request: Request) -> Response:
        if self._inbox is None:
            return error(503, "unavailable", "the webhook channel is not running; retry shortly")
        body = await read_limited(request, self._settings.max_body_bytes)
        if body is None:
            return error(413, "too_large", f"the body is larger than {self._settings.max_body_bytes} bytes")
        problem = self._authenticate(request, body)
        if problem is not None:
            return error(401, "unauthorized", problem)
        post = parse_message(body, WebhookPost, self._settings.max_text_chars)
        if isinstance(post, Response):
            return post
        message = InboundMessage(
            channel=NAME,
            thread_key=post.conversation_id,
            external_id=f"{post.conversation_id}:{post.message_id}",
            sender=Sender(post.user.id, display_name=post.user.name, language_hint=post.user.language),
            text=post.text or "",
            action=post.action,
            surface=Surface.PRIVATE,
        )
        try:
            result = await self._inbox.receive(message)
        except StoreUnavailable:
            return unavailable("the message was not stored; send it again")
        return json_response(202, {"status": "accepted", "duplicate": result.duplicate})

    def _authenticate(self, request: Request, body: bytes) -> str | None:
        timestamp = request.headers.get("x-helpline-timestamp", "")
        signature = request.headers.get("x-helpline-signature", "")
        if not timestamp or not signature:
            return "missing X-Helpline-Timestamp or X-Helpline-Signature"
        # isascii: str.isdigit also accepts "²" and other digits int() refuses; 12 digits bound int().
        if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12) or (
            abs(time.time() - int(timestamp)) > MAX_CLOCK_SKEW
        ):
            return "the timestamp is missing, malformed or more than five minutes off"
        # Compared as bytes: compare_digest refuses non-ASCII str, and the header is attacker input.
        if not hmac.compare_digest(signature.encode(), sign(self._settings.secret, timestamp, body).encode()):
            return "the signature does not match the body"
        return None


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return None

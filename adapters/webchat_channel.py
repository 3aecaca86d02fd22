"""The built-in web chat: a JSON API and a page at ``/chat``.

``POST /api/chat/messages`` takes ``{"session_id", "message_id", "text"}`` (or ``"action"``
for a button press) and answers with this turn's replies; repeating a ``message_id``
returns the same replies and stores nothing new. ``GET /api/chat/messages?session_id=S``
lists every bot and agent message of the session; ``after=ID`` and ``wait=SECONDS`` make
it a long poll that returns as soon as a later message (an agent's reply, a survey) is sent.

A session the page bound to its browser (see :mod:`adapters.webchat_sessions`) answers
``403 session_forbidden`` to any request without that browser's cookie.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from pathlib import Path
from typing import Any

from pydantic import Field, model_validator
from starlette.requests import Request
from starlette.responses import FileResponse, Response
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
from adapters.webchat_sessions import Access, SessionBindings
from conversations import repository as repo
from conversations.channel_state import ChannelStateStore
from conversations.database import Database
from conversations.errors import StoreUnavailable
from conversations.notifications import Notifications
from conversations.values import InboundMessage, OutboundMessage, Sender, Surface
from core.channels import Channel, Inbox
from core.settings import WebchatSettings

log = logging.getLogger(__name__)
NAME = "webchat"
PAGE = Path(__file__).with_name("webchat") / "chat.html"


class ChatPost(MessageBody):
    """The body of ``POST /api/chat/messages``."""

    session_id: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:-]+$")
    message_id: str = Field(min_length=1, max_length=128, pattern=ID_PATTERN)

    @model_validator(mode="after")
    def _storable_ids(self) -> ChatPost:
        check_external_id(self.session_id, self.message_id, "session_id and message_id")
        return self


class SessionHub:
    """Wakes the long polls of a session when a message is delivered to it."""

    def __init__(self) -> None:
        self._events: dict[str, asyncio.Event] = {}

    def notify(self, session_id: str) -> None:
        """A message was delivered to ``session_id``."""
        event = self._events.pop(session_id, None)
        if event is not None:
            event.set()

    async def wait(self, session_id: str, timeout: float) -> None:
        """Return when ``session_id`` gets a message, or after ``timeout`` seconds."""
        event = self._events.setdefault(session_id, asyncio.Event())
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except TimeoutError:
            if self._events.get(session_id) is event:
                del self._events[session_id]


class WebchatChannel(Channel):
    """The web chat channel: receives over HTTP; "sending" makes a reply visible to the page.

    Args:
        db: The store.
        settings: The ``webchat`` settings.
        max_body_bytes: Larger request bodies are refused.
        secret: Signs the browser sessions' cookies; every process must share it (the runtime
            passes the console's secret). Unset, a random one that only this process knows.
        secure_cookies: Send those cookies over HTTPS only.

    """

    name = NAME
    answers_in_response = True

    def __init__(
        self,
        db: Database,
        settings: WebchatSettings,
        max_body_bytes: int = 65536,
        *,
        secret: str | None = None,
        secure_cookies: bool = False,
    ) -> None:
        self._db = db
        self._settings = settings
        self._max_body = max_body_bytes
        self._inbox: Inbox | None = None
        self.hub = SessionHub()
        self._bindings = SessionBindings(
            ChannelStateStore(db, NAME),
            secret or secrets.token_urlsafe(32),
            secure=secure_cookies,
        )
        # The long poll may wait in another process than the one delivering (PostgreSQL).
        self.notifications = Notifications(db, "helpline_webchat")

    async def start(self, inbox: Inbox) -> None:
        """Accept messages from the HTTP routes and wake-ups from other processes."""
        self._inbox = inbox
        self.notifications.start(self.hub.notify)

    async def stop(self) -> None:
        """Refuse further messages."""
        self._inbox = None
        await self.notifications.stop()

    async def send(self, message: OutboundMessage) -> str:
        """Deliver to the browser: the message is stored, so waking its long polls is enough."""
        self.hub.notify(message.thread_key)
        await self.notifications.publish(message.thread_key)
        return f"webchat-{message.message_id}"

    def routes(self) -> list[BaseRoute]:
        """The page and the JSON API."""
        return [
            Route("/chat", self._page, methods=["GET"]),
            Route("/api/chat/messages", self._post, methods=["POST"]),
            Route("/api/chat/messages", self._list, methods=["GET"]),
        ]

    async def _page(self, request: Request) -> Response:
        return FileResponse(PAGE, media_type="text/html; charset=utf-8")

    async def _post(self, request: Request) -> Response:
        if self._inbox is None:
            return error(503, "unavailable", "the web chat is not running; try again shortly")
        body = await read_limited(request, self._max_body)
        if body is None:
            return error(413, "too_large", f"the request body is larger than {self._max_body} bytes")
        post = parse_message(body, ChatPost, self._settings.max_text_chars)
        if isinstance(post, Response):
            return post
        try:
            admission = await self._bindings.admit(request, post.session_id)
        except StoreUnavailable:
            return unavailable("we could not store your message; please send it again")
        if admission.access is Access.REFUSED:
            return _forbidden()
        message = InboundMessage(
            channel=NAME,
            thread_key=post.session_id,
            external_id=f"{post.session_id}:{post.message_id}",
            sender=Sender(external_id=post.session_id),
            text=post.text or "",
            action=post.action,
            surface=Surface.PRIVATE,
        )
        try:
            result = await self._inbox.receive(message)
        except StoreUnavailable:
            log.warning("web chat message %s not stored: database unavailable", message.external_id)
            return unavailable("we could not store your message; please send it again")
        replies = [
            {"id": r.id, "text": r.text, "buttons": [{"label": lb, "action": ac} for lb, ac in r.buttons]}
            for r in result.replies
        ]
        response = json_response(200, {"replies": replies, "duplicate": result.duplicate})
        if admission.cookie is not None:
            self._bindings.set_cookie(response, admission.cookie)
        return response

    async def _list(self, request: Request) -> Response:
        session_id = request.query_params.get("session_id", "")
        if not session_id or len(session_id) > 128:
            return error(422, "invalid_request", "session_id is required (at most 128 characters)")
        try:
            after = int(request.query_params.get("after", "0"))
            wait = min(float(request.query_params.get("wait", "0")), self._settings.max_wait_seconds)
        except ValueError:
            return error(422, "invalid_request", "after must be an integer and wait a number of seconds")
        access = await self._bindings.check(request, session_id)
        if access is Access.REFUSED:
            return _forbidden()
        messages = await self._outbound(session_id, after)
        if not messages and wait > 0:
            await self.hub.wait(session_id, wait)
            # Bound while this poll waited (by the page's first message): its next poll has the cookie.
            if access is Access.OPEN and await self._bindings.check(request, session_id) is Access.REFUSED:
                return json_response(200, {"messages": []})
            messages = await self._outbound(session_id, after)
        return json_response(200, {"messages": messages})

    async def _outbound(self, session_id: str, after: int) -> list[dict[str, Any]]:
        async with self._db.reader() as session:
            stored = await repo.outbound_messages(session, NAME, session_id, after_id=after)
        return [
            {
                "id": m.id,
                "text": m.text,
                "buttons": [{"label": b.label, "action": b.action} for b in m.buttons],
                "created_at": m.created_at.isoformat(),
            }
            for m in stored
        ]


def _forbidden() -> Response:
    return error(
        403,
        "session_forbidden",
        "this chat session belongs to another browser; start a new session",
    )

"""A local stand-in for Telegram's Bot API, served over a real socket on 127.0.0.1.

python-telegram-bot reaches it through ``base_url``/``base_file_url``, exactly as it would
reach a self-hosted Bot API server. It records every call, hands queued updates to long
polling (``getUpdates`` honours ``offset`` and ``timeout``), posts them to a registered
webhook with its secret, and can be told to fail the next calls of a method: 429 with
``retry_after``, 5xx, 4xx with Telegram's descriptions, or a delay past the client's timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import socket
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

TOKEN = "123456:TEST-fake-token"
BOT_USER = {"id": 4242, "is_bot": True, "first_name": "Helpline", "username": "helpline_test_bot"}
# Telegram answers a long poll at the latest after its timeout; the fake caps it for fast tests.
MAX_POLL_SECONDS = 2.0


@dataclass(frozen=True)
class Call:
    """One Bot API request as the fake received it."""

    method: str
    params: dict[str, Any]
    at: float  # time.monotonic() when it arrived


@dataclass(frozen=True)
class Failure:
    """How to fail one call: an HTTP error with Telegram's body, or a delay before answering."""

    status: int = 500
    description: str = "Internal Server Error"
    retry_after: int | None = None
    delay: float = 0.0


class FakeBotApi:
    """The fake server; ``await start()`` before use and ``await stop()`` after."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.messages: list[dict[str, Any]] = []
        self.webhook: dict[str, Any] | None = None
        self._updates: list[dict[str, Any]] = []
        self._failures: dict[str, deque[Failure]] = defaultdict(deque)
        self._message_ids: dict[int, itertools.count[int]] = defaultdict(lambda: itertools.count(1000))
        self._changed = asyncio.Condition()
        self._server: uvicorn.Server | None = None
        self._serving: asyncio.Task[None] | None = None
        self._client: httpx.AsyncClient | None = None
        self._closing = False
        self.url = ""

    @property
    def base_url(self) -> str:
        """The ``base_url`` python-telegram-bot appends the token to."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        """The ``base_file_url``."""
        return f"{self.url}/file/bot"

    async def start(self) -> None:
        """Serve on a free port of 127.0.0.1."""
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        app = Starlette(routes=[Route("/bot{token}/{method}", self._endpoint, methods=["GET", "POST"])])
        config = uvicorn.Config(
            app, log_config=None, access_log=False, lifespan="off", timeout_graceful_shutdown=1
        )
        self._server = uvicorn.Server(config)
        self._serving = asyncio.create_task(self._server.serve(sockets=[sock]))
        self._client = httpx.AsyncClient(timeout=10)
        while not self._server.started:
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        """Stop serving (open long polls are answered first)."""
        assert self._server is not None and self._serving is not None and self._client is not None
        await self._client.aclose()
        self._server.should_exit = True
        async with self._changed:
            self._closing = True
            self._changed.notify_all()
        await self._serving

    # -- what tests do ------------------------------------------------------------------------

    async def push(self, *updates: dict[str, Any]) -> None:
        """Queue updates for long polling."""
        async with self._changed:
            self._updates.extend(updates)
            self._changed.notify_all()

    def fail(self, method: str, *failures: Failure) -> None:
        """Fail the next calls of ``method``, one failure per call."""
        self._failures[method].extend(failures)

    def of(self, method: str) -> list[Call]:
        """The calls of one method, in order."""
        return [c for c in self.calls if c.method == method]

    def posted(self, chat_id: int, containing: str = "") -> list[dict[str, Any]]:
        """Messages the fake accepted for a chat (with their ids), whose text contains a string."""
        return [m for m in self.messages if m["chat"]["id"] == chat_id and containing in m["text"]]

    def sent(self, chat_id: int | None = None) -> list[Call]:
        """The ``sendMessage`` calls (to one chat)."""
        return [c for c in self.of("sendMessage") if chat_id is None or int(c.params["chat_id"]) == chat_id]

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 30.0) -> None:
        """Wait until ``predicate()`` holds after some call; fails the test after ``timeout``."""
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(predicate), timeout)

    async def deliver(self, update: dict[str, Any], secret: str | None = None) -> httpx.Response:
        """POST an update to the registered webhook, as Telegram does (with its secret)."""
        assert self.webhook is not None, "no webhook registered"
        headers = {}
        token = self.webhook.get("secret_token") if secret is None else secret
        if token:
            headers["X-Telegram-Bot-Api-Secret-Token"] = token
        return await self.post(self.webhook["url"], update, headers)

    async def post(self, url: str, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
        """POST JSON (or raw bytes) somewhere, over the fake's own keep-alive client."""
        assert self._client is not None
        if isinstance(body, bytes):
            return await self._client.post(url, content=body, headers=headers)
        return await self._client.post(url, json=body, headers=headers)

    # -- the API ------------------------------------------------------------------------------

    async def _endpoint(self, request: Request) -> JSONResponse:
        method = request.path_params["method"]
        if request.path_params["token"] != TOKEN:
            return _error(401, "Unauthorized")
        params = await _params(request)
        async with self._changed:
            self.calls.append(Call(method, params, time.monotonic()))
            self._changed.notify_all()
        if self._failures[method]:
            failure = self._failures[method].popleft()
            if failure.delay:
                await asyncio.sleep(failure.delay)
            else:
                return _error(failure.status, failure.description, failure.retry_after)
        handler = getattr(self, f"_api_{method}", None)
        if handler is None:
            return _error(404, "Not Found: method not found")
        return JSONResponse({"ok": True, "result": await handler(params)})

    async def _api_getMe(self, params: dict[str, Any]) -> Any:
        return BOT_USER

    async def _api_getUpdates(self, params: dict[str, Any]) -> Any:
        offset = int(params.get("offset") or 0)
        wait = min(float(params.get("timeout") or 0), MAX_POLL_SECONDS)
        async with self._changed:
            # Asking from an offset confirms every update before it, as on Telegram.
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
            if not self._updates and wait > 0 and not self._closing:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        self._changed.wait_for(lambda: bool(self._updates) or self._closing), wait
                    )
            return list(self._updates)

    async def _api_sendMessage(self, params: dict[str, Any]) -> Any:
        chat_id = int(params["chat_id"])
        message: dict[str, Any] = {
            "message_id": next(self._message_ids[chat_id]),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup", "title": "Group"},
            "from": BOT_USER,
            "text": params["text"],
        }
        if "reply_markup" in params:
            message["reply_markup"] = params["reply_markup"]
        self.messages.append(message)
        return message

    async def _api_editMessageReplyMarkup(self, params: dict[str, Any]) -> Any:
        return True

    async def _api_answerCallbackQuery(self, params: dict[str, Any]) -> Any:
        return True

    async def _api_setWebhook(self, params: dict[str, Any]) -> Any:
        self.webhook = params
        return True

    async def _api_deleteWebhook(self, params: dict[str, Any]) -> Any:
        self.webhook = None
        return True

    async def _api_getFile(self, params: dict[str, Any]) -> Any:
        return {"file_id": params["file_id"], "file_unique_id": "u1", "file_size": 1, "file_path": "f/1"}


async def _params(request: Request) -> dict[str, Any]:
    """Form or JSON parameters; python-telegram-bot form-encodes objects as JSON strings."""
    body = await request.body()
    if request.headers.get("content-type", "").startswith("application/json"):
        return dict(json.loads(body or b"{}"))
    params: dict[str, Any] = {}
    for key, value in parse_qsl(body.decode(), keep_blank_values=True):
        try:
            params[key] = json.loads(value) if value[:1] in ("{", "[") else value
        except json.JSONDecodeError:
            params[key] = value
    return params


def _error(status: int, description: str, retry_after: int | None = None) -> JSONResponse:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return JSONResponse(body, status_code=status)

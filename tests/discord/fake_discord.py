"""A local stand-in for Discord: the REST API and the gateway, over real sockets.

The real discord.py talks to it unchanged once ``discord.http.Route.BASE`` points here:
``GET /gateway/bot`` hands out this server's websocket URL, where the gateway protocol is
spoken as Discord does (HELLO, IDENTIFY → READY + GUILD_CREATE, heartbeats, RECONNECT,
RESUME → replayed events + RESUMED). Everything the bot sends is recorded for assertions,
and failures (429, 5xx, 403) can be queued for the next message posts.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

BOT_ID = 900000000000000001
APP_ID = 900000000000000002
GUILD_ID = 900000000000000003
SUPPORT_CHANNEL_ID = 900000000000000004
OTHER_CHANNEL_ID = 900000000000000005
SUPPORT_ROLE_ID = 900000000000000006
CUSTOMER_ID = 53908099506183680  # "Mason" of Discord's documentation samples
AGENT_ID = 900000000000000007
DM_CHANNEL_ID = 290926798999357250


@dataclass
class Posted:
    """A message the bot created (REST or interaction follow-up)."""

    id: int
    channel_id: int | None
    body: dict[str, Any]
    via: str

    @property
    def content(self) -> str:
        return str(self.body.get("content") or "")


@dataclass
class Failure:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


class FakeDiscord:
    """The fake server. Use as ``async with FakeDiscord() as fake``."""

    def __init__(self) -> None:
        self._ids = itertools.count(950000000000000000)
        self.port = 0
        self.requests: list[tuple[str, str, Any]] = []
        self.posted: list[Posted] = []
        self.callbacks: list[dict[str, Any]] = []
        self.threads: dict[int, dict[str, Any]] = {}
        self.thread_members: list[tuple[int, int]] = []
        self.commands: list[dict[str, Any]] = []
        self.failures: deque[Failure] = deque()
        self.nonces: dict[str, int] = {}
        self.identifies = 0
        self.resumes: list[dict[str, Any]] = []
        self.replay_from: int | None = None
        self._events: list[dict[str, Any]] = []
        self._seq = 0
        self._ws: web.WebSocketResponse | None = None
        self._session = "fake-session"
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None

    async def __aenter__(self) -> FakeDiscord:
        app = web.Application()
        app.router.add_route("*", "/api/v10/{tail:.*}", self._rest)
        app.router.add_get("/gateway", self._gateway)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._ws is not None and not self._ws.closed:
            await self._ws.close()
        assert self._runner is not None
        await self._runner.cleanup()

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    def new_id(self) -> int:
        return next(self._ids)

    # ----- waiting -------------------------------------------------------------------

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 20.0) -> None:
        """Wait until ``predicate()`` holds (re-checked after every request and gateway frame)."""

        async def check() -> None:
            async with self._changed:
                await self._changed.wait_for(predicate)

        await asyncio.wait_for(check(), timeout)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # ----- gateway ----------------------------------------------------------------------

    async def dispatch(self, event: str, data: dict[str, Any]) -> int:
        """Send a DISPATCH frame on the live connection; returns its sequence number."""
        self._seq += 1
        frame = {"op": 0, "t": event, "s": self._seq, "d": data}
        self._events.append(frame)
        assert self._ws is not None, "no gateway connection"
        await self._ws.send_str(json.dumps(frame))
        return self._seq

    async def reconnect(self) -> None:
        """Ask the client to reconnect (op 7): discord.py answers by resuming."""
        assert self._ws is not None
        await self._ws.send_str(json.dumps({"op": 7, "d": None}))

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._ws = ws
        await ws.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": 45000}}))
        async for frame in ws:
            if frame.type != WSMsgType.TEXT:
                continue
            payload = json.loads(frame.data)
            op = payload.get("op")
            if op == 1:
                await ws.send_str(json.dumps({"op": 11}))
            elif op == 2:
                self.identifies += 1
                await self._ready(ws, payload["d"].get("shard", [0, 1]))
            elif op == 6:
                self.resumes.append(payload["d"])
                start = self.replay_from if self.replay_from is not None else payload["d"]["seq"] + 1
                for event in self._events:
                    if event["s"] >= start:
                        await ws.send_str(json.dumps(event))
                self._seq += 1
                await ws.send_str(json.dumps({"op": 0, "t": "RESUMED", "s": self._seq, "d": {}}))
            await self._notify()
        return ws

    async def _ready(self, ws: web.WebSocketResponse, shard: list[int]) -> None:
        self._seq += 1
        ready = {
            "shard": shard,
            "v": 10,
            "user": _user(BOT_ID, "helpline", bot=True),
            "guilds": [{"id": str(GUILD_ID), "unavailable": True}],
            "session_id": self._session,
            "resume_gateway_url": self.gateway_url,
            "application": {"id": str(APP_ID), "flags": 0},
        }
        await ws.send_str(json.dumps({"op": 0, "t": "READY", "s": self._seq, "d": ready}))
        self._seq += 1
        await ws.send_str(json.dumps({"op": 0, "t": "GUILD_CREATE", "s": self._seq, "d": _guild()}))

    # ----- REST -------------------------------------------------------------------------

    async def _rest(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["tail"]
        body: Any = None
        if request.can_read_body:
            raw = await request.read()
            body = json.loads(raw) if raw and request.content_type == "application/json" else raw
        self.requests.append((request.method, path, body))
        try:
            return await self._route(request.method, path.split("/")[1:], body)
        finally:
            await self._notify()

    async def _route(self, method: str, parts: list[str], body: Any) -> web.Response:
        match method, parts:
            case "GET", ["gateway", "bot"]:
                limit = {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}
                return _json({"url": self.gateway_url, "shards": 1, "session_start_limit": limit})
            case "GET", ["users", "@me"]:
                return _json(_user(BOT_ID, "helpline", bot=True))
            case "GET", ["oauth2", "applications", "@me"]:
                return _json(_application())
            case "PUT", ["applications", _, "commands"] | ["applications", _, "guilds", _, "commands"]:
                self.commands = [{**c, "id": str(self.new_id()), "application_id": str(APP_ID)} for c in body]
                return _json(self.commands)
            case "POST", ["channels", channel, "messages"]:
                return self._post_message(int(channel), body)
            case "PATCH", ["channels", channel, "messages", message]:
                self.posted.append(Posted(int(message), int(channel), body, "edit"))
                return _json(self._message(int(message), int(channel), body))
            case "POST", ["channels", channel, "threads"]:
                thread = self._thread(int(channel), body)
                await self.dispatch("THREAD_CREATE", {**thread, "newly_created": True})
                return _json(thread)
            case "PUT", ["channels", thread, "thread-members", user]:
                self.thread_members.append((int(thread), int(user)))
                return web.Response(status=204)
            case "POST", ["interactions", interaction, _token, "callback"]:
                self.callbacks.append(body)
                response = {"interaction": {"id": interaction, "type": 2}}
                return _json(response)
            case "POST", ["webhooks", _, _token]:
                message_id = self.new_id()
                self.posted.append(Posted(message_id, None, body, "followup"))
                return _json(self._message(message_id, SUPPORT_CHANNEL_ID, body))
            case "PATCH", ["webhooks", _, _token, "messages", "@original"]:
                message_id = self.new_id()
                self.posted.append(Posted(message_id, None, body, "original"))
                return _json(self._message(message_id, SUPPORT_CHANNEL_ID, body))
        return _json({"message": f"404: Not Found ({method} {'/'.join(parts)})", "code": 0}, 404)

    def _post_message(self, channel_id: int, body: dict[str, Any]) -> web.Response:
        if self.failures:
            failure = self.failures.popleft()
            return _json(failure.body, failure.status, failure.headers)
        nonce = body.get("nonce")
        if body.get("enforce_nonce") and nonce in self.nonces:
            return _json(self._message(self.nonces[nonce], channel_id, body))
        message_id = self.new_id()
        if nonce is not None:
            self.nonces[nonce] = message_id
        self.posted.append(Posted(message_id, channel_id, body, "rest"))
        return _json(self._message(message_id, channel_id, body))

    def _message(self, message_id: int, channel_id: int, body: dict[str, Any]) -> dict[str, Any]:
        return message(
            message_id,
            channel_id,
            body.get("content") or "",
            author=_user(BOT_ID, "helpline", bot=True),
            components=body.get("components") or [],
        )

    def _thread(self, parent_id: int, body: dict[str, Any]) -> dict[str, Any]:
        thread_id = self.new_id()
        thread = {
            "id": str(thread_id),
            "guild_id": str(GUILD_ID),
            "parent_id": str(parent_id),
            "owner_id": str(BOT_ID),
            "name": body["name"],
            "type": body.get("type", 12),
            "last_message_id": None,
            "rate_limit_per_user": 0,
            "message_count": 0,
            "member_count": 1,
            "thread_metadata": {
                "archived": False,
                "auto_archive_duration": body.get("auto_archive_duration", 10080),
                "archive_timestamp": "2024-01-01T00:00:00+00:00",
                "locked": False,
                "invitable": body.get("invitable", True),
            },
        }
        self.threads[thread_id] = thread
        return thread

    def messages_in(self, channel_id: int) -> list[Posted]:
        return [p for p in self.posted if p.channel_id == channel_id and p.via == "rest"]


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    # discord.py parses a body as JSON only for exactly "application/json" (no charset).
    return web.Response(
        body=json.dumps(data).encode(),
        status=status,
        headers={**(headers or {}), "Content-Type": "application/json"},
    )


def _user(user_id: int, name: str, *, bot: bool = False) -> dict[str, Any]:
    return {
        "id": str(user_id),
        "username": name,
        "discriminator": "0",
        "global_name": name.title(),
        "avatar": None,
        "bot": bot,
        "public_flags": 0,
    }


def _application() -> dict[str, Any]:
    return {
        "id": str(APP_ID),
        "name": "Helpline",
        "icon": None,
        "description": "",
        "rpc_origins": [],
        "bot_public": True,
        "bot_require_code_grant": False,
        "owner": _user(AGENT_ID, "owner"),
        "summary": "",
        "verify_key": "0" * 64,
        "team": None,
        "flags": 0,
    }


def _role(role_id: int, name: str, position: int) -> dict[str, Any]:
    return {
        "id": str(role_id),
        "name": name,
        "color": 0,
        "hoist": False,
        "position": position,
        "permissions": "2147483647" if role_id != GUILD_ID else "68608",
        "managed": False,
        "mentionable": True,
        "flags": 0,
    }


def _channel(channel_id: int, name: str) -> dict[str, Any]:
    return {
        "id": str(channel_id),
        "type": 0,
        "guild_id": str(GUILD_ID),
        "name": name,
        "position": 0,
        "permission_overwrites": [],
        "nsfw": False,
        "parent_id": None,
        "topic": None,
        "last_message_id": None,
        "rate_limit_per_user": 0,
    }


def _guild() -> dict[str, Any]:
    return {
        "id": str(GUILD_ID),
        "name": "Acme Exchange",
        "icon": None,
        "owner_id": str(AGENT_ID),
        "afk_channel_id": None,
        "afk_timeout": 300,
        "verification_level": 0,
        "default_message_notifications": 0,
        "explicit_content_filter": 0,
        "roles": [_role(GUILD_ID, "@everyone", 0), _role(SUPPORT_ROLE_ID, "Support", 1)],
        "emojis": [],
        "features": [],
        "mfa_level": 0,
        "application_id": None,
        "system_channel_id": None,
        "system_channel_flags": 0,
        "rules_channel_id": None,
        "vanity_url_code": None,
        "description": None,
        "banner": None,
        "premium_tier": 0,
        "preferred_locale": "en-US",
        "public_updates_channel_id": None,
        "nsfw_level": 0,
        "premium_progress_bar_enabled": False,
        "stickers": [],
        "unavailable": False,
        "member_count": 3,
        "large": False,
        "joined_at": "2024-01-01T00:00:00+00:00",
        "members": [],
        "channels": [_channel(SUPPORT_CHANNEL_ID, "support"), _channel(OTHER_CHANNEL_ID, "general")],
        "threads": [],
        "voice_states": [],
        "presences": [],
        "stage_instances": [],
        "guild_scheduled_events": [],
        "soundboard_sounds": [],
    }


def member(user_id: int, name: str, roles: list[int] = []) -> dict[str, Any]:  # noqa: B006 - read only
    return {
        "user": _user(user_id, name),
        "roles": [str(r) for r in roles],
        "joined_at": "2024-01-01T00:00:00+00:00",
        "deaf": False,
        "mute": False,
        "flags": 0,
        "pending": False,
        "nick": None,
        "avatar": None,
        "premium_since": None,
        "permissions": "2147483647",
    }


def message(
    message_id: int,
    channel_id: int,
    content: str,
    *,
    author: dict[str, Any] | None = None,
    components: list[Any] | None = None,
    mentions: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return {
        "id": str(message_id),
        "channel_id": str(channel_id),
        "author": author or _user(CUSTOMER_ID, "mason"),
        "content": content,
        "timestamp": "2024-01-01T00:00:00+00:00",
        "edited_timestamp": None,
        "tts": False,
        "mention_everyone": False,
        "mentions": mentions or [],
        "mention_roles": [],
        "attachments": [],
        "embeds": [],
        "pinned": False,
        "type": 0,
        "components": components or [],
        "flags": 0,
    }


def bot_mention() -> dict[str, Any]:
    return _user(BOT_ID, "helpline", bot=True)


def user(user_id: int, name: str) -> dict[str, Any]:
    return _user(user_id, name)

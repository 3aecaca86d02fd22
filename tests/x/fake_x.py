"""A local fake of the X API v2 that tweepy's real ``AsyncClient`` talks to over TLS on a real socket.

How tweepy is pointed at it: tweepy builds every URL as ``https://api.twitter.com`` + route
and sends it through ``client.session`` (an ``aiohttp.ClientSession``) when one is set. The
X channel takes a session factory; the tests give it a session whose ``TCPConnector`` has a
custom resolver (``api.twitter.com`` → ``127.0.0.1:<port>``, every other host refused, so
nothing reaches the internet) and an SSL context trusting a throw-away CA (``trustme``)
that issued this server's certificate for ``api.twitter.com``. tweepy, aiohttp, OAuth 1.0a
signing and TLS all run unmodified.

The server answers with the shapes of tweepy's recorded real responses in
``../shared/data/channels/x/`` (mentions timeline, tweet creation, DM events, ``users/me``).
The recorded tweets were fetched without ``tweet.fields``, so the fake adds the fields the
channel asks for (``author_id``, ``conversation_id``) and the ``includes.users`` expansion.
Faults (429 with ``x-rate-limit-reset``, 5xx, malformed bodies) are queued per route.
"""

from __future__ import annotations

import itertools
import json
import socket
import ssl
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import trustme
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult

from adapters.x_settings import XSettings
from tests.shared_data import shared_path

API_HOST = "api.twitter.com"


def recorded(name: str) -> list[dict[str, Any]]:
    """The interactions of one recorded cassette (``{method, uri, status, body}`` each)."""
    path: Path = shared_path("channels", "x", name)
    data: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
    return data


class LocalResolver(AbstractResolver):
    """Resolves the X API host to the fake server and refuses every other host."""

    def __init__(self, port: int) -> None:
        self._port = port

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        if host != API_HOST:
            raise OSError(f"the tests are offline: {host} is not the fake X API")
        return [
            ResolveResult(
                hostname=host, host="127.0.0.1", port=self._port, family=socket.AF_INET, proto=0, flags=0
            )
        ]

    async def close(self) -> None:
        return None


@dataclass
class Fault:
    """A canned response returned instead of the normal one."""

    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


class FakeX:
    """The fake X API: a mentions timeline, tweet creation and DMs of one account."""

    def __init__(self) -> None:
        me = recorded("test_asyncclient_get_me.json")[0]["body"]["data"]
        self.account_id: str = me["id"]
        self.account_username: str = me["username"]
        self.consumer_key = "fake-consumer-key"
        self.consumer_secret = "fake-consumer-secret"
        self.mentions: list[dict[str, Any]] = []
        self.users: dict[str, dict[str, str]] = {
            self.account_id: {"id": self.account_id, "username": self.account_username, "name": me["name"]}
        }
        self.dm_events: list[dict[str, Any]] = []
        self.posted: list[dict[str, Any]] = []
        self.dms_sent: list[tuple[str, dict[str, Any]]] = []
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.faults: dict[str, deque[Fault]] = {}
        self.rate_remaining: int | None = None
        self.rate_reset: int | None = None
        self._ids = itertools.count(1_900_000_000_000_000_000)
        self._tweet_template = recorded("test_asyncclient_create_and_delete_tweet.json")[0]
        self._dm_template = recorded("test_asyncclient_manage_and_lookup_direct_messages.json")[1]
        self._ca = trustme.CA()
        self._runner: web.AppRunner | None = None
        self.port = 0

    # ---- lifecycle -------------------------------------------------------------------------
    async def start(self) -> None:
        """Serve on 127.0.0.1, a free port, with TLS."""
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        server_ssl = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._ca.issue_cert(API_HOST).configure_cert(server_ssl)
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=server_ssl)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        """Stop serving."""
        if self._runner is not None:
            await self._runner.cleanup()

    def session_factory(self) -> Callable[[XSettings], aiohttp.ClientSession]:
        """What the X channel builds its aiohttp session with, pointed at this server."""
        client_ssl = ssl.create_default_context()
        self._ca.configure_trust(client_ssl)

        def build(settings: XSettings) -> aiohttp.ClientSession:
            connector = aiohttp.TCPConnector(resolver=LocalResolver(self.port), ssl=client_ssl)
            return aiohttp.ClientSession(
                connector=connector, timeout=aiohttp.ClientTimeout(total=settings.timeout_seconds)
            )

        return build

    def environment(self) -> dict[str, str]:
        """The ``HELPLINE_X__*`` settings for this account."""
        return {
            "HELPLINE_X__ENABLED": "true",
            "HELPLINE_X__CONSUMER_KEY": self.consumer_key,
            "HELPLINE_X__CONSUMER_SECRET": self.consumer_secret,
            "HELPLINE_X__ACCESS_TOKEN": "fake-access-token",
            "HELPLINE_X__ACCESS_TOKEN_SECRET": "fake-access-secret",
        }

    # ---- content ----------------------------------------------------------------------------
    def next_id(self) -> str:
        """A fresh snowflake-like id, larger than every recorded one."""
        return str(next(self._ids))

    def add_mention(
        self,
        text: str,
        *,
        author_id: str,
        username: str,
        tweet_id: str | None = None,
        conversation_id: str | None = None,
        referenced: list[dict[str, str]] | None = None,
    ) -> str:
        """Put a tweet on the account's mentions timeline; returns its id."""
        tweet_id = tweet_id or self.next_id()
        tweet: dict[str, Any] = {
            "edit_history_tweet_ids": [tweet_id],
            "id": tweet_id,
            "text": text,
            "author_id": author_id,
            "conversation_id": conversation_id or tweet_id,
        }
        if referenced:
            tweet["referenced_tweets"] = referenced
        self.mentions.append(tweet)
        self.users.setdefault(author_id, {"id": author_id, "username": username, "name": username.title()})
        return tweet_id

    def load_recorded_mentions(self, name: str = "test_asyncclient_get_users_mentions.json") -> list[str]:
        """Put a recorded mentions page on the timeline (with author and conversation added)."""
        ids = []
        for index, tweet in enumerate(recorded(name)[0]["body"]["data"]):
            author = str(700_000_000 + index)
            ids.append(
                self.add_mention(
                    tweet["text"], author_id=author, username=f"customer{index}", tweet_id=tweet["id"]
                )
            )
        return ids

    def add_dm(self, text: str, *, sender_id: str, username: str) -> str:
        """Put a DM from ``sender_id`` to the account on the DM events list; returns its id."""
        event_id = self.next_id()
        pair = sorted((sender_id, self.account_id), key=int)
        self.dm_events.append(
            {
                "event_type": "MessageCreate",
                "id": event_id,
                "text": text,
                "sender_id": sender_id,
                "dm_conversation_id": "-".join(pair),
            }
        )
        self.users.setdefault(sender_id, {"id": sender_id, "username": username, "name": username.title()})
        return event_id

    def fail(self, route: str, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        """Answer the next request to ``route`` with this response instead."""
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.faults.setdefault(route, deque()).append(Fault(status, raw, headers or {}))

    def drop(self, route: str) -> None:
        """Close the connection on the next request to ``route``, after it arrived, without answering."""
        self.faults.setdefault(route, deque()).append(Fault(0, b""))

    def fail_rate_limited(self, route: str, reset_in: int) -> int:
        """Queue a 429 whose ``x-rate-limit-reset`` is ``reset_in`` seconds away; returns that time."""
        reset = int(time.time()) + reset_in
        body = {
            "title": "Too Many Requests",
            "detail": "Too Many Requests",
            "type": "about:blank",
            "status": 429,
        }
        self.fail(route, 429, body, {"x-rate-limit-remaining": "0", "x-rate-limit-reset": str(reset)})
        return reset

    def count(self, method: str, path: str) -> int:
        """How many requests were made to ``method path``."""
        return sum(1 for m, p, _ in self.requests if m == method and p == path)

    # ---- HTTP -------------------------------------------------------------------------------
    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.requests.append((request.method, request.path, dict(request.query)))
        if f'oauth_consumer_key="{self.consumer_key}"' not in request.headers.get("Authorization", ""):
            return self._json(401, {"title": "Unauthorized", "status": 401, "detail": "Unauthorized"})
        route = self._route(request)
        queued = self.faults.get(route)
        if queued:
            fault = queued.popleft()
            if fault.status == 0:  # the connection drops after the request arrived
                assert request.transport is not None
                request.transport.close()
                return web.Response(status=500)
            return web.Response(
                status=fault.status,
                body=fault.body,
                headers={"content-type": "application/json", **fault.headers},
            )
        if route == "me":
            return self._json(200, recorded("test_asyncclient_get_me.json")[0]["body"])
        if route == "mentions":
            return self._json(200, self._mentions(request.query))
        if route == "create_tweet":
            return self._json(self._tweet_template["status"], self._create_tweet(await request.json()))
        if route == "dm_events":
            return self._json(200, self._dm_page(request.query))
        if route == "send_dm":
            conversation = request.path.split("/")[3]
            self.dms_sent.append((conversation, await request.json()))
            body = json.loads(json.dumps(self._dm_template["body"]))
            body["data"].update(dm_conversation_id=conversation, dm_event_id=self.next_id())
            return self._json(self._dm_template["status"], body)
        return self._json(404, {"title": "Not Found Error", "status": 404, "detail": request.path})

    def _route(self, request: web.Request) -> str:
        path = request.path
        if path == "/2/users/me":
            return "me"
        if path == f"/2/users/{self.account_id}/mentions":
            return "mentions"
        if path == "/2/tweets" and request.method == "POST":
            return "create_tweet"
        if path == "/2/dm_events":
            return "dm_events"
        if (
            path.startswith("/2/dm_conversations/")
            and path.endswith("/messages")
            and request.method == "POST"
        ):
            return "send_dm"
        return "unknown"

    def _json(self, status: int, body: Any) -> web.Response:
        headers = {}
        if self.rate_remaining is not None:
            headers["x-rate-limit-remaining"] = str(self.rate_remaining)
        if self.rate_reset is not None:
            headers["x-rate-limit-reset"] = str(self.rate_reset)
        return web.Response(
            status=status, text=json.dumps(body), content_type="application/json", headers=headers
        )

    def _page(self, items: list[dict[str, Any]], query: Any, users_of: str) -> dict[str, Any]:
        size = int(query.get("max_results", "10"))
        start = int(query.get("pagination_token") or 0)
        page = items[start : start + size]
        if not page:
            return {"meta": {"result_count": 0}}
        meta: dict[str, Any] = {
            "result_count": len(page),
            "newest_id": page[0]["id"],
            "oldest_id": page[-1]["id"],
        }
        if start + size < len(items):
            meta["next_token"] = str(start + size)
        authors = {item[users_of] for item in page}
        users = [self.users[a] for a in sorted(authors) if a in self.users]
        return {"data": page, "includes": {"users": users}, "meta": meta}

    def _mentions(self, query: Any) -> dict[str, Any]:
        since = int(query.get("since_id") or 0)
        newest_first = sorted((t for t in self.mentions if int(t["id"]) > since), key=lambda t: -int(t["id"]))
        return self._page(newest_first, query, "author_id")

    def _dm_page(self, query: Any) -> dict[str, Any]:
        return self._page(sorted(self.dm_events, key=lambda e: -int(e["id"])), query, "sender_id")

    def _create_tweet(self, body: dict[str, Any]) -> dict[str, Any]:
        tweet_id = self.next_id()
        self.posted.append({"id": tweet_id, **body})
        answer: dict[str, Any] = json.loads(json.dumps(self._tweet_template["body"]))
        answer["data"].update(id=tweet_id, text=body.get("text", ""))
        return answer

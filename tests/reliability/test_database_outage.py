"""The database goes away for 30 seconds while customers write: refused clearly, then nothing lost.

Helpline (a real ``helpline run``, basic engine, signed webhook channel) reaches PostgreSQL
through a TCP proxy. The proxy is cut, as if the server had died: open connections are reset,
new ones refused. Meanwhile customers keep writing and send again what was refused; one
reply is in flight to the integrator (it holds it until the database is gone, so its
outcome cannot be recorded) and two more wait in the outbox. During the outage every inbound message gets ``503``
with ``{"error": {"code": "unavailable"}}``, a message that says to send it again and a
``Retry-After``, and ``/healthz`` says ``degraded``; the process keeps running. Once the
proxy is back, every message is stored once and answered once, the dispatcher delivers
again, and the reply in flight is sent again under the same idempotency key.

SQLite has no server to lose: the store is a file of the same process (and the tests run as
root, so a read-only directory does not stop writes). Its outage is another process holding
the write lock: there, messages wait for the lock and are stored when it is released.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from conversations.database import Database
from tests.e2e.test_crash_recovery import FakePlatform
from tests.reliability.conftest import serving_platform, webhook_env
from tests.reliability.customers import Customers, check_once, stored
from tests.reliability.processes import Launcher, Life
from tests.reliability.tcp_proxy import TcpProxy

OUTAGE_SECONDS = float(os.environ.get("HELPLINE_TEST_OUTAGE_SECONDS", "30"))
CUSTOMERS = 10
IN_FLIGHT = 3

pytestmark = pytest.mark.slow


class GatedPlatform(FakePlatform):
    """A fake integrator that holds deliveries while ``gate`` is closed."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()
        self.gate.set()
        self.held = 0
        self.app.router.routes[:] = [Route("/deliver", self._gated, methods=["POST"])]

    async def _gated(self, request: Request) -> Response:
        await request.body()  # read before waiting: the reply is "in flight" once it is received
        self.held += 1
        await self.gate.wait()
        return await self.deliver(request)


async def until(condition: object, what: str, life: Life, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not within {timeout}s:\n{life.tail()}")
        await asyncio.sleep(0.05)


async def keep_sending(
    client: httpx.AsyncClient,
    life: Life,
    customers: Customers,
    conversation: int,
    refusals: list[httpx.Response],
) -> None:
    """One customer's message, sent again after each refusal as the answer asks."""
    while True:
        response = await customers.send(client, life.url, conversation)
        if response.status_code == 202:
            return
        refusals.append(response)
        assert response.status_code == 503, response.text
        await asyncio.sleep(float(response.headers.get("retry-after", "1")))


async def drained(db: Database, platform: FakePlatform, customers: Customers, life: Life) -> None:
    async def done() -> bool:
        store = await stored(db)
        return store.outbox.keys() <= {"sent"} and len(platform.accepted) >= len(customers.accepted)

    deadline = time.monotonic() + 30
    while not await done():
        if time.monotonic() > deadline:
            raise AssertionError(f"the outbox was not drained: {await stored(db)}:\n{life.tail()}")
        await asyncio.sleep(0.05)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_postgresql_unreachable_for_30s_refuses_clearly_then_loses_nothing(
    database_url: str, db: Database, launcher: Launcher, tmp_path: Path
) -> None:
    url = make_url(database_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    platform = GatedPlatform()
    customers = Customers(CUSTOMERS + IN_FLIGHT)
    refusals: list[httpx.Response] = []
    async with proxy, serving_platform(platform), httpx.AsyncClient(timeout=10) as client:
        life = await launcher.start(
            webhook_env(proxied, platform, tmp_path / "data"), tmp_path / "helpline.log"
        )
        assert await life.ready(), life.tail()

        # A reply reaches the integrator, which answers only once the database is gone; two
        # more wait in the outbox behind it.
        platform.gate.clear()
        assert (await customers.send(client, life.url, 0)).status_code == 202
        await until(lambda: platform.held == 1, "a delivery in flight", life)
        for conversation in range(1, IN_FLIGHT):
            assert (await customers.send(client, life.url, conversation)).status_code == 202

        await proxy.cut()
        cut_at = time.monotonic()
        platform.gate.set()
        health = await client.get(f"{life.url}/healthz")
        assert health.status_code == 503, health.text
        assert health.json()["status"] == "degraded"
        assert health.json()["database"].startswith("unavailable")
        writing = [
            asyncio.create_task(keep_sending(client, life, customers, conversation, refusals))
            for conversation in range(IN_FLIGHT, IN_FLIGHT + CUSTOMERS)
        ]
        await asyncio.sleep(OUTAGE_SECONDS - (time.monotonic() - cut_at))  # the outage lasts this long
        assert not any(task.done() for task in writing), "a message was accepted without a database"
        health = await client.get(f"{life.url}/healthz")
        assert health.status_code == 503 and health.json()["status"] == "degraded"
        assert life.alive
        await proxy.restore()

        await asyncio.wait_for(asyncio.gather(*writing), 30)
        health = await client.get(f"{life.url}/healthz")
        assert health.status_code == 200 and health.json()["status"] == "ok", health.text
        # Each customer writes once more, now that the store is back.
        for conversation in range(IN_FLIGHT + CUSTOMERS):
            assert (await customers.send(client, life.url, conversation)).status_code == 202
        await drained(db, platform, customers, life)
        assert await life.stop() == 0, life.tail()

    assert len(refusals) >= CUSTOMERS
    for response in refusals:
        assert response.json()["error"]["code"] == "unavailable"
        assert "send it again" in response.json()["error"]["message"]
        assert int(response.headers["retry-after"]) >= 1
    check_once(customers, await stored(db), platform)
    # The reply in flight at the cut was delivered, not recorded, and sent again with the same key.
    assert len(platform.attempts) == len(platform.accepted) + 1
    assert proxy.connections > 1  # the pool reconnected after the outage


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_sqlite_locked_by_another_process_holds_messages_then_stores_them_once(
    database_url: str, db: Database, platform: FakePlatform, launcher: Launcher, tmp_path: Path
) -> None:
    customers = Customers(CUSTOMERS)
    life = await launcher.start(
        webhook_env(database_url, platform, tmp_path / "data"), tmp_path / "helpline.log"
    )
    assert await life.ready(), life.tail()
    locked, release = threading.Event(), threading.Event()

    def hold_write_lock() -> None:
        # A backup tool or the sqlite3 shell in a write transaction: every other writer waits.
        connection = sqlite3.connect(make_url(database_url).database or "", isolation_level=None, timeout=10)
        try:
            connection.execute("BEGIN IMMEDIATE")
            locked.set()
            release.wait(30)
            connection.execute("COMMIT")
        finally:
            connection.close()

    holder = asyncio.create_task(asyncio.to_thread(hold_write_lock))
    async with httpx.AsyncClient(timeout=60) as client:
        await asyncio.to_thread(locked.wait, 10)
        writing = [
            asyncio.create_task(keep_sending(client, life, customers, conversation, []))
            for conversation in range(CUSTOMERS)
        ]
        done, _ = await asyncio.wait(writing, timeout=2)
        assert not done, "stored while another process held the write lock"
        health = await client.get(f"{life.url}/healthz")
        assert health.status_code == 200, health.text  # readers go on beside the writer (WAL)
        release.set()
        await holder
        await asyncio.wait_for(asyncio.gather(*writing), 30)
        await drained(db, platform, customers, life)
        assert customers.statuses == {202: CUSTOMERS}  # held, not refused
        assert await life.stop() == 0, life.tail()
    check_once(customers, await stored(db), platform)

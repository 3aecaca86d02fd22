"""The PostgreSQL connection pool: a fixed set of connections, checked only after sitting idle."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from conversations.database import Database
from conversations.errors import StoreUnavailable


async def backend_pids(db: Database) -> set[int]:
    """The server processes behind the pool's open connections (each checked out once)."""
    async with db.reader() as session:
        me = int(await session.scalar(text("SELECT pg_backend_pid()")) or 0)
        others = await session.scalars(
            text(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND application_name = '' AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
            )
        )
        return {me, *(int(pid) for pid in others)}


async def terminate(url: str, pids: set[int]) -> None:
    """Kill server processes, as a restart or a proxy's idle timeout would."""
    admin = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        for pid in pids:
            await admin.execute("SELECT pg_terminate_backend($1)", pid)
    finally:
        await admin.close()


async def one(db: Database) -> int:
    async with db.reader() as session:
        return int(await session.scalar(text("SELECT 1")) or 0)


async def test_a_connection_lost_while_idle_is_replaced_without_failing_anyone(postgres_url: str) -> None:
    db = Database(postgres_url, pool_size=2, ping_after=0.2)
    try:
        pids = await backend_pids(db)
        await terminate(postgres_url, pids)
        await asyncio.sleep(0.3)  # idle past ``ping_after``: checked before use
        assert await one(db) == 1
        assert not pids & await backend_pids(db)
    finally:
        await db.dispose()


async def test_a_busy_connection_is_not_checked_and_a_loss_fails_one_request_clearly(
    postgres_url: str,
) -> None:
    db = Database(postgres_url, pool_size=1, ping_after=3600)
    try:
        pids = await backend_pids(db)
        await terminate(postgres_url, pids)
        # Not pinged (it was used a moment ago): this request finds the connection dead.
        with pytest.raises(StoreUnavailable, match="unreachable"):
            await one(db)
        # The pool dropped it: the next request gets a new connection.
        assert await one(db) == 1
    finally:
        await db.dispose()


async def test_more_concurrent_work_than_connections_waits_for_one(postgres_url: str) -> None:
    db = Database(postgres_url, pool_size=2)
    try:

        async def slow() -> int:
            async with db.reader() as session:
                return int(await session.scalar(text("SELECT 1 FROM pg_sleep(0.05)")) or 0)

        assert await asyncio.gather(*(slow() for _ in range(20))) == [1] * 20
        # Never more than the pool's two connections: nothing opened and closed per burst.
        assert len(await backend_pids(db)) <= 2
    finally:
        await db.dispose()


async def test_single_reads_run_outside_a_transaction(postgres_url: str) -> None:
    db = Database(postgres_url, pool_size=1)
    # Each statement its own transaction (no BEGIN / ROLLBACK round trips), unlike a reader's.
    own_transaction = text(
        "SELECT clock_timestamp() - xact_start < interval '100 ms' FROM pg_stat_activity WHERE pid = pg_backend_pid()"
    )
    try:
        async with db.single_reads() as connection:
            await connection.execute(text("SELECT pg_sleep(0.2)"))
            assert (await connection.execute(own_transaction)).scalar() is True
        async with db.reader() as session:
            await session.execute(text("SELECT pg_sleep(0.2)"))
            assert await session.scalar(own_transaction) is False
        # The pooled connection went back to transactions for everyone else.
        async with db.single_reads() as connection:
            assert (await connection.execute(text("SELECT 1"))).scalar() == 1
    finally:
        await db.dispose()


async def test_a_query_cancelled_mid_flight_stays_a_cancellation(postgres_url: str) -> None:
    # The driver reports the cancelled connection as broken; were the cancellation turned
    # into a lost connection, a retrying loop would swallow it and never stop (at shutdown).
    db = Database(postgres_url, pool_size=1)
    try:

        async def slow_read() -> None:
            async with db.reader() as session:
                await session.execute(text("SELECT pg_sleep(5)"))

        task = asyncio.create_task(slow_read())
        await asyncio.sleep(0.3)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert await one(db) == 1  # the pool recovered its connection
    finally:
        await db.dispose()


async def driver_one(db: Database) -> int:
    return int(await db.run_on_driver(lambda driver: driver.fetchval("SELECT 1")))


async def test_on_the_bare_driver_a_lost_connection_fails_one_request_clearly_and_is_replaced(
    postgres_url: str,
) -> None:
    db = Database(postgres_url, pool_size=1, ping_after=3600)
    try:
        assert await driver_one(db) == 1
        await terminate(postgres_url, await backend_pids(db))
        with pytest.raises(StoreUnavailable, match="unreachable"):
            await driver_one(db)
        assert await driver_one(db) == 1
        assert await one(db) == 1  # the same pool serves SQLAlchemy's requests
    finally:
        await db.dispose()


async def test_on_the_bare_driver_a_cancellation_stays_one_and_a_server_error_keeps_the_connection(
    postgres_url: str,
) -> None:
    db = Database(postgres_url, pool_size=1)
    try:
        task = asyncio.create_task(db.run_on_driver(lambda driver: driver.execute("SELECT pg_sleep(5)")))
        await asyncio.sleep(0.3)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert await driver_one(db) == 1  # the pool recovered a usable connection

        pid = await db.run_on_driver(lambda driver: driver.fetchval("SELECT pg_backend_pid()"))
        with pytest.raises(asyncpg.DivisionByZeroError):
            await db.run_on_driver(lambda driver: driver.fetchval("SELECT 1 / 0"))
        # A statement the server refused leaves the connection as it was: not replaced.
        assert await db.run_on_driver(lambda driver: driver.fetchval("SELECT pg_backend_pid()")) == pid
    finally:
        await db.dispose()


class StallingProxy:
    """A TCP relay to PostgreSQL whose open links can be made to stop passing data, as a stalled
    network does (nothing is closed or refused: packets just stop arriving). New links flow."""

    def __init__(self, target_port: int) -> None:
        self._target_port = target_port
        self._links: list[asyncio.Event] = []  # set: the link flows
        self.new_links_flow = True  # False: a new link is accepted, then carries nothing
        self._tasks: set[asyncio.Task[None]] = set()
        self._server: asyncio.Server | None = None

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        return int(self._server.sockets[0].getsockname()[1])

    def stall(self) -> None:
        for flowing in self._links:
            flowing.clear()

    def resume(self) -> None:
        for flowing in self._links:
            flowing.set()

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", self._target_port)
        flowing = asyncio.Event()
        if self.new_links_flow:
            flowing.set()
        self._links.append(flowing)
        for source, sink in ((reader, upstream_writer), (upstream_reader, writer)):
            task = asyncio.create_task(self._pipe(source, sink, flowing))
            self._tasks.add(task)

    @staticmethod
    async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter, flowing: asyncio.Event) -> None:
        try:
            while data := await source.read(65536):
                await flowing.wait()
                sink.write(data)
                await sink.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            sink.close()


@pytest.fixture
async def stalling(postgres_url: str) -> AsyncIterator[tuple[StallingProxy, str]]:
    url = make_url(postgres_url)
    proxy = StallingProxy(url.port or 5432)
    port = await proxy.start()
    yield proxy, url.set(host="127.0.0.1", port=port).render_as_string(hide_password=False)
    await proxy.close()


async def test_a_stalled_network_fails_a_request_clearly_in_bounded_time(
    stalling: tuple[StallingProxy, str],
) -> None:
    proxy, url = stalling
    db = Database(url, pool_size=1, command_timeout=0.5)
    try:
        assert await one(db) == 1
        proxy.stall()
        started = time.monotonic()
        with pytest.raises(
            StoreUnavailable, match=r"did not answer within 10 s to connect or 0\.5 s for a statement"
        ):
            await one(db)
        assert time.monotonic() - started < 5  # not the kernel's quarter of an hour
        proxy.resume()
        assert await one(db) == 1  # the pool serves again once the network does
    finally:
        await db.dispose()


async def test_on_the_bare_driver_a_stalled_connection_fails_clearly_and_is_replaced(
    stalling: tuple[StallingProxy, str],
) -> None:
    proxy, url = stalling
    db = Database(url, pool_size=1, command_timeout=0.5)
    try:
        before = await db.run_on_driver(lambda driver: driver.fetchval("SELECT pg_backend_pid()"))
        proxy.stall()  # for good: this link never carries another byte
        with pytest.raises(StoreUnavailable, match="did not answer"):
            await driver_one(db)
        after = await db.run_on_driver(lambda driver: driver.fetchval("SELECT pg_backend_pid()"))
        assert after != before  # a new connection, over a new (flowing) link
        assert await one(db) == 1
    finally:
        await db.dispose()


async def test_a_connection_that_cannot_be_opened_fails_a_request_clearly_in_bounded_time(
    stalling: tuple[StallingProxy, str],
) -> None:
    # The host takes the connection and then never answers (packets dropped on the way):
    # asyncpg alone would wait a minute, with every request of the process queued behind it.
    proxy, url = stalling
    proxy.new_links_flow = False
    db = Database(url, pool_size=1, command_timeout=None, connect_timeout=0.5)
    try:
        started = time.monotonic()
        with pytest.raises(StoreUnavailable, match=r"did not answer within 0\.5 s to connect;"):
            await one(db)
        with pytest.raises(StoreUnavailable, match="connect_timeout_seconds"):
            await driver_one(db)
        assert time.monotonic() - started < 5
        proxy.new_links_flow = True
        assert await one(db) == 1  # a host that answers again is used again
    finally:
        await db.dispose()

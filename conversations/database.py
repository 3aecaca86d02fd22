"""Connections to the store: SQLite (embedded default) or PostgreSQL (production).

:class:`Database` owns the engine and hands out sessions. SQLite allows one writer at a
time, so in-process write transactions take a lock instead of failing with
``database is locked``; PostgreSQL runs them concurrently.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import orjson
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine, ExceptionContext, make_url
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import NullPool

from conversations.errors import StoreUnavailable

T = TypeVar("T")
# What a lost or refused connection surfaces as, from the drivers or from SQLAlchemy
# (PoolTimeout: every pooled connection stayed busy for the pool's whole timeout).
UNAVAILABLE = (OSError, ConnectionError, OperationalError, InterfaceError, PoolTimeout, DisconnectionError)
# The same, as the bare asyncpg driver raises it (no SQLAlchemy wrapper in between).
DRIVER_LOST = (
    OSError,
    ConnectionError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    asyncpg.exceptions.OperatorInterventionError,  # the server shutting down, or killing the backend
)


class Database:
    """An async engine, a session factory and the write discipline the backend needs.

    Args:
        url: SQLAlchemy URL, e.g. ``sqlite+aiosqlite:///var/helpline.db`` or
            ``postgresql+asyncpg://postgres@127.0.0.1:5432/helpline``.
        pool_size: The most connections open at once (PostgreSQL); once made they stay open.
        echo: Log every statement.
        ping_after: A pooled connection idle for longer than this many seconds is checked
            before use (PostgreSQL), so one dropped while idle (a restart, a proxy timeout)
            is replaced instead of failing a request.
        command_timeout: Seconds a PostgreSQL statement may take before the request fails
            with :class:`StoreUnavailable` and its connection is replaced (``None``: no limit).
        connect_timeout: Seconds opening a PostgreSQL connection may take before the request
            fails with :class:`StoreUnavailable`.

    """

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 20,
        echo: bool = False,
        ping_after: float = 2.0,
        command_timeout: float | None = 60.0,
        connect_timeout: float = 10.0,
    ) -> None:
        parsed = make_url(url)
        self.url = url
        self.command_timeout = command_timeout
        self.connect_timeout = connect_timeout
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        kwargs: dict[str, Any] = {
            "echo": echo,
            "json_serializer": _json_dumps,
            "json_deserializer": orjson.loads,
        }
        if self.is_sqlite:
            database = parsed.database or ""
            if database and database != ":memory:":
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            kwargs["connect_args"] = {"timeout": 30}
        else:
            # No overflow: connections beyond the pool would be opened and closed for every
            # burst (a server process forked each time), which cost more than waiting for one.
            kwargs.update(pool_size=pool_size, max_overflow=0)
            # Without them a stalled network holds a request (and its connection) for the
            # kernel's TCP timeout, a quarter of an hour, or asyncpg's minute to connect.
            kwargs["connect_args"] = {"timeout": connect_timeout}
            if command_timeout:
                kwargs["connect_args"]["command_timeout"] = command_timeout
        # Only the driver's own timeouts mean the store stalled; any other stays what it is.
        stalled: tuple[type[Exception], ...] = () if self.is_sqlite else (TimeoutError,)
        self._unreachable: tuple[type[BaseException], ...] = (*UNAVAILABLE, *stalled)
        self._driver_unreachable: tuple[type[BaseException], ...] = (*UNAVAILABLE, *DRIVER_LOST, *stalled)
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        self._engine_options = {
            k: kwargs[k]
            for k in ("echo", "json_serializer", "json_deserializer", "connect_args")
            if k in kwargs
        }
        self._dedicated: AsyncEngine | None = None
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        else:
            # Instead of SQLAlchemy's pre-ping, which costs three round trips on every checkout
            # (BEGIN, an empty query, ROLLBACK): a busy connection is known to be alive.
            pool = self.engine.sync_engine.pool
            event.listen(pool, "checkin", _note_checkin)
            event.listen(pool, "checkout", functools.partial(_ping_if_idle, ping_after))
            event.listen(self.engine.sync_engine, "handle_error", _lost_connection)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._autocommit = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        self._write_lock: asyncio.Lock | None = asyncio.Lock() if self.is_sqlite else None
        self._sync_engine: Engine | None = None
        self._writer_thread: ThreadPoolExecutor | None = None
        if self.is_sqlite:
            # aiosqlite hops to its thread for every statement; a batch of writes runs
            # faster as one hop to a writer thread with the plain sqlite3 driver.
            sync_url = parsed.set(drivername="sqlite")
            self._sync_engine = create_engine(
                sync_url,
                json_serializer=_json_dumps,
                json_deserializer=orjson.loads,
                connect_args={"timeout": 30, "check_same_thread": False},
            )
            event.listen(self._sync_engine, "connect", _sqlite_pragmas)
            self._writer_thread = ThreadPoolExecutor(1, thread_name_prefix="sqlite-writer")

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """Open a session in a transaction, committed on success, rolled back on error.

        Raises:
            StoreUnavailable: The database cannot be reached.

        """
        lock = self._write_lock if self._write_lock is not None else contextlib.nullcontext()
        async with lock:
            try:
                async with self.sessions() as session, session.begin():
                    yield session
            except self._unreachable as exc:
                raise self._unavailable(exc) from exc

    async def run_write(self, work: Callable[[Connection], T]) -> T:
        """Run ``work`` (synchronous SQLAlchemy Core code) in one transaction and return its result.

        On PostgreSQL it runs on the async engine through ``run_sync``; on SQLite in the
        writer thread, holding the write lock.

        Raises:
            StoreUnavailable: The database cannot be reached.

        """
        try:
            if self._sync_engine is None or self._writer_thread is None:
                async with self.engine.begin() as connection:
                    return await connection.run_sync(work)
            assert self._write_lock is not None
            async with self._write_lock:
                loop = asyncio.get_running_loop()
                return await loop.run_in_executor(self._writer_thread, self._write_sync, work)
        except self._unreachable as exc:
            raise self._unavailable(exc) from exc

    async def run_unwrapped(self, work: Callable[[Connection], T]) -> T:
        """Run ``work`` whose statements each stand alone: on PostgreSQL each commits by itself.

        For work that is one statement, or whose statements are each safe to keep if a later
        one never runs: it saves the ``BEGIN`` and ``COMMIT`` round trips. On SQLite it is
        :meth:`run_write`.

        Raises:
            StoreUnavailable: The database cannot be reached.

        """
        if self.is_sqlite:
            return await self.run_write(work)
        try:
            async with self._autocommit.connect() as connection:
                return await connection.run_sync(work)
        except self._unreachable as exc:
            raise self._unavailable(exc) from exc

    async def run_on_driver(self, work: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
        """Run ``work`` on a pooled connection's bare asyncpg driver, outside any transaction.

        PostgreSQL only, for the hottest statements: SQLAlchemy's cost per statement
        (compiling, parameter and result processing, the greenlet hop) is several times
        the driver's. Each statement commits on its own, so ``work`` should be one
        statement (or statements each safe to keep alone). The connection comes from the
        same pool as every other, checked the same way when it sat idle.

        Raises:
            StoreUnavailable: The database cannot be reached (the connection is discarded).

        """
        assert not self.is_sqlite, "the asyncpg driver is PostgreSQL's"
        try:
            async with self._autocommit.connect() as connection:
                raw = await connection.get_raw_connection()
                try:
                    return await work(raw.driver_connection)
                except BaseException as exc:
                    # A server error (a constraint, bad data) leaves the connection usable;
                    # anything else (lost, cancelled mid-statement) may not: replace it.
                    if not isinstance(exc, asyncpg.PostgresError) or isinstance(exc, DRIVER_LOST):
                        with contextlib.suppress(Exception):
                            await connection.invalidate()
                    raise
        except self._driver_unreachable as exc:
            raise self._unavailable(exc) from exc

    def _write_sync(self, work: Callable[[Connection], T]) -> T:
        assert self._sync_engine is not None
        with self._sync_engine.begin() as connection:
            return work(connection)

    async def connect_dedicated(self) -> AsyncConnection:
        """A connection of its own, outside the pool, for a holder that keeps it for hours (a lease).

        Held pool connections would shrink the pool the pipeline works with (it has no
        overflow): with a pool of one, a single lease would stall every request. Closing
        the returned connection closes it for good.

        Raises:
            StoreUnavailable: The database cannot be reached.

        """
        if self._dedicated is None:
            self._dedicated = create_async_engine(self.url, poolclass=NullPool, **self._engine_options)
            if not self.is_sqlite:
                event.listen(self._dedicated.sync_engine, "handle_error", _lost_connection)
        try:
            return await self._dedicated.connect()
        except self._unreachable as exc:
            raise self._unavailable(exc) from exc

    @contextlib.asynccontextmanager
    async def single_writes(self) -> AsyncIterator[AsyncConnection]:
        """A connection for writes that are one statement each (a claim that leases rows).

        On PostgreSQL each statement commits on its own, saving the ``BEGIN`` and ``COMMIT``
        round trips of :meth:`transaction`; on SQLite it is a transaction holding the write lock.

        Raises:
            StoreUnavailable: The database cannot be reached.

        """
        try:
            if self._write_lock is None:
                async with self._autocommit.connect() as connection:
                    yield connection
            else:
                async with self._write_lock, self.engine.begin() as connection:
                    yield connection
        except self._unreachable as exc:
            raise self._unavailable(exc) from exc

    @contextlib.asynccontextmanager
    async def single_reads(self) -> AsyncIterator[AsyncConnection]:
        """A connection outside any transaction, for reads that are one statement each.

        On PostgreSQL this saves the ``BEGIN`` and ``ROLLBACK`` round trips of :meth:`reader`;
        each statement still sees one snapshot. On SQLite it is an ordinary read.

        Raises:
            StoreUnavailable: The database cannot be reached.

        """
        engine = self.engine if self.is_sqlite else self._autocommit
        try:
            async with engine.connect() as connection:
                yield connection
        except self._unreachable as exc:
            raise self._unavailable(exc) from exc

    @contextlib.asynccontextmanager
    async def reader(self) -> AsyncIterator[AsyncSession]:
        """Open a session for reads only (no write lock; SQLite readers run beside the writer in WAL).

        Raises:
            StoreUnavailable: The database cannot be reached.

        """
        try:
            async with self.sessions() as session:
                yield session
        except self._unreachable as exc:
            raise self._unavailable(exc) from exc

    def _unavailable(self, exc: BaseException) -> StoreUnavailable:
        if isinstance(exc, TimeoutError) and not self.is_sqlite:
            # One of the driver's timeouts: the server, or the network to it, stalled.
            within = f"{self.connect_timeout:g} s to connect" + (
                f" or {self.command_timeout:g} s for a statement" if self.command_timeout else ""
            )
            return StoreUnavailable(
                f"the database at {self.safe_url} did not answer within {within}; check that it is "
                "up and the network to it, or raise database.connect_timeout_seconds or "
                "database.command_timeout_seconds"
            )
        return StoreUnavailable(f"the database at {self.safe_url} is unreachable: {exc}")

    @property
    def safe_url(self) -> str:
        """The URL with any password hidden, for messages and logs."""
        return safe_database_url(self.url)

    async def checkpoint(self) -> None:
        """Copy SQLite's write-ahead log into the database file, beside the writer (no-op on PostgreSQL).

        A passive checkpoint never blocks writers or readers; it does what it can now and
        the next call continues. Run it often (every second) so the log stays small.
        """
        if self._sync_engine is None:
            return
        await asyncio.to_thread(self._checkpoint_sync)

    def _checkpoint_sync(self) -> None:
        assert self._sync_engine is not None
        with self._sync_engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")

    async def dispose(self) -> None:
        """Close every pooled connection (a dedicated one closes when its holder closes it)."""
        await self.engine.dispose()
        if self._dedicated is not None:
            await self._dedicated.dispose()
        if self._sync_engine is not None and self._writer_thread is not None:
            await asyncio.get_running_loop().run_in_executor(self._writer_thread, self._sync_engine.dispose)
            self._writer_thread.shutdown(wait=True)


def safe_database_url(url: str) -> str:
    """``url`` with any password hidden, for messages and logs."""
    return make_url(url).render_as_string(hide_password=True)


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the web chat's readers run beside the single writer; NORMAL sync is
    # durable across process crashes (the SIGKILL case), which is what we promise.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    # Checkpoints (copying the WAL into the database file, with an fsync) would otherwise
    # run inside whichever commit crosses the threshold and stall every waiting turn;
    # Database.checkpoint runs them beside the writer instead.
    cursor.execute("PRAGMA wal_autocheckpoint=0")
    cursor.close()


def _note_checkin(dbapi_connection: Any, record: Any) -> None:
    record.info["checked_in_at"] = time.monotonic()


def _ping_if_idle(ping_after: float, dbapi_connection: Any, record: Any, proxy: Any) -> None:
    """Check a connection that sat idle; the pool replaces one that fails (up to three tries)."""
    returned = record.info.get("checked_in_at")
    if returned is not None and time.monotonic() - returned < ping_after:
        return
    try:
        dbapi_connection.ping()
    except Exception as exc:  # whatever the driver raises, the connection is unusable
        raise DisconnectionError(f"pooled connection lost: {exc}") from exc


def _lost_connection(context: ExceptionContext) -> None:
    """Report a connection the server dropped as lost, whatever error the driver made of it.

    asyncpg turns a connection terminated while idle into an ``InternalClientError`` on its
    next use; SQLAlchemy already sees the closed connection and drops it from the pool.
    """
    # A cancelled task (shutdown, a timeout) also leaves the connection unusable, yet it must
    # stay a cancellation: made a lost connection, it would be retried by the caller forever.
    # (SQLAlchemy wraps only the driver's own errors: a cancellation has no wrapper.)
    wrapped = context.sqlalchemy_exception
    if wrapped is None:
        return
    if context.is_disconnect and not isinstance(wrapped, UNAVAILABLE):
        raise DisconnectionError(f"the connection was lost: {context.original_exception}")

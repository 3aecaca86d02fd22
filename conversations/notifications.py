"""Wake-ups between processes through PostgreSQL ``LISTEN`` / ``NOTIFY``.

A web chat long poll waits in the process that received it; the reply it waits for may be
sent by a dispatcher in another process. That process publishes the session on a topic and
every process listening wakes its own waiters. On SQLite (one process) publishing is a
no-op: the sender's in-process wake-up is enough.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import asyncpg
from sqlalchemy import text

from conversations.database import Database

log = logging.getLogger(__name__)


class Notifications:
    """Publish and receive short payloads on one topic.

    Args:
        db: The store (PostgreSQL carries the notifications; SQLite needs none).
        topic: The channel name, e.g. ``"helpline_webchat"``.

    """

    def __init__(self, db: Database, topic: str) -> None:
        self._db = db
        self._topic = topic
        self._task: asyncio.Task[None] | None = None
        self.listening = asyncio.Event()

    @property
    def shared(self) -> bool:
        """Whether notifications reach other processes (PostgreSQL)."""
        return not self._db.is_sqlite

    async def publish(self, payload: str) -> None:
        """Tell every listening process; a failure is logged, never raised (the poll times out)."""
        if not self.shared:
            return
        try:
            # One statement outside any transaction: the notification goes out at once.
            async with self._db.single_writes() as connection:
                await connection.execute(
                    text("SELECT pg_notify(:topic, :payload)"), {"topic": self._topic, "payload": payload}
                )
        except Exception as exc:  # a lost wake-up costs latency, not a message
            log.warning("could not publish on %s: %s", self._topic, exc)

    def start(self, on_message: Callable[[str], None]) -> None:
        """Listen in the background, reconnecting after a lost connection."""
        if self.shared and self._task is None:
            self._task = asyncio.create_task(self._listen(on_message), name=f"listen-{self._topic}")

    async def stop(self) -> None:
        """Stop listening."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _listen(self, on_message: Callable[[str], None]) -> None:
        dsn = self._db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        failures = 0
        while True:
            try:
                connection = await asyncpg.connect(dsn)
            except (OSError, asyncpg.PostgresError) as exc:
                failures += 1
                delay = min(30.0, 0.5 * 2**failures)
                log.warning("cannot listen on %s (%s); retrying in %.0fs", self._topic, exc, delay)
                await asyncio.sleep(delay)
                continue
            failures = 0
            await self._serve(connection, on_message)
            log.warning("lost the %s listener connection; reconnecting", self._topic)

    async def _serve(self, connection: asyncpg.Connection, on_message: Callable[[str], None]) -> None:
        lost = asyncio.Event()
        connection.add_termination_listener(lambda _conn: lost.set())
        try:
            await connection.add_listener(self._topic, lambda _c, _pid, _topic, payload: on_message(payload))
            self.listening.set()
            await lost.wait()
        finally:
            self.listening.clear()
            with contextlib.suppress(Exception):
                await connection.close()

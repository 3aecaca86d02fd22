"""Leadership leases: exactly one process runs each single-instance poller.

On PostgreSQL a lease is a session-level advisory lock held on a dedicated connection
(outside the pool, which it would otherwise shrink for as long as it is held):
the database releases it the moment that connection dies (a killed process, a lost
network), so a standby acquires it on its next attempt. SQLite is one process by
construction: its lease is always granted.
"""

from __future__ import annotations

import hashlib
import logging

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from conversations.database import Database

log = logging.getLogger(__name__)


def lock_key(name: str) -> int:
    """A stable signed 64-bit advisory-lock key for a lease name."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True)


class Lease:
    """One named lease.

    Args:
        db: The store.
        name: What it guards, e.g. ``"intake:telegram"``; every process uses the same name.

    """

    def __init__(self, db: Database, name: str) -> None:
        self._db = db
        self.name = name
        self._key = lock_key(name)
        self._connection: AsyncConnection | None = None
        self._held = False

    @property
    def held(self) -> bool:
        """Whether this process holds the lease (as of the last check)."""
        return self._held

    async def try_acquire(self) -> bool:
        """Take the lease if nobody holds it; ``True`` if this process holds it now."""
        if self._held:
            return True
        if self._db.is_sqlite:
            self._held = True
            return True
        connection = await self._db.connect_dedicated()
        try:
            got = bool(await connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": self._key}))
            # Leave no transaction open on a connection kept for hours.
            await connection.commit()
        except Exception:
            await connection.close()
            raise
        if not got:
            await connection.close()
            return False
        self._connection, self._held = connection, True
        return True

    async def check(self) -> bool:
        """Confirm the lease is still ours (its connection is alive); ``False`` once lost."""
        if not self._held or self._connection is None:
            return self._held
        try:
            await self._connection.scalar(text("SELECT 1"))
            await self._connection.commit()
        except Exception as exc:  # the connection died: the database released the lock with it
            log.warning("lost the %s lease: %s", self.name, exc)
            await self._drop()
            return False
        return True

    async def release(self) -> None:
        """Give the lease up (graceful shutdown), so a standby takes over at once."""
        if self._connection is not None:
            try:
                await self._connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self._key})
                await self._connection.commit()
            except Exception:  # closing the connection releases it anyway
                log.debug("unlocking %s failed; closing its connection releases it", self.name)
        await self._drop()

    async def _drop(self) -> None:
        connection, self._connection, self._held = self._connection, None, False
        if connection is not None:
            try:
                await connection.close()
            except Exception:  # already broken
                await connection.invalidate()

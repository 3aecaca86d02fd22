"""Runs a single-instance duty (a poller) in whichever process holds its lease.

Every process that could run the duty keeps an :class:`Elected` loop: it tries the lease
every ``retry_seconds``; the holder starts the duty and re-checks the lease on the same
interval, stopping the duty if it is lost. When the holder dies, its database connection
closes, the lease is free, and a standby starts the duty within ``retry_seconds``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from conversations.leases import Lease

log = logging.getLogger(__name__)


class Elected:
    """Start and stop a duty as this process gains and loses its lease.

    Args:
        lease: The duty's lease.
        start: Begins the duty (returns once it runs in the background).
        stop: Ends it.
        retry_seconds: How often to try for the lease, and to re-check it once held.

    """

    def __init__(
        self,
        lease: Lease,
        start: Callable[[], Awaitable[None]],
        stop: Callable[[], Awaitable[None]],
        retry_seconds: float = 2.0,
    ) -> None:
        self._lease = lease
        self._start = start
        self._stop = stop
        self._retry = retry_seconds
        self._stopping = asyncio.Event()
        self.leading = asyncio.Event()

    def stop(self) -> None:
        """Leave :meth:`run`: stop the duty and release the lease."""
        self._stopping.set()

    async def run(self) -> None:
        """Contend for the lease until :meth:`stop`."""
        try:
            while not self._stopping.is_set():
                try:
                    await self._step()
                except Exception:  # a database hiccup: try again on the next round
                    log.exception("leadership of %s: check failed; retrying", self._lease.name)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), self._retry)
        finally:
            if self.leading.is_set():
                await self._resign()
            await self._lease.release()

    async def _step(self) -> None:
        if self.leading.is_set():
            if not await self._lease.check():
                log.warning("%s: lease lost, stopping the duty here", self._lease.name)
                await self._resign()
            return
        if await self._lease.try_acquire():
            log.info("%s: this process leads", self._lease.name)
            self.leading.set()
            try:
                await self._start()
            except Exception:
                await self._resign()
                await self._lease.release()
                raise

    async def _resign(self) -> None:
        self.leading.clear()
        try:
            await self._stop()
        except Exception:
            log.exception("%s: stopping the duty failed", self._lease.name)

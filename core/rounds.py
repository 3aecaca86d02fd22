"""A worker that runs rounds of work until stopped: the dispatcher and the job runner.

A round is claimed, done and recorded by the subclass (:meth:`Rounds.round`); this base
class owns the lifecycle: rounds follow each other while there is work, otherwise the loop
sleeps until :meth:`Rounds.wake` or the poll interval, and a failing round (the store down,
a bug) is logged and retried instead of ending the loop.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import logging

from conversations.errors import StoreUnavailable

log = logging.getLogger(__name__)


class Rounds(abc.ABC):
    """Run :meth:`round` until :meth:`stop`.

    Args:
        what: Names the work in log lines ("outbox", "jobs").
        poll_interval_seconds: How long to sleep when a round found nothing and nobody woke us.

    """

    def __init__(self, what: str, poll_interval_seconds: float) -> None:
        self._what = what
        self._poll_interval = poll_interval_seconds
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()

    @abc.abstractmethod
    async def round(self) -> int:
        """Do one round of work; return how much was done (0: nothing was due)."""

    def wake(self) -> None:
        """Run a round now (new work was committed)."""
        self._wake.set()

    def stop(self) -> None:
        """Finish the round in progress, then leave :meth:`run`."""
        self._stopping.set()
        self._wake.set()

    async def run(self) -> None:
        """Run rounds until :meth:`stop`."""
        while not self._stopping.is_set():
            # Clear before the round, not after: a wake-up during the round must not be lost.
            self._wake.clear()
            try:
                handled = await self.round()
            except StoreUnavailable as exc:
                log.warning("%s unavailable, retrying: %s", self._what, exc)
                handled = 0
            except Exception:  # the loop must outlive any one bad round
                log.exception("%s round failed; retrying", self._what)
                handled = 0
            if handled or self._stopping.is_set():
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._poll_interval)

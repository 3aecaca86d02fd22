"""Runs durable jobs when they are due: opening the tickets turns asked for, sending surveys.

Handlers receive the claimed job. A handler whose effect must happen exactly once marks
the job done in its own transaction (:func:`conversations.jobs.complete`) and is registered
with ``completes=True``; for the others the runner marks it done after the handler returns.
A handler that raises is retried with exponential backoff and, after ``max_attempts``, left
``failed`` with its error for the operators. A process that dies mid-job leaves its lease to
expire and the job runs again, so handlers must be safe to repeat.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from conversations import jobs
from conversations.database import Database
from core.pipeline import utcnow
from core.rounds import Rounds

log = logging.getLogger(__name__)

Handler = Callable[[jobs.ClaimedJob], Awaitable[None]]


class JobRunner(Rounds):
    """Claims due jobs and runs their handlers.

    Args:
        db: The store.
        lease_seconds: How long a claimed job is ours before another worker may take it.
        poll_interval_seconds: How often to look for due jobs when nobody wakes the runner.
        max_attempts: Attempts before a job is left failed.
        batch_size: Jobs claimed per round.
        clock: The current time (tests move it).

    """

    def __init__(
        self,
        db: Database,
        *,
        lease_seconds: float = 120,
        poll_interval_seconds: float = 1.0,
        max_attempts: int = 8,
        batch_size: int = 50,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        super().__init__("jobs", poll_interval_seconds)
        self._db = db
        self._handlers: dict[str, Handler] = {}
        self._self_completing: set[str] = set()
        self._lease = timedelta(seconds=lease_seconds)
        self._max_attempts = max_attempts
        self._batch = batch_size
        self._clock = clock

    def register(self, kind: str, handler: Handler, *, completes: bool = False) -> None:
        """Run ``handler`` for jobs of ``kind``.

        Args:
            kind: The job kind.
            handler: Runs one claimed job.
            completes: The handler marks the job done in its own transaction whenever it
                returns, so the runner need not (a transaction saved on every job).

        """
        self._handlers[kind] = handler
        if completes:
            self._self_completing.add(kind)
        else:
            self._self_completing.discard(kind)

    async def round(self) -> int:
        """One round of :meth:`run`."""
        return await self.run_once()

    async def run_once(self) -> int:
        """Claim and run one batch of due jobs; returns how many ran."""
        # One statement that leases the jobs: it needs no transaction around it.
        async with self._db.single_writes() as connection:
            claimed = await jobs.claim(
                connection, sorted(self._handlers), self._clock(), self._lease, self._batch
            )
        for job in claimed:
            if self._stopping.is_set():
                break  # the lease expires and another worker (or the next start) runs it
            await self._run(job)
        return len(claimed)

    async def _run(self, job: jobs.ClaimedJob) -> None:
        try:
            await self._handlers[job.kind](job)
        except Exception as exc:  # the per-job boundary: one bad job must not stop the rest
            error = f"{type(exc).__name__}: {exc}"
            async with self._db.transaction() as session:
                if job.attempts >= self._max_attempts:
                    log.error(
                        "giving up on job %s (%s) after %d attempts: %s",
                        job.id,
                        job.kind,
                        job.attempts,
                        error,
                    )
                    await jobs.fail(session, job.id, error)
                else:
                    delay = min(600.0, 2.0**job.attempts)
                    log.warning("job %s (%s) failed, retrying in %.0fs: %s", job.id, job.kind, delay, error)
                    await jobs.retry(session, job.id, self._clock() + timedelta(seconds=delay), error)
            return
        if job.kind in self._self_completing:
            return
        async with self._db.transaction() as session:
            await jobs.complete(session, job.id, self._clock())

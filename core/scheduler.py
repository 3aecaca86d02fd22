"""Periodic jobs on Helpline's event loop: each runs on its own interval, failures are contained.

Jobs keep their state in the database (a survey's due time, a ticket's SLA), never in
memory, so a restart loses nothing: the next run picks up whatever became due meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from conversations import outbox
from conversations.database import Database

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Job:
    """A named coroutine function run every ``every_seconds``."""

    name: str
    every_seconds: float
    run: Callable[[], Awaitable[None]]


class Scheduler:
    """Runs jobs until :meth:`stop`."""

    def __init__(self) -> None:
        self._jobs: list[Job] = []
        self._stopping = asyncio.Event()

    def add(self, job: Job) -> None:
        """Register a job (before :meth:`run`)."""
        self._jobs.append(job)

    def stop(self) -> None:
        """Let every job finish its current run, then return from :meth:`run`."""
        self._stopping.set()

    async def run(self) -> None:
        """Run every job on its interval until stopped."""
        async with asyncio.TaskGroup() as group:
            for job in self._jobs:
                group.create_task(self._loop(job))

    async def _loop(self, job: Job) -> None:
        while not self._stopping.is_set():
            try:
                await job.run()
            except Exception:  # one failing run must not stop the job or the others
                log.exception("scheduled job %s failed; it runs again in %.0fs", job.name, job.every_seconds)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), job.every_seconds)


def backlog_watchdog(db: Database, warn_after_seconds: float) -> Job:
    """A job that warns when replies wait in the outbox longer than ``warn_after_seconds``.

    A growing backlog means a channel is down or rate-limited: operators should know
    before customers complain.
    """

    async def check() -> None:
        async with db.reader() as session:
            backlog = await outbox.backlog(session)
        if backlog.oldest_created_at is None:
            return
        age = (datetime.now(UTC) - backlog.oldest_created_at).total_seconds()
        if age > warn_after_seconds:
            log.warning(
                "%d replies are waiting for delivery, the oldest for %.0fs (%d failed for good): "
                "check the channels' logs and /healthz",
                backlog.pending,
                age,
                backlog.failed,
            )

    return Job("outbox backlog watchdog", 60.0, check)


def sqlite_checkpoints(db: Database) -> Job:
    """A job that keeps SQLite's write-ahead log small, outside the commit path."""
    return Job("SQLite checkpoint", 1.0, db.checkpoint)


class _Deadlines(Protocol):
    async def mark_sla_breaches(self, limit: int = 500) -> list[str]: ...


def sla_watch(tickets: _Deadlines, every_seconds: float = 30.0) -> Job:
    """A job that marks tickets whose first response is overdue (the console flags them)."""

    async def check() -> None:
        await tickets.mark_sla_breaches()

    return Job("ticket response targets", every_seconds, check)

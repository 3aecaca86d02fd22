"""The job runner: claims due jobs in one statement, runs them, completes them exactly once.

Handlers registered with ``completes=True`` mark their job done in their own transaction and
the runner leaves it alone; for the others the runner marks it done. Runs on SQLite and
PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from conversations import jobs
from conversations.database import Database
from conversations.tables import Job
from core.jobs import JobRunner

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


async def queue(db: Database, kind: str, count: int = 1) -> None:
    async with db.transaction() as session:
        await jobs.enqueue(session, [jobs.NewJob(kind, {"n": n}, NOW) for n in range(count)], NOW)


async def stored(db: Database) -> list[tuple[str, str, int]]:
    async with db.reader() as session:
        rows = await session.execute(select(Job.kind, Job.status, Job.attempts).order_by(Job.id))
        return [(r.kind, r.status, r.attempts) for r in rows]


async def test_the_runner_completes_the_jobs_of_plain_handlers(db: Database) -> None:
    ran: list[int] = []

    async def handler(job: jobs.ClaimedJob) -> None:
        ran.append(int(job.payload["n"]))

    runner = JobRunner(db, clock=Clock())
    runner.register("plain", handler)
    await queue(db, "plain", 3)

    assert await runner.run_once() == 3
    assert ran == [0, 1, 2]
    assert await stored(db) == [("plain", "done", 1)] * 3
    assert await runner.run_once() == 0


async def test_a_self_completing_handler_completes_in_its_own_transaction(db: Database) -> None:
    async def handler(job: jobs.ClaimedJob) -> None:
        async with db.transaction() as session:
            await jobs.complete(session, job.id, NOW)

    runner = JobRunner(db, clock=Clock())
    runner.register("own", handler, completes=True)
    await queue(db, "own", 2)

    assert await runner.run_once() == 2
    assert await stored(db) == [("own", "done", 1)] * 2


async def test_a_self_completing_handler_that_returns_early_runs_again_after_its_lease(db: Database) -> None:
    # The contract: the runner trusts ``completes=True``. A handler that returned without
    # completing (it crashed in spirit) keeps its lease, and runs again once it expires.
    calls: list[int] = []

    async def handler(job: jobs.ClaimedJob) -> None:
        calls.append(job.attempts)
        if job.attempts > 1:
            async with db.transaction() as session:
                await jobs.complete(session, job.id, NOW)

    clock = Clock()
    runner = JobRunner(db, lease_seconds=60, clock=clock)
    runner.register("own", handler, completes=True)
    await queue(db, "own")

    assert await runner.run_once() == 1
    assert await stored(db) == [("own", "running", 1)]
    assert await runner.run_once() == 0  # still leased
    clock.now += timedelta(seconds=61)
    assert await runner.run_once() == 1
    assert calls == [1, 2]
    assert await stored(db) == [("own", "done", 2)]


async def test_a_failing_handler_is_retried_then_left_failed(db: Database) -> None:
    async def handler(job: jobs.ClaimedJob) -> None:
        raise RuntimeError("the channel is down")

    clock = Clock()
    runner = JobRunner(db, max_attempts=2, clock=clock)
    runner.register("flaky", handler, completes=True)
    await queue(db, "flaky")

    assert await runner.run_once() == 1
    assert await stored(db) == [("flaky", "pending", 1)]
    clock.now += timedelta(seconds=3)  # the backoff after one attempt is 2 s
    assert await runner.run_once() == 1
    assert await stored(db) == [("flaky", "failed", 2)]
    async with db.reader() as session:
        error = await session.scalar(select(Job.last_error))
    assert error == "RuntimeError: the channel is down"

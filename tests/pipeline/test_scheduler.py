"""The scheduler: jobs run on their interval, a failing run is contained, stop is prompt."""

from __future__ import annotations

import asyncio
import logging

import pytest

from conversations.database import Database
from core.pipeline import Pipeline
from core.scheduler import Job, Scheduler, backlog_watchdog
from tests.pipeline.engines import EchoEngine
from tests.pipeline.test_pipeline import inbound


async def test_jobs_run_repeatedly_and_failures_are_contained() -> None:
    runs: list[str] = []

    async def good() -> None:
        runs.append("good")

    async def bad() -> None:
        runs.append("bad")
        raise RuntimeError("boom")

    scheduler = Scheduler()
    scheduler.add(Job("good", 0.01, good))
    scheduler.add(Job("bad", 0.01, bad))
    task = asyncio.create_task(scheduler.run())
    await asyncio.sleep(0.1)
    scheduler.stop()
    await asyncio.wait_for(task, 1)
    assert runs.count("good") >= 3 and runs.count("bad") >= 3


async def test_the_watchdog_warns_about_old_undelivered_replies(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    job = backlog_watchdog(db, warn_after_seconds=0)
    await job.run()
    assert "waiting for delivery" not in caplog.text
    await Pipeline(db, EchoEngine()).receive(inbound(1))
    await asyncio.sleep(0.01)
    with caplog.at_level(logging.WARNING):
        await job.run()
    assert "1 replies are waiting for delivery" in caplog.text

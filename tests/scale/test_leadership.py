"""Leader election with PostgreSQL advisory locks: one poller runs, a standby takes over fast."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text

from conversations.database import Database
from conversations.leases import Lease
from core.leader import Elected

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)

HOLDER = """
import asyncio, sys
from conversations.database import Database
from conversations.leases import Lease

async def main() -> None:
    db = Database(sys.argv[1])
    lease = Lease(db, sys.argv[2])
    assert await lease.try_acquire()
    print("held", flush=True)
    await asyncio.sleep(3600)

asyncio.run(main())
"""


class Duty:
    def __init__(self) -> None:
        self.running = False
        self.starts = 0

    async def start(self) -> None:
        self.running, self.starts = True, self.starts + 1

    async def stop(self) -> None:
        self.running = False


async def until(condition: object, timeout: float = 10.0) -> float:
    started = time.monotonic()
    while not condition():  # type: ignore[operator]
        if time.monotonic() - started > timeout:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)
    return time.monotonic() - started


async def test_one_holder_at_a_time_and_release_hands_over(database_url: str) -> None:
    first_db, second_db = Database(database_url), Database(database_url)
    name = f"intake:test-{uuid.uuid4().hex}"
    first, second = Lease(first_db, name), Lease(second_db, name)
    try:
        assert await first.try_acquire()
        assert not await second.try_acquire()
        assert await first.check()
        await first.release()
        assert await second.try_acquire()
        assert not await first.try_acquire()
    finally:
        await first.release()
        await second.release()
        await first_db.dispose()
        await second_db.dispose()


async def test_held_leases_leave_the_pool_to_the_pipeline(database_url: str) -> None:
    # A pool of one and three elected pollers: were the leases pooled, every request would
    # wait for a connection that never comes back.
    db = Database(database_url, pool_size=1)
    leases = [Lease(db, f"intake:test-{uuid.uuid4().hex}") for _ in range(3)]
    try:
        for lease in leases:
            assert await lease.try_acquire()
        async with asyncio.timeout(5):
            async with db.transaction() as session:
                assert await session.scalar(text("SELECT 1")) == 1
        assert all([await lease.check() for lease in leases])
    finally:
        for lease in leases:
            await lease.release()
        await db.dispose()
    assert not any(lease.held for lease in leases)


async def test_a_killed_leader_is_replaced_within_seconds(database_url: str) -> None:
    name = f"intake:test-{uuid.uuid4().hex}"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    holder = await asyncio.create_subprocess_exec(
        sys.executable, "-c", HOLDER, database_url, name, cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE
    )
    db = Database(database_url)
    duty = Duty()
    elected = Elected(Lease(db, name), duty.start, duty.stop, retry_seconds=0.2)
    assert holder.stdout is not None
    assert (await asyncio.wait_for(holder.stdout.readline(), 30)).strip() == b"held"
    contender = asyncio.create_task(elected.run())
    try:
        await asyncio.sleep(0.6)
        assert not duty.running  # the other process leads: this one waits
        holder.send_signal(signal.SIGKILL)
        await holder.wait()
        took = await until(lambda: duty.running)
        assert took < 5, f"took over after {took:.1f}s"
        assert duty.starts == 1
    finally:
        elected.stop()
        await contender
        if holder.returncode is None:
            holder.kill()
            await holder.wait()
        await db.dispose()
    assert not duty.running  # stopping resigns


async def test_a_leader_that_loses_its_connection_stops_its_duty(database_url: str) -> None:
    db, admin = Database(database_url), Database(database_url)
    name = f"intake:test-{uuid.uuid4().hex}"
    duty = Duty()
    elected = Elected(Lease(db, name), duty.start, duty.stop, retry_seconds=0.2)
    running = asyncio.create_task(elected.run())
    try:
        await until(lambda: duty.running)
        async with admin.engine.connect() as connection:
            # The network drops the leader's connection (the database ends it).
            await connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' "
                    "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
                )
            )
        await until(lambda: not duty.running)
        # The lock was released with the connection: this process (or another) leads again.
        await until(lambda: duty.running)
        assert duty.starts == 2
    finally:
        elected.stop()
        await running
        await db.dispose()
        await admin.dispose()

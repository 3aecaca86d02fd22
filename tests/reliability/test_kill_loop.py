"""SIGKILL at random points of the pipeline and the dispatcher, again and again: nothing lost, nothing twice.

Each round starts a ``helpline run`` (basic engine, signed webhook channel) told to kill
itself the ``N``-th time (1–5) it reaches a random point of :data:`core.faults.POINTS`,
while three customers of an integrator write to it concurrently and send again whatever
was not answered 202. Once the process is dead, the next round starts it again with
another point. At the end a process without faults finishes the work; then every message
is stored once, answered once, delivered to the integrator once (resends after a crash carry
the same idempotency key) and nothing is pending. The random seed is in every failure
message; ``HELPLINE_TEST_SEED=<seed>`` replays the same sequence of points.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from conversations.database import Database
from core.faults import POINTS
from tests.e2e.test_crash_recovery import FakePlatform
from tests.reliability.conftest import webhook_env
from tests.reliability.customers import Customers, check_once, stored
from tests.reliability.processes import Launcher, Life

ROOT = Path(__file__).resolve().parents[2]
KILLS = {"postgresql": 50, "sqlite": 25}
CONVERSATIONS = 3
# After this many messages in one life the customers stop and let the dispatcher work
# through the backlog (its kill points come once per round); a process that has not reached
# its kill point BACKLOG_SECONDS later never will.
MAX_MESSAGES_PER_LIFE = 60
BACKLOG_SECONDS = 20.0
# Give a dying process this long to be reaped before retrying a failed request on it.
DYING_SECONDS = 5.0

pytestmark = pytest.mark.slow


@contextlib.contextmanager
def replayable(seed: int) -> Iterator[None]:
    try:
        yield
    except Exception as exc:
        raise AssertionError(f"{exc}\n(replay with HELPLINE_TEST_SEED={seed})") from exc


async def drive(client: httpx.AsyncClient, life: Life, customers: Customers) -> None:
    """Customers write to ``life`` until it dies (or, without a kill point, until all are accepted)."""
    start = customers.sent

    async def customer(conversation: int) -> None:
        while life.alive:
            if customers.sent - start > MAX_MESSAGES_PER_LIFE:
                done, _ = await asyncio.wait({life.exited}, timeout=BACKLOG_SECONDS)
                if not done:
                    raise AssertionError(f"helpline {life.pid} never reached its kill point:\n{life.tail()}")
                return
            try:
                response = await customers.send(client, life.url, conversation)
            except httpx.TransportError:
                await asyncio.wait({life.exited}, timeout=DYING_SECONDS)
                continue
            if response.status_code not in (202, 503):
                raise AssertionError(f"{response.status_code} {response.text}")

    await asyncio.gather(*(customer(c) for c in range(CONVERSATIONS)))


async def finish(client: httpx.AsyncClient, life: Life, customers: Customers) -> None:
    """Send the messages still outstanding to a process without faults."""
    for conversation in customers.waiting():
        deadline = time.monotonic() + 30
        while conversation in customers.waiting():
            assert time.monotonic() < deadline, f"c{conversation} never accepted:\n{life.tail()}"
            with contextlib.suppress(httpx.TransportError):
                await customers.send(client, life.url, conversation)


async def drained(db: Database, platform: FakePlatform, customers: Customers, life: Life) -> None:
    """Wait until every accepted message's reply is delivered and recorded."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        store = await stored(db)
        if store.outbox.keys() <= {"sent"} and len(platform.accepted) >= len(set(customers.accepted)):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"the outbox was not drained: {store.outbox}:\n{life.tail()}")


def test_every_fault_point_is_listed() -> None:
    reached = set()
    for path in [*ROOT.glob("core/**/*.py"), *ROOT.glob("conversations/**/*.py")]:
        reached |= set(re.findall(r'reach\("([a-z_.]+)"\)', path.read_text()))
    assert reached == set(POINTS)


async def test_random_kill_points_store_and_answer_every_message_once(
    database_url: str,
    db: Database,
    platform: FakePlatform,
    launcher: Launcher,
    data_dir: Path,
    tmp_path: Path,
) -> None:
    seed = int(os.environ.get("HELPLINE_TEST_SEED") or random.randrange(2**32))
    rng = random.Random(seed)
    kills = KILLS["sqlite" if db.is_sqlite else "postgresql"]
    env = webhook_env(database_url, platform, tmp_path / "data")
    customers = Customers(CONVERSATIONS)
    history: list[str] = []
    started = time.monotonic()
    with replayable(seed):
        async with httpx.AsyncClient(timeout=10) as client:
            for round_ in range(kills):
                point, after = rng.choice(POINTS), rng.randint(1, 5)
                history.append(f"{point}x{after}")
                life = await launcher.start(
                    {**env, "HELPLINE_FAULTS__KILL_AT": point, "HELPLINE_FAULTS__KILL_AFTER": str(after)},
                    tmp_path / f"life-{round_}.log",
                )
                if await life.ready():
                    await drive(client, life, customers)
                status = await life.wait_exit()
                assert status == -signal.SIGKILL, (
                    f"round {round_} ({point}x{after}) exited {status}:\n{life.tail()}"
                )
            final = await launcher.start(env, tmp_path / "final.log")
            assert await final.ready(), final.tail()
            await finish(client, final, customers)
            await drained(db, platform, customers, final)
            assert await final.stop() == 0, final.tail()
        check_once(customers, await stored(db), platform)
    elapsed = time.monotonic() - started
    print(
        f"{kills} kills ({', '.join(history)}), seed {seed}: {len(customers.accepted)} messages accepted "
        f"of {customers.sent} sent {dict(customers.statuses)}, {len(platform.attempts)} delivery attempts "
        f"for {len(platform.accepted)} replies, {elapsed:.1f}s"
    )

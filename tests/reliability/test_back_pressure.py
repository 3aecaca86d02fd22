"""A burst of 10,000 messages: bounded memory, connections and queues; the oldest served first.

1,000 customers write at the same moment, ten messages each (one after the other, as people
do), through the real pipeline (basic engine) on each store. Admission is bounded
(``max_in_flight`` turns at once, ``max_waiting`` more in line; small here so that the
burst overflows them); the rest are refused at once with :class:`StoreBusy` and, like an
integrator told "503, Retry-After", send again a second or so later. While the burst lasts
a watcher samples the process's resident memory, the pipeline's queues and, on PostgreSQL,
the server's connection count. Then every message is stored once with one reply queued,
and the dispatcher delivers the backlog oldest first.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from conversations.database import Database
from conversations.errors import StoreBusy
from conversations.tables import Message, OutboxEntry
from conversations.values import InboundMessage, OutboundMessage, Sender, Surface
from core.channels import Channel, Inbox
from core.dispatcher import Dispatcher
from core.engine.basic import BasicEngine
from core.pipeline import Pipeline
from core.settings import DispatcherSettings

CUSTOMERS = 1000
PER_CUSTOMER = 10
BURST = CUSTOMERS * PER_CUSTOMER
MAX_IN_FLIGHT = 64
MAX_WAITING = 256
POOL_SIZE = 20  # the Database default (no overflow)
# Resident memory the burst may add: ~10,000 client coroutines of the test itself, the
# admitted turns, the conversation cache and the store's buffers; unbounded admission
# (every message's turn at once) took more, and made the pool time out on PostgreSQL.
MAX_RSS_GROWTH = 160 * 2**20


def rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS in /proc/self/status")


def message(n: int, k: int) -> InboundMessage:
    return InboundMessage(
        channel="webhook",
        thread_key=f"customer-{n}",
        external_id=f"customer-{n}:m{k}",
        sender=Sender(f"user-{n}"),
        text=f"customer {n}: my withdrawal of 0.5 BTC is stuck",
        surface=Surface.PRIVATE,
    )


@dataclass
class Peaks:
    rss_growth: int = 0
    in_flight: int = 0
    waiting: int = 0
    connections: int = 0
    samples: int = 0
    refused: int = 0
    delays: list[float] = field(default_factory=list)


@pytest.fixture
async def probe(database_url: str) -> AsyncIterator[Database | None]:
    """A second connection to count the server's connections from (PostgreSQL)."""
    if database_url.startswith("sqlite"):
        yield None
        return
    database = Database(database_url, pool_size=1)
    yield database
    await database.dispose()


async def server_connections(probe: Database) -> int:
    async with probe.reader() as session:
        count = await session.scalar(
            text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")
        )
    return int(count or 0) - 1  # not the probe's own


async def burst(pipeline: Pipeline, probe: Database | None) -> Peaks:
    peaks = Peaks()
    baseline = rss_bytes()
    finished = asyncio.Event()

    async def watch() -> None:
        while not finished.is_set():
            peaks.samples += 1
            peaks.rss_growth = max(peaks.rss_growth, rss_bytes() - baseline)
            peaks.in_flight = max(peaks.in_flight, pipeline.in_flight)
            peaks.waiting = max(peaks.waiting, pipeline.waiting)
            if probe is not None:
                peaks.connections = max(peaks.connections, await server_connections(probe))
            await asyncio.sleep(0.02)

    async def customer(n: int) -> None:
        for k in range(PER_CUSTOMER):
            sent = time.monotonic()
            while True:
                try:
                    await pipeline.receive(message(n, k))
                    break
                except StoreBusy:
                    peaks.refused += 1
                    # The client's back-off, as Retry-After asks (here about a second, spread).
                    await asyncio.sleep(random.uniform(0.5, 1.5))
            peaks.delays.append(time.monotonic() - sent)

    watcher = asyncio.create_task(watch())
    await asyncio.gather(*(customer(n) for n in range(CUSTOMERS)))
    finished.set()
    await watcher
    return peaks


class RecordingChannel(Channel):
    """Accepts every delivery and records the order, round by round."""

    name = "webhook"

    def __init__(self) -> None:
        self.round = 0
        self.sent: list[tuple[int, int, int]] = []

    async def start(self, inbox: Inbox) -> None:
        pass

    async def send(self, message: OutboundMessage) -> str:
        self.sent.append((self.round, message.metadata["conversation_id"], message.message_id))
        return f"platform-{message.message_id}"

    async def stop(self) -> None:
        pass


async def test_a_burst_of_10000_is_bounded_stored_once_and_delivered_oldest_first(
    db: Database, probe: Database | None
) -> None:
    pipeline = Pipeline(db, BasicEngine("Acme"), max_in_flight=MAX_IN_FLIGHT, max_waiting=MAX_WAITING)
    assert pipeline.in_flight == pipeline.waiting == 0
    started = time.monotonic()
    peaks = await burst(pipeline, probe)
    elapsed = time.monotonic() - started
    delays = sorted(peaks.delays)
    print(
        f"{BURST} messages in {elapsed:.1f}s ({BURST / elapsed:.0f}/s): rss +{peaks.rss_growth / 2**20:.0f} MiB, "
        f"peak in flight {peaks.in_flight}, waiting {peaks.waiting}, connections {peaks.connections}, "
        f"{peaks.refused} refusals, wait p50 {delays[len(delays) // 2]:.2f}s p99 {delays[-len(delays) // 100]:.2f}s"
    )
    assert peaks.samples > 1
    assert peaks.in_flight <= MAX_IN_FLIGHT and peaks.waiting <= MAX_WAITING
    assert peaks.refused > 0, "a burst of 10,000 was never refused: admission is not bounded"
    assert peaks.rss_growth < MAX_RSS_GROWTH
    if probe is not None:
        assert 0 < peaks.connections <= POOL_SIZE + 2  # the pool, this probe and the test's own
    async with db.reader() as session:
        inbound = await session.scalar(select(func.count()).where(Message.direction == "in"))
        outbound = await session.scalar(select(func.count()).where(Message.direction == "out"))
        pending = await session.scalar(select(func.count()).where(OutboxEntry.status == "pending"))
    assert (inbound, outbound, pending) == (BURST, BURST, BURST)

    await delivered_oldest_first(db)


async def delivered_oldest_first(db: Database) -> None:
    """Each dispatcher round takes the oldest deliverable replies.

    A conversation's replies go out in order, so only its oldest undelivered reply can be
    taken; among those, a round must take the ``batch_size`` that were queued first (the
    smallest outbox ids: with concurrent group commits on PostgreSQL, message ids are not
    in queue order across transactions).
    """
    async with db.reader() as session:
        rows = (
            await session.execute(
                select(OutboxEntry.id, OutboxEntry.conversation_id, OutboxEntry.message_id).order_by(
                    OutboxEntry.id
                )
            )
        ).all()
    queued = {row.message_id: row.id for row in rows}
    waiting: dict[int, list[int]] = {}
    for row in rows:
        waiting.setdefault(row.conversation_id, []).append(row.id)
    channel = RecordingChannel()
    settings = DispatcherSettings(batch_size=300)
    dispatcher = Dispatcher(db, {"webhook": channel}, settings)
    while await dispatcher.dispatch_once():
        channel.round += 1
    assert len(channel.sent) == BURST
    for round_ in range(channel.round):
        taken = sorted(queued[m] for r, _, m in channel.sent if r == round_)
        heads = sorted(queue[0] for queue in waiting.values() if queue)
        assert taken == heads[: settings.batch_size], f"round {round_} did not take the oldest"
        for _, conversation_id, message_id in (s for s in channel.sent if s[0] == round_):
            assert waiting[conversation_id].pop(0) == queued[message_id]

"""Outbox delivery on SQLite and PostgreSQL: retries, backoff, failures, leases, order."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select, update

from conversations.database import Database
from conversations.tables import OutboxEntry
from conversations.values import OutboundMessage
from core.channels import ChannelError, ChannelUnavailable, DeliveryRejected, RateLimited
from core.dispatcher import Dispatcher
from core.pipeline import Pipeline, utcnow
from core.settings import DispatcherSettings
from tests.pipeline.channels import RecordingChannel
from tests.pipeline.engines import EchoEngine
from tests.pipeline.test_pipeline import inbound

SETTINGS = DispatcherSettings(
    batch_size=50,
    poll_interval_seconds=0.01,
    lease_seconds=30,
    max_attempts=3,
    backoff_base_seconds=0.0,
    backoff_max_seconds=0.0,
    send_timeout_seconds=1.0,
    concurrency=8,
)


async def outbox_rows(db: Database) -> list[OutboxEntry]:
    async with db.reader() as session:
        return list((await session.scalars(select(OutboxEntry).order_by(OutboxEntry.id))).all())


async def make_due(db: Database) -> None:
    """Jump the clock: every waiting retry becomes due now."""
    async with db.transaction() as session:
        await session.execute(update(OutboxEntry).values(next_attempt_at=utcnow() - timedelta(seconds=1)))


async def test_replies_are_delivered_once_with_the_platform_id_recorded(db: Database) -> None:
    channel = RecordingChannel()
    dispatcher = Dispatcher(db, {"test": channel}, SETTINGS)
    await Pipeline(db, EchoEngine(replies=2)).receive(inbound(1))

    assert await dispatcher.dispatch_once() == 1  # a conversation's second reply waits for its first
    assert await dispatcher.dispatch_once() == 1
    assert await dispatcher.dispatch_once() == 0
    assert [m.text for m in channel.sent] == ["echo message 1 #0", "echo message 1 #1"]
    assert channel.sent[0].reply_to_external_id == "chat-1:1"
    assert channel.sent[0].idempotency_key == f"helpline-{channel.sent[0].message_id}"
    rows = await outbox_rows(db)
    assert [(r.status, r.attempts, r.external_id) for r in rows] == [
        ("sent", 1, f"platform-{rows[0].message_id}"),
        ("sent", 1, f"platform-{rows[1].message_id}"),
    ]


async def test_a_transient_failure_is_retried_after_backoff(db: Database) -> None:
    channel = RecordingChannel(
        lambda m, attempt: ChannelUnavailable("502 from platform") if attempt == 1 else None
    )
    settings = SETTINGS.model_copy(update={"backoff_base_seconds": 60.0, "backoff_max_seconds": 600.0})
    dispatcher = Dispatcher(db, {"test": channel}, settings)
    await Pipeline(db, EchoEngine()).receive(inbound(1))

    await dispatcher.dispatch_once()
    [row] = await outbox_rows(db)
    assert (row.status, row.attempts, row.last_error) == ("pending", 1, "502 from platform")
    assert timedelta(seconds=29) < row.next_attempt_at - utcnow() <= timedelta(seconds=60)
    assert await dispatcher.dispatch_once() == 0  # not due yet

    await make_due(db)
    assert await dispatcher.dispatch_once() == 1
    [row] = await outbox_rows(db)
    assert (row.status, row.attempts, row.last_error) == ("sent", 2, None)
    assert len(channel.sent) == 1


async def test_rate_limits_are_honoured(db: Database) -> None:
    channel = RecordingChannel(
        lambda m, attempt: RateLimited("429", retry_after=42) if attempt == 1 else None
    )
    dispatcher = Dispatcher(db, {"test": channel}, SETTINGS)
    await Pipeline(db, EchoEngine()).receive(inbound(1))
    await dispatcher.dispatch_once()
    [row] = await outbox_rows(db)
    assert timedelta(seconds=41) < row.next_attempt_at - utcnow() <= timedelta(seconds=42)


async def test_backoff_grows_exponentially_with_jitter_and_a_ceiling() -> None:
    settings = SETTINGS.model_copy(update={"backoff_base_seconds": 2.0, "backoff_max_seconds": 100.0})
    dispatcher = Dispatcher(Database("sqlite+aiosqlite:///:memory:"), {}, settings)
    for attempts, ceiling in [(1, 2), (2, 4), (3, 8), (6, 64), (7, 100), (20, 100)]:
        delays = [dispatcher.backoff(attempts) for _ in range(50)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(set(delays)) > 1


async def test_rejected_messages_and_exhausted_retries_fail_for_good(db: Database) -> None:
    def failures(message: OutboundMessage, attempt: int) -> ChannelError:
        if "blocked" in message.text:
            return DeliveryRejected("403 bot was blocked by the user")
        return ChannelUnavailable("timeout")

    channel = RecordingChannel(failures)
    dispatcher = Dispatcher(db, {"test": channel}, SETTINGS)
    pipeline = Pipeline(db, EchoEngine())
    await pipeline.receive(inbound(1, thread="a", text="blocked"))
    await pipeline.receive(inbound(1, thread="b", text="flaky"))
    for _ in range(SETTINGS.max_attempts):
        await dispatcher.dispatch_once()
        await make_due(db)
    assert await dispatcher.dispatch_once() == 0
    rows = {r.conversation_id: r for r in await outbox_rows(db)}
    assert (rows[1].status, rows[1].attempts, rows[1].last_error) == (
        "failed",
        1,
        "403 bot was blocked by the user",
    )
    assert (rows[2].status, rows[2].attempts) == ("failed", SETTINGS.max_attempts)
    assert channel.sent == []


async def test_an_unexpected_exception_is_contained_and_retried(db: Database) -> None:
    def failures(message: OutboundMessage, attempt: int) -> ChannelError | None:
        if attempt == 1:
            raise ValueError("bug in the adapter")
        return None

    channel = RecordingChannel(failures)
    dispatcher = Dispatcher(db, {"test": channel}, SETTINGS)
    await Pipeline(db, EchoEngine()).receive(inbound(1))
    await dispatcher.dispatch_once()
    [row] = await outbox_rows(db)
    assert row.status == "pending" and "ValueError: bug in the adapter" in (row.last_error or "")
    await make_due(db)
    await dispatcher.dispatch_once()
    assert len(channel.sent) == 1


async def test_a_send_that_hangs_times_out_and_is_retried(db: Database) -> None:
    channel = RecordingChannel()
    channel.delay = 5
    dispatcher = Dispatcher(db, {"test": channel}, SETTINGS.model_copy(update={"send_timeout_seconds": 0.05}))
    await Pipeline(db, EchoEngine()).receive(inbound(1))
    await dispatcher.dispatch_once()
    [row] = await outbox_rows(db)
    assert (row.status, row.last_error) == ("pending", "timed out")


async def test_an_expired_lease_is_claimed_again(db: Database) -> None:
    """A dispatcher that died after claiming leaves a lease; after it expires another sends."""
    await Pipeline(db, EchoEngine()).receive(inbound(1))
    async with db.transaction() as session:
        from conversations import outbox

        claimed = await outbox.claim(session, ["test"], utcnow(), timedelta(seconds=30), 10)
    assert len(claimed) == 1
    survivor_channel = RecordingChannel()
    survivor = Dispatcher(db, {"test": survivor_channel}, SETTINGS)
    assert await survivor.dispatch_once() == 0  # still leased
    async with db.transaction() as session:
        await session.execute(update(OutboxEntry).values(claimed_until=utcnow() - timedelta(seconds=1)))
    assert await survivor.dispatch_once() == 1
    [row] = await outbox_rows(db)
    assert (row.status, row.attempts) == ("sent", 2)
    # The resend carries the same idempotency key, so a platform that deduplicates drops it.
    assert survivor_channel.sent[0].idempotency_key == f"helpline-{claimed[0].message_id}"


async def test_channels_that_are_not_running_keep_their_messages_waiting(db: Database) -> None:
    await Pipeline(db, EchoEngine()).receive(inbound(1))
    dispatcher = Dispatcher(db, {"other": RecordingChannel()}, SETTINGS)
    assert await dispatcher.dispatch_once() == 0
    [row] = await outbox_rows(db)
    assert row.status == "pending"


async def test_conversations_are_sent_in_order_and_in_parallel(db: Database) -> None:
    channel = RecordingChannel()
    channel.delay = 0.01
    pipeline = Pipeline(db, EchoEngine())
    for n in range(5):
        for thread in ("a", "b", "c"):
            await pipeline.receive(inbound(n, thread=thread, user=thread))
    dispatcher = Dispatcher(db, {"test": channel}, SETTINGS)
    task = asyncio.create_task(dispatcher.run())
    for _ in range(200):
        if len(channel.sent) == 15:
            break
        await asyncio.sleep(0.02)
    dispatcher.stop()
    await task
    for thread in ("a", "b", "c"):
        texts = [m.text for m in channel.sent if m.thread_key == thread]
        assert texts == [f"echo message {n} #0" for n in range(5)]


async def test_run_wakes_up_for_new_replies_and_stops_cleanly(db: Database) -> None:
    channel = RecordingChannel()
    dispatcher = Dispatcher(db, {"test": channel}, SETTINGS.model_copy(update={"poll_interval_seconds": 30}))
    pipeline = Pipeline(db, EchoEngine(), on_committed=dispatcher.wake)
    task = asyncio.create_task(dispatcher.run())
    await pipeline.receive(inbound(1))
    for _ in range(100):
        if channel.sent:
            break
        await asyncio.sleep(0.01)
    assert len(channel.sent) == 1  # woken at once, not after the 30 s poll
    dispatcher.stop()
    await asyncio.wait_for(task, 2)

"""Recording delivery outcomes, on SQLite and PostgreSQL: every kind, field by field, all or none.

On PostgreSQL :func:`conversations.outbox.store_outcomes` writes each outcome as one statement
on the bare driver (one round trip for the lot); on SQLite it runs the portable
:func:`conversations.outbox.record` in a transaction. Both must leave the same rows.
"""

from __future__ import annotations

from datetime import timedelta

import asyncpg
import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from conversations import outbox
from conversations.database import Database
from conversations.tables import Message, OutboxEntry
from core.pipeline import Pipeline, utcnow
from tests.pipeline.engines import EchoEngine
from tests.pipeline.test_pipeline import inbound


async def _claimed(db: Database, conversations: int) -> list[outbox.ClaimedDelivery]:
    pipeline = Pipeline(db, EchoEngine(replies=1))
    for n in range(1, conversations + 1):
        await pipeline.receive(inbound(n, thread=f"chat-{n}"))  # one claimable reply each
    async with db.single_writes() as connection:
        return await outbox.claim(connection, ["test"], utcnow(), timedelta(seconds=30), 50)


async def _rows(db: Database) -> dict[int, tuple[OutboxEntry, Message]]:
    async with db.reader() as session:
        found = await session.execute(
            select(OutboxEntry, Message).join(Message, Message.id == OutboxEntry.message_id)
        )
        return {entry.id: (entry, message) for entry, message in found}


async def test_each_kind_of_outcome_is_stored_field_by_field(db: Database) -> None:
    sent, retried, held, failed = await _claimed(db, 4)
    before = await _rows(db)
    now = utcnow()
    retry_at = now + timedelta(minutes=5)
    await outbox.store_outcomes(
        db,
        [
            outbox.DeliveryOutcome(sent.outbox_id, sent.message_id, external_id="platform-7"),
            outbox.DeliveryOutcome(retried.outbox_id, retried.message_id, error="429", retry_at=retry_at),
            outbox.DeliveryOutcome(held.outbox_id, held.message_id, error="needs approval", held=True),
            outbox.DeliveryOutcome(failed.outbox_id, failed.message_id, error="blocked by the user"),
        ],
        now,
    )

    rows = await _rows(db)
    entry, message = rows[sent.outbox_id]
    assert (entry.status, entry.external_id, entry.sent_at, entry.claimed_until, entry.last_error) == (
        "sent",
        "platform-7",
        now,
        None,
        None,
    )
    assert (message.external_id, message.sent_at) == ("platform-7", now)
    assert entry.attempts == 1  # counted by the claim, not by the record

    entry, message = rows[retried.outbox_id]
    assert (entry.status, entry.next_attempt_at, entry.claimed_until, entry.last_error) == (
        "pending",
        retry_at,
        None,
        "429",
    )
    assert (entry.external_id, entry.sent_at, message.external_id, message.sent_at) == (
        None,
        None,
        None,
        None,
    )

    for claimed, status, error in (
        (held, "held", "needs approval"),
        (failed, "failed", "blocked by the user"),
    ):
        entry, message = rows[claimed.outbox_id]
        assert (entry.status, entry.claimed_until, entry.last_error) == (status, None, error)
        assert (entry.external_id, entry.sent_at, message.external_id, message.sent_at) == (
            None,
            None,
            None,
            None,
        )
        # Only a retry moves the due time.
        assert entry.next_attempt_at == before[claimed.outbox_id][0].next_attempt_at


async def test_a_failing_outcome_stores_none_of_the_batch(db: Database) -> None:
    first, second = await _claimed(db, 2)
    now = utcnow()
    # Two outbound messages of one channel cannot share a platform id: the second update fails.
    with pytest.raises((IntegrityError, asyncpg.UniqueViolationError)):
        await outbox.store_outcomes(
            db,
            [
                outbox.DeliveryOutcome(first.outbox_id, first.message_id, external_id="platform-1"),
                outbox.DeliveryOutcome(second.outbox_id, second.message_id, external_id="platform-1"),
            ],
            now,
        )
    rows = await _rows(db)
    assert [(e.status, e.external_id, m.external_id) for e, m in rows.values()] == [
        ("sending", None, None),
        ("sending", None, None),
    ]


async def test_nothing_to_store_is_no_work(db: Database) -> None:
    await outbox.store_outcomes(db, [], utcnow())
    assert await _rows(db) == {}

"""The plans PostgreSQL keeps for the hot statements stay key lookups whatever the table's size.

Each pooled connection prepares a statement once and PostgreSQL then reuses a generic plan,
made with the statistics of that moment. A join planned while a table was small (a hash join
over a sequential scan) stays a scan of the whole table as it grows, until the next
``ANALYZE``: the group turn write once read every conversation this way, for the first
minute of a fresh database. Here the generic plan is forced on that case: a table of a few
hundred rows that was never analysed (the planner then assumes ten pages of them).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import pytest
from sqlalchemy import text

from conversations import outbox, turns_postgres
from conversations import repository as repo
from conversations.database import Database
from conversations.tables import Base
from conversations.values import InboundMessage, Sender

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


@pytest.fixture
async def small_store(postgres_url: str) -> AsyncIterator[Database]:
    """PostgreSQL with 300 conversations (a few pages) and no statistics about them yet."""
    db = Database(postgres_url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    async with db.engine.begin() as connection:
        # TRUNCATE forgets the table's statistics; autovacuum must not gather new ones meanwhile.
        await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        await connection.execute(text("ALTER TABLE conversations SET (autovacuum_enabled = false)"))
    for n in range(300):
        message = InboundMessage(
            channel="test",
            thread_key=f"t{n}",
            external_id=f"t{n}:0",
            sender=Sender(external_id=f"user-{n}"),
            text="hello",
        )
        await db.run_unwrapped(lambda connection, m=message: repo.open_conversation(connection, m, NOW))
    yield db
    async with db.engine.begin() as connection:
        await connection.execute(text("ALTER TABLE conversations RESET (autovacuum_enabled)"))
    await db.dispose()


async def _generic_plan(db: Database, statement: str, parameters: int) -> str:
    async def explain(driver: asyncpg.Connection) -> str:
        async with driver.transaction():
            await driver.execute("SET LOCAL plan_cache_mode = force_generic_plan")
            await driver.execute(f"PREPARE hot AS {statement}")
            try:
                nulls = ", ".join(["NULL"] * parameters)
                rows = await driver.fetch(f"EXPLAIN EXECUTE hot({nulls})")
            finally:
                await driver.execute("DEALLOCATE hot")
        return "\n".join(row[0] for row in rows)

    return await db.run_on_driver(explain)


async def test_the_group_turn_write_locks_conversations_by_key(small_store: Database) -> None:
    parameters = len(turns_postgres.arguments([]))
    plan = await _generic_plan(small_store, turns_postgres.STATEMENT, parameters)
    assert "Seq Scan on conversations" not in plan, plan
    assert "Index Scan using pk_conversations on conversations" in plan, plan


async def test_recording_a_delivery_updates_by_key(small_store: Database) -> None:
    plan = await _generic_plan(small_store, outbox.RECORD_STATEMENT, 7)
    assert "Seq Scan" not in plan, plan
    assert "Index Scan using pk_outbox on outbox" in plan, plan
    assert "Index Scan using pk_messages on messages" in plan, plan

"""The conversation model on SQLite and PostgreSQL: migrations, constraints, every table in use."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError

from conversations.database import Database
from conversations.migrate import current_revision, head_revision, upgrade
from conversations.tables import (
    Agent,
    Base,
    Contact,
    Conversation,
    Identity,
    Message,
    OutboxEntry,
    Survey,
    Ticket,
    TicketEvent,
)

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


async def test_the_migrated_schema_matches_the_model(db: Database) -> None:
    assert await current_revision(db) == head_revision()

    def diff(connection):  # type: ignore[no-untyped-def]
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, Base.metadata)

    async with db.engine.connect() as connection:
        differences = await connection.run_sync(diff)
        tables = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
    assert differences == []
    assert {t.name for t in Base.metadata.sorted_tables} <= tables


async def test_upgrading_twice_is_harmless(db: Database) -> None:
    await upgrade(db)
    assert await current_revision(db) == head_revision()


async def test_a_whole_support_case_is_stored(db: Database) -> None:
    async with db.transaction() as session:
        agent = Agent(email="sam@example.com", display_name="Sam", role="agent", active=True, created_at=NOW)
        contact = Contact(display_name="Alice", language="zh", surveys_opt_out=False, created_at=NOW)
        session.add_all([agent, contact])
        await session.flush()
        session.add_all(
            [
                Identity(
                    contact_id=contact.id,
                    channel="telegram",
                    external_id="42",
                    handle="@alice",
                    created_at=NOW,
                ),
                Identity(
                    contact_id=contact.id, channel="email", external_id="alice@example.org", created_at=NOW
                ),
            ]
        )
        conversation = Conversation(
            channel="telegram",
            thread_key="42",
            surface="private",
            contact_id=contact.id,
            language="zh",
            status="human",
            bot_state={"form": "missing_deposit"},
            slots={"asset": "USDT", "network": "TRC20"},
            assigned_agent_id=agent.id,
            created_at=NOW,
            last_message_at=NOW,
        )
        session.add(conversation)
        await session.flush()
        ticket = Ticket(
            number=1001,
            conversation_id=conversation.id,
            contact_id=contact.id,
            subject="充值未到账 50 USDT",
            category="deposit",
            priority="high",
            status="open",
            assignee_id=agent.id,
            details={"txid": "a" * 64},
            sla_due_at=NOW + timedelta(hours=4),
            created_at=NOW,
            updated_at=NOW,
        )
        session.add(ticket)
        await session.flush()
        conversation.ticket_id = ticket.id
        message = Message(
            conversation_id=conversation.id,
            channel="telegram",
            direction="out",
            author="agent",
            agent_id=agent.id,
            text="我们正在核查",
            buttons=[{"label": "好的", "action": "ok"}],
            attachments=[],
            internal=False,
            created_at=NOW,
        )
        session.add(message)
        await session.flush()
        session.add_all(
            [
                TicketEvent(
                    ticket_id=ticket.id, kind="assigned", actor=f"agent:{agent.id}", data={}, created_at=NOW
                ),
                OutboxEntry(
                    message_id=message.id,
                    conversation_id=conversation.id,
                    channel="telegram",
                    status="pending",
                    attempts=0,
                    next_attempt_at=NOW,
                    created_at=NOW,
                ),
                Survey(
                    ticket_id=ticket.id,
                    conversation_id=conversation.id,
                    channel="telegram",
                    status="scheduled",
                    due_at=NOW + timedelta(hours=1),
                    created_at=NOW,
                ),
            ]
        )
    async with db.reader() as session:
        stored = (await session.execute(select(Ticket))).scalar_one()
        survey = (await session.execute(select(Survey))).scalar_one()
        conv = (await session.execute(select(Conversation))).scalar_one()
    assert stored.subject == "充值未到账 50 USDT" and stored.details == {"txid": "a" * 64}
    assert stored.sla_due_at == NOW + timedelta(hours=4)
    assert stored.sla_due_at.tzinfo is not None
    assert survey.due_at == NOW + timedelta(hours=1)
    assert conv.ticket_id == stored.id and conv.slots == {"asset": "USDT", "network": "TRC20"}


@pytest.mark.parametrize(
    "duplicate",
    [
        lambda: Identity(contact_id=1, channel="x", external_id="same", created_at=NOW),
        lambda: Conversation(
            channel="x",
            thread_key="same",
            contact_id=1,
            bot_state={},
            slots={},
            created_at=NOW,
            last_message_at=NOW,
        ),
    ],
)
async def test_unique_keys_refuse_duplicates(db: Database, duplicate) -> None:  # type: ignore[no-untyped-def]
    async with db.transaction() as session:
        session.add(Contact(surveys_opt_out=False, created_at=NOW))
        await session.flush()
        session.add(duplicate())
    with pytest.raises(IntegrityError):
        async with db.transaction() as session:
            session.add(duplicate())


async def test_inbound_platform_ids_are_unique_per_channel(db: Database) -> None:
    async with db.transaction() as session:
        session.add(Contact(surveys_opt_out=False, created_at=NOW))
        await session.flush()
        session.add(
            Conversation(
                channel="x",
                thread_key="t",
                contact_id=1,
                bot_state={},
                slots={},
                created_at=NOW,
                last_message_at=NOW,
            )
        )
        await session.flush()

    def message(channel: str, direction: str) -> Message:
        return Message(
            conversation_id=1,
            channel=channel,
            direction=direction,
            author="customer",
            text="hi",
            buttons=[],
            attachments=[],
            external_id="m-1",
            internal=False,
            created_at=NOW,
        )

    async with db.transaction() as session:
        session.add_all([message("x", "in"), message("y", "in"), message("x", "out")])
    with pytest.raises(IntegrityError):
        async with db.transaction() as session:
            session.add(message("x", "in"))


async def test_naive_datetimes_are_refused(db: Database) -> None:
    with pytest.raises(Exception, match="naive datetime"):
        async with db.transaction() as session:
            session.add(Contact(surveys_opt_out=False, created_at=datetime(2026, 1, 1)))


async def test_downgrade_then_upgrade_round_trips(db: Database) -> None:
    from alembic import command
    from sqlalchemy.engine import Connection

    from conversations.migrate import alembic_config

    def down(connection: Connection) -> None:
        config = alembic_config(db.url)
        config.attributes["connection"] = connection
        command.downgrade(config, "base")

    async with db.engine.begin() as connection:
        await connection.run_sync(down)
    assert await current_revision(db) is None
    await upgrade(db)
    assert await current_revision(db) == head_revision()


async def test_sqlite_checkpoints_run_beside_the_writer(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import sqlite3

    db = Database(f"sqlite+aiosqlite:///{tmp_path}/wal.db")
    try:
        await upgrade(db)
        async with db.transaction() as session:
            session.add_all(
                Contact(display_name="x" * 500, surveys_opt_out=False, created_at=NOW) for _ in range(300)
            )
        await db.checkpoint()
        with sqlite3.connect(tmp_path / "wal.db") as raw:
            busy, log_frames, checkpointed = raw.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            autocheckpoint = raw.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
        assert busy == 0 and log_frames == checkpointed
        assert autocheckpoint == 1000  # a plain connection keeps SQLite's default; ours set 0
    finally:
        await db.dispose()
    await Database("postgresql+asyncpg://nobody@127.0.0.1:1/none").checkpoint()  # a no-op elsewhere

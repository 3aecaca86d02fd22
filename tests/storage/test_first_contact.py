"""A sender's first message: contact, identity and conversation made once, whoever races for them."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import asyncpg
import pytest
from sqlalchemy import func, select

from conversations import repository as repo
from conversations.database import Database
from conversations.repository import ConversationRecord
from conversations.tables import Contact, Conversation, Identity
from conversations.values import InboundMessage, Sender, Surface

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def message(sender: str, thread: str, surface: Surface = Surface.PRIVATE) -> InboundMessage:
    return InboundMessage(
        channel="telegram",
        thread_key=thread,
        external_id=f"{sender}:{thread}",
        sender=Sender(sender, display_name=f"Name {sender}", handle=f"@{sender}", language_hint="zh"),
        text="你好",
        surface=surface,
    )


async def opened(db: Database, inbound: InboundMessage) -> ConversationRecord:
    return await repo.first_contact(db, inbound, NOW)


async def counts(db: Database) -> tuple[int, int, int]:
    async with db.reader() as session:
        return (
            int(await session.scalar(select(func.count()).select_from(Contact)) or 0),
            int(await session.scalar(select(func.count()).select_from(Identity)) or 0),
            int(await session.scalar(select(func.count()).select_from(Conversation)) or 0),
        )


async def test_first_contact_then_the_same_thread_then_a_second_sender_in_it(db: Database) -> None:
    first = await opened(db, message("alice", "chat-1"))
    assert first.created and first.status == "bot" and first.bot_state == {} and first.slots == {}
    assert (first.language, first.surface, first.last_message_at) == ("zh", "private", NOW)
    again = await opened(db, message("alice", "chat-1"))
    assert not again.created and (again.id, again.contact_id) == (first.id, first.contact_id)

    # A group: the thread's conversation stays the first sender's; the newcomer gets a contact.
    group = await opened(db, message("bob", "chat-1", Surface.PUBLIC))
    assert not group.created and (group.id, group.contact_id) == (first.id, first.contact_id)
    # The same sender in a new thread: a new conversation of the same contact.
    other = await opened(db, message("alice", "chat-2"))
    assert other.created and other.id != first.id and other.contact_id == first.contact_id

    assert await counts(db) == (2, 2, 2)
    async with db.reader() as session:
        identities = (
            await session.execute(
                select(Identity.external_id, Identity.handle, Contact.display_name)
                .join(Contact, Contact.id == Identity.contact_id)
                .order_by(Identity.id)
            )
        ).all()
    assert [tuple(row) for row in identities] == [
        ("alice", "@alice", "Name alice"),
        ("bob", "@bob", "Name bob"),
    ]


async def test_concurrent_first_contacts_make_one_of_each(database_url: str) -> None:
    # Several processes (a pool each) receive the same new sender's first messages at once.
    stores = [Database(database_url, pool_size=4) for _ in range(3)]
    try:
        for round_ in range(5):
            inbound = message(f"racer-{round_}", f"race-{round_}")
            records = await asyncio.gather(*(opened(stores[n % 3], inbound) for n in range(12)))
            assert len({r.id for r in records}) == 1
            assert len({r.contact_id for r in records}) == 1
            assert sum(r.created for r in records) == 1
        # No contact left behind by a process that lost the race for the identity.
        assert await counts(stores[0]) == (5, 5, 5)
    finally:
        for store in stores:
            await store.dispose()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_on_postgresql_a_first_contact_is_one_statement(db: Database) -> None:
    async def first_contact(driver: asyncpg.Connection) -> tuple[ConversationRecord | None, int]:
        statements: list[str] = []

        def count(record: asyncpg.connection.LoggedQuery) -> None:
            statements.append(record.query)

        driver.add_query_logger(count)
        try:
            record = await repo.open_conversation_on_driver(driver, message("carol", "chat-9"), NOW)
            await asyncio.sleep(0)  # query loggers are called soon after, not during, the query
            return record, len(statements)
        finally:
            driver.remove_query_logger(count)

    record, statements = await db.run_on_driver(first_contact)
    assert record is not None and record.created and statements == 1
    again, statements = await db.run_on_driver(first_contact)
    assert again is not None and not again.created and again.id == record.id and statements == 1
    assert await counts(db) == (1, 1, 1)

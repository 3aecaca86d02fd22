"""What a channel keeps between runs, and how it finds the thread an event belongs to.

:class:`ChannelStateStore` holds small durable cursors per channel (the X mentions
``since_id``, an IMAP folder's UIDVALIDITY and last UID, a Telegram update offset), so a
restart neither repeats nor skips anything. :class:`ThreadDirectory` answers the two
questions e-mail threading and staff replies ask: which conversation does this platform
message id belong to, and which conversation holds this ticket?
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import bindparam, exists, or_, select, update

from conversations.database import Database
from conversations.driver_statements import DriverStatement
from conversations.repository import insert_ignoring_conflicts
from conversations.tables import ChannelState, Conversation, Message, OutboxEntry, Ticket


class ChannelStateStore:
    """Durable key → value cursors of one channel.

    Args:
        db: The store.
        channel: The channel's name; keys of different channels never collide.

    """

    def __init__(self, db: Database, channel: str) -> None:
        self._db = db
        self._channel = channel

    async def get(self, key: str) -> str | None:
        """The value stored under ``key``, or ``None``."""
        async with self._db.reader() as session:
            return await session.scalar(
                select(ChannelState.value).where(
                    ChannelState.channel == self._channel, ChannelState.key == key
                )
            )

    async def get_with_thread(self, key: str, thread_key: str) -> tuple[str | None, bool]:
        """The value under ``key``, and whether the channel has a conversation ``thread_key``.

        Both are read by one statement, so from one snapshot: a value written before the
        conversation was created is always seen with it.
        """
        params = {"channel": self._channel, "key": key, "thread_key": thread_key}
        if not self._db.is_sqlite:  # read for every new web chat session: the driver's cost only
            found = await self._db.run_on_driver(
                lambda driver: _VALUE_WITH_THREAD_ON_DRIVER.fetchrow(driver, params)
            )
            assert found is not None
            return found[0], bool(found[1])
        async with self._db.single_reads() as connection:
            row = (await connection.execute(_VALUE_WITH_THREAD, params)).one()
        return row[0], bool(row[1])

    async def put(self, key: str, value: str) -> None:
        """Store ``value`` under ``key``, replacing what was there."""
        now = datetime.now(UTC)
        async with self._db.transaction() as session:
            changed = await session.execute(
                update(ChannelState)
                .where(ChannelState.channel == self._channel, ChannelState.key == key)
                .values(value=value, updated_at=now)
            )
            if changed.rowcount == 0:  # type: ignore[attr-defined]
                insert = insert_ignoring_conflicts(
                    "sqlite" if self._db.is_sqlite else "postgresql", ChannelState
                )
                await session.execute(
                    insert.values(channel=self._channel, key=key, value=value, updated_at=now)
                )

    async def put_if_absent(self, key: str, value: str) -> str:
        """Store ``value`` under ``key`` unless a value is there already; return the value kept.

        Of concurrent callers (in any process) exactly one wins; every one of them gets the
        winner's value back, so each can tell whether it was first.
        """
        insert = insert_ignoring_conflicts("sqlite" if self._db.is_sqlite else "postgresql", ChannelState)
        async with self._db.transaction() as session:
            await session.execute(
                insert.values(channel=self._channel, key=key, value=value, updated_at=datetime.now(UTC))
            )
            kept = await session.scalar(
                select(ChannelState.value).where(
                    ChannelState.channel == self._channel, ChannelState.key == key
                )
            )
        return kept if kept is not None else value


class ThreadDirectory:
    """Finds a channel's conversation threads by message id or ticket number.

    Args:
        db: The store.
        channel: The channel whose threads are searched.

    """

    def __init__(self, db: Database, channel: str) -> None:
        self._db = db
        self._channel = channel

    async def has_thread(self, thread_key: str) -> bool:
        """Whether this channel has a conversation with ``thread_key`` already."""
        async with self._db.reader() as session:
            found = await session.scalar(
                select(Conversation.id)
                .where(Conversation.channel == self._channel, Conversation.thread_key == thread_key)
                .limit(1)
            )
        return found is not None

    async def thread_of_message(self, *external_ids: str) -> str | None:
        """The thread key of the first conversation holding any of these platform message ids.

        Both directions count: a customer's message and one of our replies as the platform
        identified it (e.g. e-mail Message-IDs from ``References``).
        """
        ids = [i for i in external_ids if i]
        if not ids:
            return None
        async with self._db.reader() as session:
            found = await session.scalar(
                select(Conversation.thread_key)
                .join(Message, Message.conversation_id == Conversation.id)
                .outerjoin(OutboxEntry, OutboxEntry.message_id == Message.id)
                .where(
                    Message.channel == self._channel,
                    or_(Message.external_id.in_(ids), OutboxEntry.external_id.in_(ids)),
                )
                .order_by(Message.id.desc())
                .limit(1)
            )
        return found

    async def thread_of_ticket(self, number: int) -> str | None:
        """The thread key of the conversation of ticket ``number`` on this channel, if any."""
        async with self._db.reader() as session:
            return await session.scalar(
                select(Conversation.thread_key)
                .join(Ticket, Ticket.conversation_id == Conversation.id)
                .where(Ticket.number == number, Conversation.channel == self._channel)
            )


# Built once: web chat reads it for every new session, and building the nested statement
# cost more than running it.
_VALUE_WITH_THREAD = select(
    select(ChannelState.value)
    .where(ChannelState.channel == bindparam("channel"), ChannelState.key == bindparam("key"))
    .scalar_subquery(),
    exists().where(
        Conversation.channel == bindparam("channel"), Conversation.thread_key == bindparam("thread_key")
    ),
)
_VALUE_WITH_THREAD_ON_DRIVER = DriverStatement(_VALUE_WITH_THREAD)

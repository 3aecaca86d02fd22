"""Queries of the conversation pipeline, written once for SQLite and PostgreSQL.

Every insert that a redelivery or a concurrent process could repeat uses the database's
``INSERT ... ON CONFLICT DO NOTHING`` on a unique key, never a check-then-insert race.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
from sqlalchemy import (
    Insert,
    bindparam,
    delete,
    exists,
    false,
    insert,
    literal,
    select,
    true,
    type_coerce,
    union_all,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession

from conversations.database import Database
from conversations.driver_statements import DriverStatement
from conversations.tables import Base, Contact, Conversation, Identity, Message, OutboxEntry, table_of
from conversations.values import Author, Button, Direction, InboundMessage


@dataclass(frozen=True, slots=True)
class ConversationRecord:
    """A conversation's row as the pipeline and the engine see it."""

    id: int
    channel: str
    thread_key: str
    surface: str
    contact_id: int
    language: str | None
    status: str
    bot_state: Mapping[str, Any]
    slots: Mapping[str, Any]
    ticket_id: int | None
    assigned_agent_id: int | None
    created: bool
    # Changes with every stored turn: a turn decided on an older value was decided on a
    # state another process (or an agent) has since changed, and is decided again.
    last_message_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class StoredReply:
    """An outbound message as stored."""

    id: int
    text: str
    buttons: tuple[Button, ...]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class NewReply:
    """An outbound message to store and queue for delivery."""

    text: str
    buttons: tuple[Button, ...] = ()
    author: Author = Author.BOT
    agent_id: int | None = None


def insert_ignoring_conflicts(dialect: str, table: type[Base]) -> Insert:
    """An INSERT that skips rows hitting a unique constraint, in the given dialect."""
    if dialect == "postgresql":
        return postgresql.insert(table_of(table)).on_conflict_do_nothing()
    return sqlite.insert(table_of(table)).on_conflict_do_nothing()


async def first_contact(db: Database, message: InboundMessage, now: datetime) -> ConversationRecord:
    """The conversation of the message's thread, creating it (and the sender's contact) on first contact.

    On PostgreSQL one statement does it all on the bare driver (one round trip instead of
    five statements, and no transaction of its own is needed); the statement-by-statement
    path (:func:`open_conversation`) remains for SQLite and for a race with another process.
    Each statement is safe on its own (a contact and identity kept without their
    conversation are found again next time), so none runs in a transaction.
    """
    if not db.is_sqlite:
        found = await db.run_on_driver(lambda driver: open_conversation_on_driver(driver, message, now))
        if found is not None:
            return found
    return await db.run_unwrapped(lambda connection: open_conversation(connection, message, now))


async def open_conversation_on_driver(
    driver: asyncpg.Connection, message: InboundMessage, now: datetime
) -> ConversationRecord | None:
    """PostgreSQL's one-statement first contact; ``None`` if a concurrent one won a race."""
    sender = message.sender
    row = await _first_contact_in_one_statement().fetchrow(
        driver,
        {
            "channel": message.channel,
            "external_id": sender.external_id,
            "handle": sender.handle,
            "display_name": sender.display_name,
            "language": sender.language_hint,
            "thread_key": message.thread_key,
            "surface": message.surface.value,
            "now": now,
        },
    )
    assert row is not None, "the statement always returns one row"
    if row["orphan"] is not None:
        await _DROP_CONTACT.fetch(driver, {"id": row["orphan"]})
    if row["id"] is None:
        return None
    return _record(row, created=bool(row["created"]))


def open_conversation(connection: Connection, message: InboundMessage, now: datetime) -> ConversationRecord:
    """The conversation of the message's thread, statement by statement (see :func:`first_contact`).

    Synchronous Core statements, so the caller runs them in one hop: the SQLite writer
    thread, or one ``run_sync`` on PostgreSQL.
    """
    return _conversation_for(connection, message, _contact_for(connection, message, now), now)


async def contact_for(session: AsyncSession, message: InboundMessage, now: datetime) -> int:
    """Return the contact behind the sender's channel identity, creating both on first contact."""
    return await session.run_sync(lambda sync: _contact_for(sync.connection(), message, now))


async def conversation_for(
    session: AsyncSession, message: InboundMessage, contact_id: int, now: datetime
) -> ConversationRecord:
    """Return the conversation of the message's thread, creating it on the first message."""
    return await session.run_sync(lambda sync: _conversation_for(sync.connection(), message, contact_id, now))


def _contact_for(connection: Connection, message: InboundMessage, now: datetime) -> int:
    sender = message.sender
    known = {"channel": message.channel, "external_id": sender.external_id}
    found = connection.scalar(_CONTACT_OF_IDENTITY, known)
    if found is not None:
        return int(found)
    contact_id = connection.scalar(
        _NEW_CONTACT,
        {"display_name": sender.display_name, "language": sender.language_hint, "created_at": now},
    )
    assert contact_id is not None
    claimed = connection.scalar(
        _first_contact_statements(connection.dialect.name)[0],
        {
            "contact_id": contact_id,
            "channel": message.channel,
            "external_id": sender.external_id,
            "handle": sender.handle,
            "display_name": sender.display_name,
            "created_at": now,
        },
    )
    if claimed is not None:
        return int(claimed)
    _drop_contact(connection, contact_id)
    existing = connection.scalar(_CONTACT_OF_IDENTITY, known)
    assert existing is not None
    return int(existing)


def _drop_contact(connection: Connection, contact_id: int) -> None:
    """Delete a contact just made: another process recorded the same sender first, use its contact."""
    connection.execute(_DROP_CONTACT_STATEMENT, {"id": contact_id})


def _conversation_for(
    connection: Connection, message: InboundMessage, contact_id: int, now: datetime
) -> ConversationRecord:
    row = _load_conversation(connection, message.channel, message.thread_key)
    if row is not None:
        return _record(row._mapping, created=False)
    inserted = connection.execute(
        _first_contact_statements(connection.dialect.name)[1],
        {
            "channel": message.channel,
            "thread_key": message.thread_key,
            "surface": message.surface.value,
            "contact_id": contact_id,
            "language": message.sender.language_hint,
            "status": "bot",
            "bot_state": {},
            "slots": {},
            "created_at": now,
            "last_message_at": now,
        },
    ).first()
    if inserted is not None:
        return _record(inserted._mapping, created=True)
    # Another process opened it first.
    row = _load_conversation(connection, message.channel, message.thread_key)
    assert row is not None
    return _record(row._mapping, created=False)


def _load_conversation(connection: Connection, channel: str, thread_key: str) -> Any:
    return connection.execute(_CONVERSATION_OF_THREAD, {"channel": channel, "thread_key": thread_key}).first()


# Built once: a customer's first message runs all of these, and constructing and keying a
# statement costs more Python than running it. The opening fields are what a new
# conversation is given, beside its timestamps.
_OPENING_FIELDS = (
    "channel",
    "thread_key",
    "surface",
    "contact_id",
    "language",
    "status",
    "bot_state",
    "slots",
)
_CONVERSATION_COLUMNS = tuple(
    table_of(Conversation).c[name]
    for name in ("id", *_OPENING_FIELDS, "ticket_id", "assigned_agent_id", "last_message_at")
)
_CONVERSATION_OF_THREAD = select(*_CONVERSATION_COLUMNS).where(
    table_of(Conversation).c.channel == bindparam("channel"),
    table_of(Conversation).c.thread_key == bindparam("thread_key"),
)
_CONTACT_OF_IDENTITY = select(table_of(Identity).c.contact_id).where(
    table_of(Identity).c.channel == bindparam("channel"),
    table_of(Identity).c.external_id == bindparam("external_id"),
)
_NEW_CONTACT = table_of(Contact).insert().returning(table_of(Contact).c.id)
_DROP_CONTACT_STATEMENT = delete(table_of(Contact)).where(table_of(Contact).c.id == bindparam("id"))
_DROP_CONTACT = DriverStatement(_DROP_CONTACT_STATEMENT)


@functools.cache
def _first_contact_in_one_statement() -> DriverStatement:
    """PostgreSQL: find or create the sender's contact and the thread's conversation in one statement.

    Data-modifying CTEs: the sender's contact and identity are created unless the identity
    exists, the conversation unless the thread has one. The single row returned holds the
    conversation (``id`` NULL if a concurrent first contact won a race: the caller falls
    back) and ``orphan``, a contact created here whose identity another process inserted
    first.
    """
    contacts, identities, conversations = table_of(Contact), table_of(Identity), table_of(Conversation)
    now = bindparam("now", type_=conversations.c.created_at.type)
    channel = bindparam("channel", type_=conversations.c.channel.type)
    known = (
        select(identities.c.contact_id)
        .where(identities.c.channel == channel, identities.c.external_id == bindparam("external_id"))
        .cte("known")
    )
    new_contact = (
        insert(contacts)
        .from_select(
            ["display_name", "language", "surveys_opt_out", "created_at"],
            select(
                bindparam("display_name", type_=contacts.c.display_name.type),
                bindparam("language", type_=contacts.c.language.type),
                false(),
                now,
            ).where(~exists(select(known.c.contact_id))),
        )
        .returning(contacts.c.id)
        .cte("new_contact")
    )
    new_identity = (
        postgresql.insert(identities)
        .from_select(
            ["contact_id", "channel", "external_id", "handle", "display_name", "created_at"],
            select(
                new_contact.c.id,
                channel,
                bindparam("external_id", type_=identities.c.external_id.type),
                bindparam("handle", type_=identities.c.handle.type),
                bindparam("display_name", type_=identities.c.display_name.type),
                now,
            ),
        )
        .on_conflict_do_nothing()
        .returning(identities.c.contact_id)
        .cte("new_identity")
    )
    contact = union_all(select(known.c.contact_id), select(new_identity.c.contact_id)).cte("contact")
    found = _CONVERSATION_OF_THREAD.cte("found")
    empty = type_coerce({}, conversations.c.bot_state.type)
    opened = (
        postgresql.insert(conversations)
        .from_select(
            [*_OPENING_FIELDS, "created_at", "last_message_at"],
            select(
                channel,
                bindparam("thread_key", type_=conversations.c.thread_key.type),
                bindparam("surface", type_=conversations.c.surface.type),
                contact.c.contact_id,
                bindparam("language", type_=conversations.c.language.type),
                literal("bot"),
                empty,
                empty,
                now,
                now,
            )
            .where(~exists(select(found.c.id)))
            .limit(1),
        )
        .on_conflict_do_nothing()
        .returning(*_CONVERSATION_COLUMNS)
        .cte("opened")
    )
    rows = union_all(
        select(*found.c, false().label("created")), select(*opened.c, true().label("created"))
    ).subquery("conversation")
    orphan = select(new_contact.c.id).where(~exists(select(new_identity.c.contact_id))).scalar_subquery()
    one = select(literal(1).label("one")).subquery("one")
    return DriverStatement(select(*rows.c, orphan.label("orphan")).select_from(one.outerjoin(rows, true())))


@functools.cache
def _first_contact_statements(dialect: str) -> tuple[Insert, Insert]:
    """The identity and conversation inserts that yield to a concurrent first contact."""
    identity = insert_ignoring_conflicts(dialect, Identity).returning(table_of(Identity).c.contact_id)
    conversation = insert_ignoring_conflicts(dialect, Conversation).returning(*_CONVERSATION_COLUMNS)
    return identity, conversation


def _record(row: Any, *, created: bool) -> ConversationRecord:
    """A conversation from a row with its columns by name (an asyncpg record, a row's mapping)."""
    return ConversationRecord(
        id=row["id"],
        channel=row["channel"],
        thread_key=row["thread_key"],
        surface=row["surface"],
        contact_id=row["contact_id"],
        language=row["language"],
        status=row["status"],
        bot_state=row["bot_state"] or {},
        slots=row["slots"] or {},
        ticket_id=row["ticket_id"],
        assigned_agent_id=row["assigned_agent_id"],
        created=created,
        last_message_at=row["last_message_at"],
    )


async def insert_inbound(
    session: AsyncSession, conversation_id: int, message: InboundMessage, text: str, now: datetime
) -> int | None:
    """Store an inbound message; ``None`` when this platform message was stored before."""
    edit_of_id = None
    if message.edit_of_external_id is not None:
        edit_of_id = await inbound_id(session, message.channel, message.edit_of_external_id)
    return await session.scalar(
        insert_ignoring_conflicts(session.get_bind().dialect.name, Message)
        .values(
            conversation_id=conversation_id,
            channel=message.channel,
            direction=Direction.IN.value,
            author=Author.CUSTOMER.value,
            text=text,
            action=message.action,
            buttons=[],
            attachments=[_attachment(a) for a in message.attachments],
            external_id=message.external_id,
            reply_to_external_id=message.reply_to_external_id,
            edit_of_id=edit_of_id,
            internal=False,
            raw=dict(message.raw) if message.raw is not None else None,
            sent_at=message.sent_at,
            created_at=now,
        )
        .returning(Message.id)
    )


def _attachment(attachment: Any) -> dict[str, Any]:
    return {
        "kind": attachment.kind,
        "file_id": attachment.file_id,
        "name": attachment.name,
        "mime_type": attachment.mime_type,
        "size": attachment.size,
    }


async def inbound_id(session: AsyncSession, channel: str, external_id: str) -> int | None:
    """Our id of an inbound platform message, if stored."""
    return await session.scalar(
        select(Message.id).where(
            Message.channel == channel,
            Message.direction == Direction.IN.value,
            Message.external_id == external_id,
        )
    )


async def replies_to(session: AsyncSession, message_id: int) -> list[StoredReply]:
    """The replies stored for an inbound message, in order."""
    result = await session.execute(
        select(Message.id, Message.text, Message.buttons, Message.created_at)
        .where(Message.in_reply_to_id == message_id, Message.direction == Direction.OUT.value)
        .order_by(Message.id)
    )
    return [_stored(row) for row in result]


def _stored(row: Any) -> StoredReply:
    return StoredReply(
        id=row.id,
        text=row.text,
        buttons=tuple(Button(b["label"], b["action"]) for b in row.buttons or ()),
        created_at=row.created_at,
    )


async def add_replies(
    session: AsyncSession,
    conversation_id: int,
    channel: str,
    replies: Sequence[NewReply],
    now: datetime,
) -> list[StoredReply]:
    """Store outbound messages not tied to an inbound turn (an agent's reply, a survey) and queue them."""
    stored: list[StoredReply] = []
    for reply in replies:
        message_id = await session.scalar(
            table_of(Message)
            .insert()
            .values(
                conversation_id=conversation_id,
                channel=channel,
                direction=Direction.OUT.value,
                author=reply.author.value,
                agent_id=reply.agent_id,
                text=reply.text,
                buttons=[{"label": b.label, "action": b.action} for b in reply.buttons],
                attachments=[],
                internal=False,
                created_at=now,
            )
            .returning(Message.id)
        )
        assert message_id is not None
        stored.append(StoredReply(message_id, reply.text, reply.buttons, now))
    if stored:
        await session.execute(
            table_of(OutboxEntry).insert(),
            [
                {
                    "message_id": s.id,
                    "conversation_id": conversation_id,
                    "channel": channel,
                    "status": "pending",
                    "attempts": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                }
                for s in stored
            ],
        )
    return stored


async def outbound_messages(
    session: AsyncSession, channel: str, thread_key: str, *, after_id: int = 0, limit: int = 500
) -> list[StoredReply]:
    """Bot and agent messages of a thread (not internal notes), oldest first."""
    result = await session.execute(
        select(Message.id, Message.text, Message.buttons, Message.created_at)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(
            Conversation.channel == channel,
            Conversation.thread_key == thread_key,
            Message.direction == Direction.OUT.value,
            Message.internal.is_(False),
            Message.id > after_id,
        )
        .order_by(Message.id)
        .limit(limit)
    )
    return [_stored(row) for row in result]

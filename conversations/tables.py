"""The stored conversation model: SQLAlchemy 2 tables shared by SQLite and PostgreSQL.

Everything a channel, the engine, an agent or a report needs lives here: contacts and
their channel identities, conversations, messages, tickets with their audit trail,
surveys, the outbox and agents. JSON columns hold channel-specific or engine-specific
state so the schema stays the same for every channel.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only auto-increments INTEGER PRIMARY KEY, PostgreSQL wants BIGINT for growth.
Id = BigInteger().with_variant(Integer(), "sqlite")
Json = JSON()


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite keeps no offset, so we add it back)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Convert to UTC; SQLite stores it without an offset."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Mark values read back as UTC."""
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    """Declarative base with a stable constraint naming scheme for migrations."""

    metadata = MetaData(naming_convention=NAMING)


class Contact(Base):
    """A person, whatever channels they write on."""

    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    display_name: Mapped[str | None] = mapped_column(String(200))
    language: Mapped[str | None] = mapped_column(String(8))
    email: Mapped[str | None] = mapped_column(String(320))
    surveys_opt_out: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)


class Identity(Base):
    """A contact's account on one channel (Telegram user id, Discord user, X handle, address)."""

    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"), nullable=False, index=True)
    channel: Mapped[str] = mapped_column(String(32), nullable=False)
    external_id: Mapped[str] = mapped_column(String(255), nullable=False)
    handle: Mapped[str | None] = mapped_column(String(255))
    display_name: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)


class Agent(Base):
    """A support agent or social-team member who signs in to the console."""

    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), nullable=False, unique=True)
    display_name: Mapped[str] = mapped_column(String(200), nullable=False)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), nullable=False, default="agent")
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    # Console sign-in lock-out, shared by every web process.
    failed_logins: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)


class ConversationRead(Base):
    """How far an agent has read a conversation (unread markers in the console inbox)."""

    __tablename__ = "conversation_reads"

    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"), primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), primary_key=True)
    last_message_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    read_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)


class Conversation(Base):
    """One thread on one channel: a chat, a DM channel, a tweet conversation, an e-mail thread."""

    __tablename__ = "conversations"
    __table_args__ = (
        UniqueConstraint("channel", "thread_key"),
        Index("ix_conversations_status_last", "status", "last_message_at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    channel: Mapped[str] = mapped_column(String(32), nullable=False)
    thread_key: Mapped[str] = mapped_column(String(255), nullable=False)
    surface: Mapped[str] = mapped_column(String(8), nullable=False, default="private")
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"), nullable=False, index=True)
    language: Mapped[str | None] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="bot")
    bot_state: Mapped[dict[str, Any]] = mapped_column(Json, nullable=False, default=dict)
    slots: Mapped[dict[str, Any]] = mapped_column(Json, nullable=False, default=dict)
    assigned_agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", use_alter=True))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)
    last_message_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)


class Message(Base):
    """A message in a conversation, in either direction.

    Inbound messages are unique on (channel, direction, external_id): a redelivered
    platform message hits the constraint instead of being stored twice.
    """

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("channel", "direction", "external_id"),
        Index("ix_messages_conversation_id", "conversation_id", "id"),
        Index("ix_messages_in_reply_to", "in_reply_to_id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), nullable=False)
    channel: Mapped[str] = mapped_column(String(32), nullable=False)
    direction: Mapped[str] = mapped_column(String(3), nullable=False)
    author: Mapped[str] = mapped_column(String(16), nullable=False)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    text: Mapped[str] = mapped_column(Text, nullable=False, default="")
    action: Mapped[str | None] = mapped_column(String(255))
    buttons: Mapped[list[dict[str, str]]] = mapped_column(Json, nullable=False, default=list)
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(Json, nullable=False, default=list)
    external_id: Mapped[str | None] = mapped_column(String(255))
    reply_to_external_id: Mapped[str | None] = mapped_column(String(255))
    in_reply_to_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    edit_of_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    internal: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    raw: Mapped[dict[str, Any] | None] = mapped_column(Json)
    # The knowledge-base topic a bot reply answers (reports, and the X review policy).
    topic: Mapped[str | None] = mapped_column(String(128))
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)


class Ticket(Base):
    """A support case with a human-friendly number, routed to agents."""

    __tablename__ = "tickets"
    __table_args__ = (Index("ix_tickets_status_priority", "status", "priority"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    number: Mapped[int] = mapped_column(Integer, nullable=False, unique=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), nullable=False, index=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"), nullable=False, index=True)
    subject: Mapped[str] = mapped_column(String(300), nullable=False)
    category: Mapped[str | None] = mapped_column(String(64))
    priority: Mapped[str] = mapped_column(String(8), nullable=False, default="normal")
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="new")
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    details: Mapped[dict[str, Any]] = mapped_column(Json, nullable=False, default=dict)
    sla_due_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    first_response_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    solved_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)


class TicketEvent(Base):
    """One entry of a ticket's audit trail: who did what, when."""

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    actor: Mapped[str] = mapped_column(String(64), nullable=False)
    data: Mapped[dict[str, Any]] = mapped_column(Json, nullable=False, default=dict)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)


class Survey(Base):
    """The satisfaction survey of one solved ticket, sent on the customer's channel."""

    __tablename__ = "surveys"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), nullable=False, unique=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), nullable=False)
    channel: Mapped[str] = mapped_column(String(32), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="scheduled")
    token: Mapped[str | None] = mapped_column(String(128), unique=True)
    due_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    rating: Mapped[int | None] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)


class OutboxEntry(Base):
    """A pending delivery of one outbound message, retried with backoff until the platform accepts it."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "status", "next_attempt_at"),
        Index("ix_outbox_conversation", "conversation_id", "status"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"), nullable=False, unique=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), nullable=False)
    channel: Mapped[str] = mapped_column(String(32), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="pending")
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)
    claimed_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    external_id: Mapped[str | None] = mapped_column(String(255))
    # Public replies a channel holds for review (status "held") record who let them out.
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class Counter(Base):
    """Named monotonic counters (ticket numbers) that work the same on every database."""

    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, nullable=False)


class ChannelState(Base):
    """Durable cursors a channel keeps between runs (X ``since_id``, IMAP UIDVALIDITY and last UID)."""

    __tablename__ = "channel_state"

    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    value: Mapped[str] = mapped_column(Text, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)


class Job(Base):
    """Durable work for later: open a ticket a turn asked for, send a survey when it is due.

    A job is written in the same transaction as what caused it, so it is never lost, and
    claimed with a lease like the outbox. ``dedupe_key`` makes "once per ticket" jobs unique.
    """

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_due", "status", "due_at"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id"), index=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(Json, nullable=False, default=dict)
    dedupe_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="pending")
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    due_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)
    claimed_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)
    done_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


def table_of(model: type[Base]) -> Table:
    """The Core table behind a model, for multi-row Core statements."""
    return cast(Table, model.__table__)

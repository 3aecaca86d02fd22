"""The mention queue: public replies a channel held for the social team to approve, edit or discard.

A channel that publishes in front of everyone (X mentions) raises
:class:`~core.channels.HeldForReview` from ``send``; the dispatcher then marks the outbox
row ``held``. This service lists those drafts beside the post they answer, and lets a
person let one out (optionally edited: the stored message text changes too, so the
transcript shows what was really posted) or discard it. Approving puts the row back to
``pending`` with ``reviewed_by_id`` set, which the dispatcher passes on as
``metadata["approved"]``; the channel then posts it.

Every change is one conditional UPDATE on ``status = 'held'``, so two people acting on the
same draft cannot both win: the second gets :class:`DraftAlreadyHandled`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from conversations.database import Database
from conversations.outbox import DISCARDED, HELD, PENDING
from conversations.tables import Agent, Conversation, Identity, Message, OutboxEntry
from core.pipeline import utcnow

# A channel may record who wrote an inbound post under this key of the message's ``raw``
# payload: on a public thread several people can write in the same conversation, so the
# conversation's contact is only the fallback.
AUTHOR_HANDLE_KEY = "author_handle"
MAX_TEXT = 10_000


class MentionQueueError(Exception):
    """A mention-queue action could not be done."""


class DraftNotFound(MentionQueueError, LookupError):
    """No outbox entry has that id."""


class DraftAlreadyHandled(MentionQueueError):
    """The entry is no longer held: someone approved or discarded it, or it was never held."""


class InvalidDraft(MentionQueueError, ValueError):
    """The edited text or the reviewing agent is not acceptable."""


@dataclass(frozen=True, slots=True)
class Draft:
    """A held public reply awaiting the social team.

    Attributes:
        outbox_id: The outbox entry to approve or discard.
        message_id: Our id of the stored reply.
        conversation_id: The conversation it belongs to.
        channel: Channel name, e.g. ``"x"``.
        thread_key: The platform thread (the tweet's conversation).
        text: The drafted reply.
        topic: The answer's topic (FAQ intent), if the engine set one.
        created_at: When the reply was drafted.
        mention_text: The public post it answers.
        mention_author: Handle of that post's author, if known.
        mention_external_id: The platform id of that post.

    """

    outbox_id: int
    message_id: int
    conversation_id: int
    channel: str
    thread_key: str
    text: str
    topic: str | None
    created_at: datetime
    mention_text: str
    mention_author: str | None
    mention_external_id: str | None


class MentionQueue:
    """Lists, approves and discards held public replies.

    Args:
        db: The store.
        on_queued: Called after an approval commits (wakes the dispatcher).

    """

    def __init__(self, db: Database, on_queued: Callable[[], None] | None = None) -> None:
        self._db = db
        self._on_queued = on_queued

    async def drafts(self, limit: int = 100) -> list[Draft]:
        """The held replies, oldest first."""
        mention = aliased(Message)
        query = (
            select(
                OutboxEntry.id.label("outbox_id"),
                Message.id.label("message_id"),
                Message.conversation_id,
                Conversation.channel,
                Conversation.thread_key,
                Message.text,
                Message.topic,
                Message.created_at,
                Message.reply_to_external_id,
                mention.text.label("mention_text"),
                mention.external_id.label("mention_external_id"),
                mention.raw.label("mention_raw"),
                Identity.handle.label("contact_handle"),
            )
            .join(Message, Message.id == OutboxEntry.message_id)
            .join(Conversation, Conversation.id == OutboxEntry.conversation_id)
            .outerjoin(mention, mention.id == Message.in_reply_to_id)
            .outerjoin(
                Identity,
                (Identity.contact_id == Conversation.contact_id) & (Identity.channel == Conversation.channel),
            )
            .where(OutboxEntry.status == HELD)
            .order_by(OutboxEntry.id)
            .limit(limit)
        )
        async with self._db.reader() as session:
            rows = (await session.execute(query)).all()
        drafts: dict[int, Draft] = {}
        for row in rows:
            drafts.setdefault(row.outbox_id, _draft(row))
        return list(drafts.values())

    async def approve(self, outbox_id: int, agent_id: int, text: str | None = None) -> None:
        """Let a held reply out, optionally edited; the dispatcher posts it next.

        Raises:
            DraftNotFound: No such outbox entry.
            DraftAlreadyHandled: It is not held (any more).
            InvalidDraft: The edited text is empty or too long, or the agent is unknown.

        """
        edited = None if text is None else text.strip()
        if edited is not None and not edited:
            raise InvalidDraft("the edited reply is empty")
        if edited is not None and len(edited) > MAX_TEXT:
            raise InvalidDraft(f"the edited reply is longer than {MAX_TEXT} characters")
        now = utcnow()
        async with self._db.transaction() as session:
            await _check_agent(session, agent_id)
            message_id = await session.scalar(
                update(OutboxEntry)
                .where(OutboxEntry.id == outbox_id, OutboxEntry.status == HELD)
                .values(
                    status=PENDING,
                    reviewed_by_id=agent_id,
                    reviewed_at=now,
                    next_attempt_at=now,
                    claimed_until=None,
                    last_error=None,
                )
                .returning(OutboxEntry.message_id)
            )
            if message_id is None:
                await _not_held(session, outbox_id)
            if edited is not None:
                await session.execute(update(Message).where(Message.id == message_id).values(text=edited))
        if self._on_queued is not None:
            self._on_queued()

    async def discard(self, outbox_id: int, agent_id: int) -> None:
        """Drop a held reply for good: it is never posted.

        Raises:
            DraftNotFound: No such outbox entry.
            DraftAlreadyHandled: It is not held (any more).
            InvalidDraft: The agent is unknown.

        """
        async with self._db.transaction() as session:
            await _check_agent(session, agent_id)
            found = await session.scalar(
                update(OutboxEntry)
                .where(OutboxEntry.id == outbox_id, OutboxEntry.status == HELD)
                .values(status=DISCARDED, reviewed_by_id=agent_id, reviewed_at=utcnow(), claimed_until=None)
                .returning(OutboxEntry.id)
            )
            if found is None:
                await _not_held(session, outbox_id)


async def _check_agent(session: AsyncSession, agent_id: int) -> None:
    active = await session.scalar(select(Agent.active).where(Agent.id == agent_id))
    if not active:
        raise InvalidDraft(f"no active agent {agent_id}")


async def _not_held(session: AsyncSession, outbox_id: int) -> None:
    status = await session.scalar(select(OutboxEntry.status).where(OutboxEntry.id == outbox_id))
    if status is None:
        raise DraftNotFound(f"no outbox entry {outbox_id}")
    raise DraftAlreadyHandled(f"outbox entry {outbox_id} is {status}, not held")


def _draft(row: Any) -> Draft:
    raw = row.mention_raw if isinstance(row.mention_raw, dict) else {}
    author = raw.get(AUTHOR_HANDLE_KEY)
    return Draft(
        outbox_id=row.outbox_id,
        message_id=row.message_id,
        conversation_id=row.conversation_id,
        channel=row.channel,
        thread_key=row.thread_key,
        text=row.text,
        topic=row.topic,
        created_at=row.created_at,
        mention_text=row.mention_text or "",
        mention_author=author if isinstance(author, str) else row.contact_handle,
        mention_external_id=row.mention_external_id or row.reply_to_external_id,
    )

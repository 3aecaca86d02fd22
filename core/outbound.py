"""Messages that are not answers to a turn: an agent's reply, a survey, a reminder.

They are stored and queued in the outbox in one transaction, then the dispatcher is woken;
the customer receives them on the conversation's own channel.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import select

from conversations import repository as repo
from conversations.database import Database
from conversations.tables import Conversation
from conversations.values import Author, Button
from core.pipeline import utcnow


class UnknownConversation(LookupError):
    """No conversation has that id."""


class Outbound:
    """Queues messages to customers.

    Args:
        db: The store.
        on_queued: Called after each commit (wakes the dispatcher).

    """

    def __init__(self, db: Database, on_queued: Callable[[], None] | None = None) -> None:
        self._db = db
        self._on_queued = on_queued

    async def send(
        self,
        conversation_id: int,
        text: str,
        *,
        author: Author = Author.AGENT,
        agent_id: int | None = None,
        buttons: Sequence[Button] = (),
    ) -> int:
        """Store a message for the customer and queue its delivery; returns its id.

        Raises:
            UnknownConversation: ``conversation_id`` does not exist.

        """
        async with self._db.transaction() as session:
            channel = await session.scalar(
                select(Conversation.channel).where(Conversation.id == conversation_id)
            )
            if channel is None:
                raise UnknownConversation(f"no conversation {conversation_id}")
            stored = await repo.add_replies(
                session,
                conversation_id,
                channel,
                [repo.NewReply(text, tuple(buttons), author, agent_id)],
                utcnow(),
            )
        if self._on_queued is not None:
            self._on_queued()
        return stored[0].id

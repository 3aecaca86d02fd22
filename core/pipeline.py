"""The inbound pipeline: store, decide and queue replies in one transaction, exactly once.

For each inbound message: the sender's contact and the conversation are found or created,
the message is inserted on its unique (channel, platform id) key, the engine decides, and
the replies are stored with their outbox entries, all in one transaction. A redelivered
message hits the unique key and gets the replies stored the first time. Messages of one
conversation are handled one at a time, in arrival order; different conversations run
concurrently.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from conversations import repository as repo
from conversations.database import Database
from conversations.values import InboundMessage
from core.channels import TurnReply, TurnResult
from core.engine.base import Engine, Turn
from core.faults import FaultPoints
from core.locks import KeyedLocks

log = logging.getLogger(__name__)


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


class Pipeline:
    """Implements the channels' :class:`~core.channels.Inbox`.

    Args:
        db: The store.
        engine: Decides the replies.
        on_committed: Called after each commit that queued replies (wakes the dispatcher).
        faults: Crash points for fault-injection tests.
        redact: Turns raw customer text into what may be stored (secrets removed).
    """

    def __init__(
        self,
        db: Database,
        engine: Engine,
        *,
        on_committed: Callable[[], None] | None = None,
        faults: FaultPoints | None = None,
        redact: Callable[[str], str] | None = None,
    ) -> None:
        self._db = db
        self._engine = engine
        self._on_committed = on_committed
        self._faults = faults or FaultPoints()
        self._redact = redact or (lambda text: text)
        self._locks = KeyedLocks()

    async def receive(self, message: InboundMessage) -> TurnResult:
        """Ingest one inbound message; safe to call again with the same message."""
        async with self._locks.hold((message.channel, message.thread_key)):
            result = await self._ingest(message)
        if result.replies and not result.duplicate:
            self._faults.reach("pipeline.after_commit")
            if self._on_committed is not None:
                self._on_committed()
        return result

    async def _ingest(self, message: InboundMessage) -> TurnResult:
        now = utcnow()
        text = self._redact(message.text)
        async with self._db.transaction() as session:
            contact_id = await repo.contact_for(session, message, now)
            conversation = await repo.conversation_for(session, message, contact_id, now)
            message_id = await repo.insert_inbound(session, conversation.id, message, text, now)
            if message_id is None:
                original = await repo.inbound_id(session, message.channel, message.external_id)
                assert original is not None
                replies = await repo.replies_to(session, original)
                log.info("duplicate %s message %s ignored", message.channel, message.external_id)
                return TurnResult(original, conversation.id, True, _turn_replies(replies))
            self._faults.reach("pipeline.after_insert")
            decision = await self._engine.respond(Turn(message, text, conversation, message_id), session)
            stored = await repo.add_replies(
                session,
                conversation,
                [repo.NewReply(r.text, r.buttons) for r in decision.replies],
                now,
                in_reply_to_id=message_id,
                reply_to_external_id=message.external_id,
            )
            await repo.update_conversation(session, conversation.id, now, **decision.changes())
            self._faults.reach("pipeline.before_commit")
        return TurnResult(message_id, conversation.id, False, _turn_replies(stored))


def _turn_replies(replies: list[repo.StoredReply]) -> tuple[TurnReply, ...]:
    return tuple(TurnReply(r.id, r.text, tuple((b.label, b.action) for b in r.buttons)) for r in replies)

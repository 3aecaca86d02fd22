"""The inbound pipeline: store, decide and queue replies in one transaction, exactly once.

For each inbound message the conversation's state is taken from the cache (or loaded, or
created on a first message), the engine decides, and the inbound message, the replies with
their outbox entries and the new state are committed together by the group-commit writer.
The message is inserted on its unique (channel, platform id) key: a redelivery stores
nothing and gets the replies stored the first time. Messages of one conversation are
handled one at a time, in arrival order; different conversations run concurrently.

Admission is bounded: at most ``max_in_flight`` turns run at once and at most
``max_waiting`` more wait for a slot, first come first served; beyond that a message is
refused at once with :class:`~conversations.errors.StoreBusy` (a channel answers "send it
again", HTTP 503 with ``Retry-After``), so a burst costs bounded memory and connections.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import random
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from conversations import repository as repo
from conversations.database import Database
from conversations.errors import StoreBusy
from conversations.jobs import NewJob
from conversations.repository import ConversationRecord
from conversations.turns import ReplyWrite, TurnWrite, TurnWriter
from conversations.values import InboundMessage, Sender, Surface
from core import metrics
from core.abuse import InboundThrottle, Throttled, mark_throttled, notice, notice_language
from core.channels import TurnReply, TurnResult
from core.conversation_cache import LruCache
from core.engine.base import Decision, Engine, Turn
from core.faults import FaultPoints
from core.locks import KeyedLocks
from core.logs import conversation_context
from core.safety import Redaction
from core.safety import redact as redact_secrets
from core.safety.links import defang_links

log = logging.getLogger(__name__)
# Strings shorter than this cannot hold a secret worth redacting (the shortest, a 2FA code
# with its context, is longer); skipping them keeps redacting a payload cheap.
MIN_SECRET_CHARS = 6
MAX_RAW_DEPTH = 32
# Attempts to decide a turn on a conversation that other processes keep changing.
MAX_DECISIONS = 30
# The sizes of the contact and identity columns a sender's name and handle are stored in.
MAX_NAME_CHARS = 200
MAX_HANDLE_CHARS = 255


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


def storable(text: str) -> str:
    """Text every database accepts: NUL bytes and lone surrogates become U+FFFD."""
    if "\x00" in text:
        text = text.replace("\x00", "\ufffd")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "replace").decode("utf-8").replace("?", "\ufffd")
    return text


def storable_sender(sender: Sender) -> Sender:
    """The sender with a name and handle every database accepts (cleaned, cut to the columns' sizes)."""
    name = storable(sender.display_name)[:MAX_NAME_CHARS] if sender.display_name else sender.display_name
    handle = storable(sender.handle)[:MAX_HANDLE_CHARS] if sender.handle else sender.handle
    if name == sender.display_name and handle == sender.handle:
        return sender
    return dataclasses.replace(sender, display_name=name, handle=handle)


class Pipeline:
    """Implements the channels' :class:`~core.channels.Inbox`.

    Args:
        db: The store.
        engine: Decides the replies.
        on_committed: Called after each commit that queued replies (wakes the dispatcher).
        faults: Crash points for fault-injection tests.
        redact: Removes secrets from customer text before anything stores or shows it
            (seed phrases, private keys, passwords, one-time codes).
        cache_size: Conversations whose state is kept in memory.
        answering_channels: Channels that deliver a turn's replies in their response to
            the inbound request (the web chat); their replies are stored as sent.
        on_jobs: Called after a commit that queued jobs (wakes the job runner).
        link_allow_list: Hosts bot replies may link to; any other link in a reply (customer
            text repeated back, say) is made unclickable. ``None`` leaves replies as they are.
        max_in_flight: Turns decided and written at once.
        max_waiting: Messages that may wait for one of those slots; more are refused.
        throttle: Per-sender flood limit: a message over it is stored but not answered.
            ``None``: no limit.

    """

    def __init__(
        self,
        db: Database,
        engine: Engine,
        *,
        on_committed: Callable[[], None] | None = None,
        faults: FaultPoints | None = None,
        redact: Callable[[str], Redaction] = redact_secrets,
        cache_size: int = 50_000,
        answering_channels: frozenset[str] = frozenset(),
        on_jobs: Callable[[], None] | None = None,
        link_allow_list: Sequence[str] | None = None,
        max_in_flight: int = 256,
        max_waiting: int = 1000,
        throttle: InboundThrottle | None = None,
    ) -> None:
        self._db = db
        self._engine = engine
        self._on_committed = on_committed
        self._faults = faults or FaultPoints()
        self._redact = redact
        self._locks = KeyedLocks()
        self._writer = TurnWriter(db, before_commit=lambda: self._faults.reach("pipeline.before_commit"))
        self._conversations: LruCache[ConversationRecord] = LruCache(cache_size)
        self._answering = answering_channels
        self._on_jobs = on_jobs
        self._link_allow_list = link_allow_list
        # asyncio.Semaphore wakes its waiters in order: the longest-waiting message goes first.
        self._slots = asyncio.Semaphore(max_in_flight)
        self._max_waiting = max_waiting
        self._throttle = throttle
        self.waiting = 0
        self.in_flight = 0

    async def receive(self, message: InboundMessage) -> TurnResult:
        """Ingest one inbound message; safe to call again with the same message.

        Raises:
            StoreBusy: Too many messages are waiting already; nothing was stored.
            StoreUnavailable: The database cannot be reached; nothing was stored.

        """
        if self._slots.locked():
            if self.waiting >= self._max_waiting:
                metrics.REFUSED_BUSY.labels(message.channel).inc()
                raise StoreBusy(f"{self.waiting} messages are waiting to be stored; send it again shortly")
            self.waiting += 1
            try:
                await self._slots.acquire()
            finally:
                self.waiting -= 1
        else:
            await self._slots.acquire()
        self.in_flight += 1
        try:
            return await self._receive(message)
        finally:
            self.in_flight -= 1
            self._slots.release()

    async def _receive(self, message: InboundMessage) -> TurnResult:
        key = (message.channel, message.thread_key)
        started = time.perf_counter()
        async with self._locks.hold(key):
            result = await self._ingest(message, key)
        metrics.TURN_SECONDS.observe(time.perf_counter() - started)
        (metrics.DUPLICATES_IN if result.duplicate else metrics.MESSAGES_IN).labels(message.channel).inc()
        if result.replies and not result.duplicate and message.channel not in self._answering:
            self._faults.reach("pipeline.after_commit")
            if self._on_committed is not None:
                self._on_committed()
        if result.jobs and not result.duplicate and self._on_jobs is not None:
            self._on_jobs()
        return result

    def _redact_json(self, value: Any, depth: int = 0) -> Any:
        """Every string of a JSON-like payload with its secrets replaced."""
        if isinstance(value, str):
            return self._redact(storable(value)).text if len(value) >= MIN_SECRET_CHARS else storable(value)
        if depth > MAX_RAW_DEPTH:
            return None
        if isinstance(value, Mapping):
            return {str(k): self._redact_json(v, depth + 1) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self._redact_json(v, depth + 1) for v in value]
        return value

    def _safe_links(self, text: str) -> str:
        allowed = self._link_allow_list
        return text if allowed is None else defang_links(text, allowed)

    def forget(self, channel: str, thread_key: str) -> None:
        """Drop a conversation's cached state (someone else changed it, e.g. an agent)."""
        self._conversations.discard((channel, thread_key))

    async def _ingest(self, message: InboundMessage, key: tuple[str, str]) -> TurnResult:
        now = utcnow()
        message = dataclasses.replace(message, sender=storable_sender(message.sender))
        redaction = self._redact(storable(message.text))
        text = redaction.text
        if message.raw is not None:
            # The platform payload repeats the text (and may carry more: an e-mail's HTML part).
            message = dataclasses.replace(message, raw=self._redact_json(message.raw))
        edit_of_id = None
        if message.edit_of_external_id is not None:
            async with self._db.reader() as session:
                edit_of_id = await repo.inbound_id(session, message.channel, message.edit_of_external_id)
        throttled = await self._throttle.check(message) if self._throttle is not None else None
        if throttled is not None:
            return await self._store_throttled(message, key, text, now, edit_of_id, throttled)
        for attempt in range(MAX_DECISIONS):
            if attempt > 1:
                # Busy conversation in several processes at once: let the other turn commit.
                await asyncio.sleep(random.uniform(0, 0.002 * attempt))
            conversation = self._conversations.get(key) or await self._load(message, now)
            deciding = time.perf_counter()
            with conversation_context(conversation.id):
                decision = await self._engine.respond(Turn(message, text, conversation, redaction.findings))
            metrics.ENGINE_SECONDS.observe(time.perf_counter() - deciding)
            state = {
                "language": conversation.language,
                "status": conversation.status,
                "bot_state": conversation.bot_state,
                "slots": conversation.slots,
                **decision.changes(),
            }
            written = await self._writer.write(
                TurnWrite(
                    conversation_id=conversation.id,
                    message=message,
                    text=text,
                    replies=tuple(
                        ReplyWrite(self._safe_links(r.text), r.buttons, topic=r.topic)
                        for r in decision.replies
                    ),
                    state=state,
                    now=now,
                    edit_of_id=edit_of_id,
                    delivered=message.channel in self._answering,
                    expected=(
                        conversation.status,
                        conversation.ticket_id,
                        conversation.assigned_agent_id,
                        conversation.last_message_at,
                    ),
                    ticket_id=conversation.ticket_id,
                    jobs=_jobs_for(decision, conversation.id, now, state["language"]),
                    redactions=tuple(sorted({f.kind.value for f in redaction.findings})),
                    survey=decision.survey,
                )
            )
            if not written.stale:
                break
            # An agent, or a turn in another process, changed the conversation after the
            # cached state was read: decide again on the stored state.
            self._conversations.discard(key)
        else:
            raise RuntimeError(f"conversation {key} kept changing while a turn was decided")
        if written.message_id is None:
            return await self._duplicate(message, conversation.id)
        written_jobs = decision.ticket is not None or (decision.survey is not None and decision.survey.reopen)
        self._conversations.put(
            key,
            dataclasses.replace(
                conversation,
                created=False,
                language=state["language"],
                status=state["status"],
                bot_state=state["bot_state"],
                slots=state["slots"],
                last_message_at=now,
            ),
        )
        replies = tuple(
            TurnReply(r.id, r.text, tuple((b.label, b.action) for b in r.buttons)) for r in written.replies
        )
        return TurnResult(written.message_id, conversation.id, False, replies, jobs=bool(written_jobs))

    async def _store_throttled(
        self,
        message: InboundMessage,
        key: tuple[str, str],
        text: str,
        now: datetime,
        edit_of_id: int | None,
        throttled: Throttled,
    ) -> TurnResult:
        """Store a message over its sender's flood limit, unanswered but for one notice per window."""
        assert self._throttle is not None
        metrics.THROTTLED_IN.labels(message.channel).inc()
        conversation = self._conversations.get(key)
        if conversation is None:
            # Kept: a flood must not cost a load per message. Its state does not change here.
            conversation = await self._load(message, now)
            self._conversations.put(key, conversation)
        replies: tuple[ReplyWrite, ...] = ()
        # A public notice (an X reply, a group chat) would only add to the noise.
        if throttled.notify and message.surface is Surface.PRIVATE:
            language = notice_language(conversation.language, text, self._throttle.default_language)
            replies = (ReplyWrite(notice(language, throttled.retry_after)),)
        written = await self._writer.write(
            TurnWrite(
                conversation_id=conversation.id,
                message=dataclasses.replace(message, raw=mark_throttled(message.raw, throttled.retry_after)),
                text=text,
                replies=replies,
                state={},
                now=now,
                edit_of_id=edit_of_id,
                delivered=message.channel in self._answering,
                throttled=True,
            )
        )
        if written.message_id is None:
            return await self._duplicate(message, conversation.id)
        if throttled.notify:  # once per window, not once per message of a flood
            log.warning(
                "%s sender %s is over the flood limit: its messages are stored unanswered (next answer in %.0fs)",
                message.channel,
                message.sender.external_id,
                throttled.retry_after,
            )
        stored = tuple(
            TurnReply(r.id, r.text, tuple((b.label, b.action) for b in r.buttons)) for r in written.replies
        )
        return TurnResult(written.message_id, conversation.id, False, stored)

    async def _load(self, message: InboundMessage, now: datetime) -> ConversationRecord:
        return await repo.first_contact(self._db, message, now)

    async def _duplicate(self, message: InboundMessage, conversation_id: int) -> TurnResult:
        async with self._db.reader() as session:
            original = await repo.inbound_id(session, message.channel, message.external_id)
            assert original is not None, "a duplicate's original is committed"
            stored = await repo.replies_to(session, original)
        log.info("duplicate %s message %s: replying as before", message.channel, message.external_id)
        replies = tuple(
            TurnReply(r.id, r.text, tuple((b.label, b.action) for b in r.buttons)) for r in stored
        )
        return TurnResult(original, conversation_id, True, replies)


OPEN_TICKET = "open_ticket"


def _jobs_for(
    decision: Decision, conversation_id: int, now: datetime, language: str | None
) -> tuple[NewJob, ...]:
    ticket = decision.ticket
    if ticket is None:
        return ()
    payload = {
        "subject": ticket.subject,
        "category": ticket.category,
        "details": dict(ticket.details),
        "reason": ticket.reason,
        "priority": ticket.base_priority,
        "language": language,
    }
    return (NewJob(OPEN_TICKET, payload, now, conversation_id=conversation_id),)

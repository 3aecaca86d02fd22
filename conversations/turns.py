"""Group commit of conversation turns.

Each turn (an inbound message, the replies decided for it and the conversation's new
state) is a :class:`TurnWrite`. The :class:`TurnWriter` commits every turn waiting at that
moment in one transaction of a handful of multi-row statements, so the cost of a commit
and of each statement is shared by all concurrent conversations. The inbound message is
inserted on its unique (channel, direction, platform id) key with ``ON CONFLICT DO
NOTHING``: a redelivered message is reported as a duplicate and nothing of it is stored.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import asyncpg
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.engine import Connection

from conversations import jobs, turns_postgres
from conversations.database import Database
from conversations.jobs import NewJob
from conversations.repository import StoredReply, insert_ignoring_conflicts
from conversations.survey_answers import SurveyAnswer, apply_answer
from conversations.tables import Conversation, Message, OutboxEntry, Ticket, TicketEvent, table_of
from conversations.values import Author, Button, Direction, InboundMessage

log = logging.getLogger(__name__)
# Ticket statuses that still take customer messages (core.tickets.transitions.ACTIVE).
ACTIVE_TICKET_STATUSES = ("new", "open", "pending_customer", "on_hold")


@dataclass(frozen=True, slots=True)
class ReplyWrite:
    """An outbound message to store and queue."""

    text: str
    buttons: tuple[Button, ...] = ()
    author: Author = Author.BOT
    topic: str | None = None


@dataclass(frozen=True, slots=True)
class TurnWrite:
    """Everything one turn stores, decided before the transaction opens.

    Attributes:
        conversation_id: The conversation the message belongs to.
        message: The inbound message.
        text: Its text as it may be stored (redacted).
        replies: The replies to store and queue.
        state: The conversation's full new state: language, status, bot_state, slots.
        now: The turn's timestamp.
        edit_of_id: For an edit, our id of the edited message.
        delivered: The channel delivers replies in its response to the inbound request
            (the web chat): the replies are stored as sent, with no delivery to wait for.
        expected: The conversation's (status, ticket id, assigned agent, last message time)
            the engine saw; if the stored ones differ (an agent, or another process, changed
            the conversation since), nothing is written and the turn comes back ``stale``.
        ticket_id: The conversation's ticket: while it is active, the customer's message is
            added to its audit trail (and a ticket waiting on the customer is open again).
        jobs: Work the turn asks for later (open a ticket), stored in the same transaction;
            each payload gets the inbound ``message_id``.
        redactions: Kinds of secrets removed from the message: an active ticket records
            that they were (never what they were).
        survey: The customer's answer to a survey, stored with its first-answer-wins guards.
        throttled: The sender is over their flood limit: the message (and a notice, if any)
            is stored, but the conversation's state, its place in the inbox (last message
            time) and its ticket are left as they are.

    """

    conversation_id: int
    message: InboundMessage
    text: str
    replies: tuple[ReplyWrite, ...]
    state: Mapping[str, Any]
    now: datetime
    edit_of_id: int | None = None
    delivered: bool = False
    expected: tuple[str, int | None, int | None, datetime | None] | None = None
    ticket_id: int | None = None
    jobs: tuple[NewJob, ...] = ()
    redactions: tuple[str, ...] = ()
    survey: SurveyAnswer | None = None
    throttled: bool = False


@dataclass(frozen=True, slots=True)
class TurnWritten:
    """The stored result.

    ``message_id`` is ``None`` when nothing was stored: the message was a duplicate, or
    (``stale``) someone else changed the conversation's handling since the engine decided
    (an agent took it from another process), so the turn must be decided again.
    """

    message_id: int | None
    replies: tuple[StoredReply, ...] = ()
    stale: bool = False


@dataclass(slots=True)
class _Pending:
    write: TurnWrite
    future: asyncio.Future[TurnWritten] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class TurnWriter:
    """Commits turns in groups; :meth:`write` returns once the caller's turn is durable.

    Args:
        db: The store.
        max_batch: The most turns one transaction takes.
        concurrency: Transactions in flight at once. SQLite has one writer, so one; on
            PostgreSQL a new group starts while the previous one commits. Turns of one
            conversation never share or race groups: the pipeline sends one at a time.
        before_commit: Called in the transaction once every row is written (crash tests).

    """

    def __init__(
        self,
        db: Database,
        max_batch: int = 256,
        concurrency: int | None = None,
        before_commit: Callable[[], None] | None = None,
    ) -> None:
        self._db = db
        self._before_commit = before_commit
        self._max_batch = max_batch
        self._concurrency = concurrency or (1 if db.is_sqlite else 2)
        self._queue: list[_Pending] = []
        self._flushers: set[asyncio.Task[None]] = set()

    async def write(self, turn: TurnWrite) -> TurnWritten:
        """Store one turn (with whatever else is waiting) and return its ids."""
        pending = _Pending(turn)
        self._queue.append(pending)
        # A flusher that has left its loop is done in the same step (no await in between),
        # so counting the unfinished ones never misses a queue that nobody will drain.
        self._flushers = {task for task in self._flushers if not task.done()}
        if len(self._flushers) < self._concurrency:
            self._flushers.add(asyncio.create_task(self._flush()))
        return await pending.future

    async def _flush(self) -> None:
        while self._queue:
            batch, self._queue = self._queue[: self._max_batch], self._queue[self._max_batch :]
            try:
                await self._commit(batch)
            except Exception as exc:
                if len(batch) == 1:
                    _settle(batch[0], exc)
                    continue
                # One bad turn must not fail the others: retry each alone to find it.
                log.warning("group commit of %d turns failed (%s); retrying one by one", len(batch), exc)
                for pending in batch:
                    if pending.future.done():  # written by a part of the group that succeeded
                        continue
                    try:
                        await self._commit([pending])
                    except Exception as single:
                        _settle(pending, single)

    async def _commit(self, batch: Sequence[_Pending]) -> None:
        if self._db.is_sqlite:
            simple: Sequence[_Pending] = ()
            other = batch
        else:
            simple = [p for p in batch if turns_postgres.is_simple(p.write)]
            other = [p for p in batch if not turns_postgres.is_simple(p.write)]
        if simple:
            turns = [p.write for p in simple]
            _settle_all(
                simple, await self._db.run_on_driver(lambda driver: self._write_one_statement(driver, turns))
            )
        if other:
            turns = [p.write for p in other]
            _settle_all(other, await self._db.run_write(lambda connection: self._write(connection, turns)))

    async def _write_one_statement(
        self, driver: asyncpg.Connection, turns: Sequence[TurnWrite]
    ) -> list[TurnWritten]:
        arguments = turns_postgres.arguments(turns)
        # One statement commits as it completes: "rows written, not yet committed" is now.
        if self._before_commit is not None:
            self._before_commit()
        found = turns_postgres.stored(await driver.fetch(turns_postgres.STATEMENT, *arguments))
        message_ids = [found.inbound.get(number) for number in range(1, len(turns) + 1)]
        return _written(
            turns, found.stale, message_ids, lambda message_id, _: found.replies.get(message_id, ())
        )

    def _write(self, connection: Connection, turns: Sequence[TurnWrite]) -> list[TurnWritten]:
        results = write_turns(connection, turns)
        if self._before_commit is not None:
            self._before_commit()
        return results


def _settle_all(batch: Sequence[_Pending], results: Sequence[TurnWritten]) -> None:
    for pending, result in zip(batch, results, strict=True):
        if not pending.future.done():
            pending.future.set_result(result)


def _settle(pending: _Pending, exc: BaseException) -> None:
    if not pending.future.done():
        pending.future.set_exception(exc)


def write_turns(session: Connection, all_turns: Sequence[TurnWrite]) -> list[TurnWritten]:
    """Store turns in the connection's transaction with multi-row statements."""
    stale = _stale(session, all_turns)
    turns = [t for t in all_turns if t.conversation_id not in stale]
    if not turns:
        return [TurnWritten(None, stale=True) for _ in all_turns]
    inserted = session.execute(
        insert_ignoring_conflicts(session.dialect.name, Message).returning(
            table_of(Message).c.channel, table_of(Message).c.external_id, table_of(Message).c.id
        ),
        [_inbound_row(t) for t in turns],
    )
    ids = {(row.channel, row.external_id): row.id for row in inserted}
    fresh = [(t, ids[(t.message.channel, t.message.external_id)]) for t in turns if _key(t) in ids]
    reply_rows = [_reply_row(t, message_id, r) for t, message_id in fresh for r in t.replies]
    reply_ids: list[int] = []
    if reply_rows:
        returned = session.execute(
            insert(table_of(Message)).returning(table_of(Message).c.id, sort_by_parameter_order=True),
            reply_rows,
        )
        reply_ids = [row.id for row in returned]
        session.execute(
            insert(table_of(OutboxEntry)),
            [
                {
                    "message_id": reply_id,
                    "conversation_id": row["conversation_id"],
                    "channel": row["channel"],
                    "status": "sent" if row["sent_at"] else "pending",
                    "attempts": 1 if row["sent_at"] else 0,
                    "next_attempt_at": row["created_at"],
                    "created_at": row["created_at"],
                    "sent_at": row["sent_at"],
                }
                for reply_id, row in zip(reply_ids, reply_rows, strict=True)
            ],
        )
    answered = [(t, message_id) for t, message_id in fresh if not t.throttled]
    if answered:
        session.execute(
            update(table_of(Conversation))
            .where(table_of(Conversation).c.id == bindparam("cid"))
            .values(
                language=bindparam("language"),
                status=bindparam("status"),
                bot_state=bindparam("bot_state", type_=Conversation.bot_state.type),
                slots=bindparam("slots", type_=Conversation.slots.type),
                last_message_at=bindparam("now", type_=Conversation.last_message_at.type),
            ),
            [
                {
                    "cid": t.conversation_id,
                    "language": t.state.get("language"),
                    "status": t.state.get("status", "bot"),
                    "bot_state": dict(t.state.get("bot_state") or {}),
                    "slots": dict(t.state.get("slots") or {}),
                    "now": t.now,
                }
                for t, _ in answered
            ],
        )
    _add_to_tickets(session, answered)
    for t, _ in answered:
        if t.survey is not None:
            apply_answer(session, t.conversation_id, t.survey, t.now)
    job_rows = [
        dataclasses.replace(job, payload={**job.payload, "message_id": message_id})
        for t, message_id in fresh
        for job in t.jobs
    ]
    if job_rows:
        jobs.enqueue_sync(session, job_rows, turns[0].now)
    taken = iter(reply_ids)  # the replies' ids, in the order of the fresh turns
    message_ids = [ids.get(_key(turn)) for turn in all_turns]
    return _written(all_turns, stale, message_ids, lambda _, turn: [next(taken) for _ in turn.replies])


def _written(
    turns: Sequence[TurnWrite],
    stale: Collection[int],
    message_ids: Sequence[int | None],
    reply_ids: Callable[[int, TurnWrite], Sequence[int]],
) -> list[TurnWritten]:
    """Each turn's result: stale, a duplicate (no message id), or its message and replies' ids.

    ``reply_ids`` is asked once per stored turn, in order, for the ids of its replies.
    """
    results: list[TurnWritten] = []
    for turn, message_id in zip(turns, message_ids, strict=True):
        if turn.conversation_id in stale:
            results.append(TurnWritten(None, stale=True))
        elif message_id is None:
            results.append(TurnWritten(None))
        else:
            replies = zip(reply_ids(message_id, turn), turn.replies, strict=True)
            results.append(
                TurnWritten(
                    message_id, tuple(StoredReply(i, r.text, r.buttons, turn.now) for i, r in replies)
                )
            )
    return results


def _add_to_tickets(session: Connection, fresh: Sequence[tuple[TurnWrite, int]]) -> None:
    """Add customer messages to their conversation's active ticket."""
    linked = [(t, message_id) for t, message_id in fresh if t.ticket_id is not None]
    if not linked:
        return
    tickets = table_of(Ticket)
    rows = session.execute(
        select(tickets.c.id, tickets.c.status).where(tickets.c.id.in_({t.ticket_id for t, _ in linked}))
    )
    status = {row.id: row.status for row in rows}
    active = [(t, m) for t, m in linked if status.get(t.ticket_id) in ACTIVE_TICKET_STATUSES]
    if not active:
        return
    session.execute(
        insert(table_of(TicketEvent)),
        [
            {
                "ticket_id": t.ticket_id,
                "kind": "customer_message",
                "actor": "customer",
                "data": {"message_id": message_id},
                "created_at": t.now,
            }
            for t, message_id in active
        ]
        + [
            {
                "ticket_id": t.ticket_id,
                "kind": "redaction",
                "actor": "bot",
                "data": {"message_id": message_id, "kinds": list(t.redactions)},
                "created_at": t.now,
            }
            for t, message_id in active
            if t.redactions
        ],
    )
    answered = {
        t.ticket_id
        for t, _ in active
        if t.ticket_id is not None and status[t.ticket_id] == "pending_customer"
    }
    if answered:
        now = active[0][0].now
        session.execute(
            update(tickets)
            .where(tickets.c.id.in_(answered), tickets.c.status == "pending_customer")
            .values(status="open", updated_at=now)
        )
        session.execute(
            insert(table_of(TicketEvent)),
            [
                {
                    "ticket_id": ticket_id,
                    "kind": "status_changed",
                    "actor": "customer",
                    "data": {"from": "pending_customer", "to": "open", "reason": "customer replied"},
                    "created_at": now,
                }
                for ticket_id in sorted(answered)
            ],
        )


def _stale(session: Connection, turns: Sequence[TurnWrite]) -> set[int]:
    """Conversations whose handling changed since their turn was decided."""
    expected = {t.conversation_id: t.expected for t in turns if t.expected is not None}
    if not expected:
        return set()
    table = table_of(Conversation)
    rows = session.execute(
        select(
            table.c.id, table.c.status, table.c.ticket_id, table.c.assigned_agent_id, table.c.last_message_at
        )
        .where(table.c.id.in_(expected))
        .order_by(table.c.id)
        # Locked until the turn commits: a turn of the same conversation in another process
        # waits here, then sees this turn's last_message_at and is decided again.
        .with_for_update()
    )
    current = {
        row.id: (row.status, row.ticket_id, row.assigned_agent_id, row.last_message_at) for row in rows
    }
    return {cid for cid, seen in expected.items() if current.get(cid, seen) != seen}


def _key(turn: TurnWrite) -> tuple[str, str]:
    return (turn.message.channel, turn.message.external_id)


def _inbound_row(turn: TurnWrite) -> dict[str, Any]:
    message = turn.message
    return {
        "conversation_id": turn.conversation_id,
        "channel": message.channel,
        "direction": Direction.IN.value,
        "author": Author.CUSTOMER.value,
        "agent_id": None,
        "text": turn.text,
        "action": message.action,
        "buttons": [],
        "attachments": [
            {"kind": a.kind, "file_id": a.file_id, "name": a.name, "mime_type": a.mime_type, "size": a.size}
            for a in message.attachments
        ],
        "external_id": message.external_id,
        "reply_to_external_id": message.reply_to_external_id,
        "in_reply_to_id": None,
        "edit_of_id": turn.edit_of_id,
        "internal": False,
        "raw": dict(message.raw) if message.raw is not None else None,
        "topic": None,
        "sent_at": message.sent_at,
        "created_at": turn.now,
    }


def _reply_row(turn: TurnWrite, message_id: int, reply: ReplyWrite) -> dict[str, Any]:
    return {
        "conversation_id": turn.conversation_id,
        "channel": turn.message.channel,
        "direction": Direction.OUT.value,
        "author": reply.author.value,
        "agent_id": None,
        "text": reply.text,
        "action": None,
        "buttons": [{"label": b.label, "action": b.action} for b in reply.buttons],
        "attachments": [],
        "external_id": None,
        "reply_to_external_id": turn.message.external_id,
        "in_reply_to_id": message_id,
        "edit_of_id": None,
        "internal": False,
        "raw": None,
        "topic": reply.topic,
        "sent_at": turn.now if turn.delivered else None,
        "created_at": turn.now,
    }

"""A group of turns written by one PostgreSQL statement.

The portable group commit (:func:`conversations.turns.write_turns`) runs six or seven
statements inside ``BEGIN`` … ``COMMIT``: check the conversations, insert the inbound
messages, the replies and their outbox entries, update the conversations, queue jobs. Below
saturation a group is often a single turn, so every turn paid those round trips and
SQLAlchemy's cost per statement. Here the same work is one statement of data-modifying
CTEs over arrays (one element per turn, per reply, per job), sent through the bare asyncpg
driver. A single statement is atomic on its own, so it needs no transaction around it, and
it keeps the portable path's guarantees:

* the conversations of turns decided on a known state are locked (``FOR UPDATE``, in id
  order) and compared with what the engine saw; a turn whose conversation changed since
  writes nothing and comes back ``stale``;
* the inbound message is inserted with ``ON CONFLICT DO NOTHING``: a redelivered message
  stores nothing and gets no replies, state change or job;
* replies take ascending ids in the order given (the rows are inserted in that order), so
  a turn's replies come back in order.

Turns that add to a ticket's audit trail or answer a survey are rare and go through the
portable path (:func:`is_simple`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    from conversations.turns import TurnWrite

_TURN_COLUMNS = (
    "cid bigint",
    "channel text",
    "external_id text",
    "text text",
    "action text",
    "attachments text",
    "reply_to text",
    "edit_of_id bigint",
    "raw text",
    "sent_at timestamptz",
    "now timestamptz",
    "delivered boolean",
    "checked boolean",
    "e_status text",
    "e_ticket bigint",
    "e_agent bigint",
    "e_last timestamptz",
    "throttled boolean",
    "language text",
    "status text",
    "bot_state text",
    "slots text",
)
_REPLY_COLUMNS = ("turn bigint", "author text", "text text", "buttons text", "topic text")
_JOB_COLUMNS = (
    "turn bigint",
    "kind text",
    "payload text",
    "due_at timestamptz",
    "conversation_id bigint",
    "ticket_id bigint",
    "dedupe_key text",
)


def _unnest(columns: Sequence[str], first: int, alias: str, ordinal: str) -> str:
    arrays = ", ".join(f"${first + n}::{column.split()[1]}[]" for n, column in enumerate(columns))
    names = ", ".join(column.split()[0] for column in columns)
    return f"unnest({arrays}) WITH ORDINALITY AS {alias}({names}, {ordinal})"


_FIRST_REPLY = 1 + len(_TURN_COLUMNS)
_FIRST_JOB = _FIRST_REPLY + len(_REPLY_COLUMNS)

STATEMENT = f"""
WITH t AS MATERIALIZED (
    SELECT * FROM {_unnest(_TURN_COLUMNS, 1, "t", "i")}
),
locked AS MATERIALIZED (
    -- Locked until the statement commits, in id order: a turn of the same conversation in
    -- another process waits here, then sees this turn's last_message_at. One lookup per
    -- conversation (a locking subquery is never merged into a join): the plan is cached
    -- per connection, and a join planned while the table was small would keep scanning
    -- the whole table as it grows (tests/storage/test_statement_plans.py).
    SELECT l.*
    FROM (SELECT DISTINCT cid FROM t WHERE checked ORDER BY cid) AS k
    CROSS JOIN LATERAL (
        SELECT c.id, c.status, c.ticket_id, c.assigned_agent_id, c.last_message_at
        FROM conversations AS c
        WHERE c.id = k.cid
        FOR UPDATE
    ) AS l
),
stale AS MATERIALIZED (
    SELECT t.cid FROM t JOIN locked AS l ON l.id = t.cid
    WHERE t.checked
      AND (l.status, l.ticket_id, l.assigned_agent_id, l.last_message_at)
          IS DISTINCT FROM (t.e_status, t.e_ticket, t.e_agent, t.e_last)
),
inbound AS (
    INSERT INTO messages (
        conversation_id, channel, direction, author, agent_id, text, action, buttons,
        attachments, external_id, reply_to_external_id, in_reply_to_id, edit_of_id,
        internal, raw, topic, sent_at, created_at
    )
    SELECT cid, channel, 'in', 'customer', NULL, text, action, '[]'::json,
           attachments::json, external_id, reply_to, NULL, edit_of_id,
           false, raw::json, NULL, sent_at, now
    FROM t
    WHERE cid NOT IN (SELECT cid FROM stale)
    ORDER BY i
    ON CONFLICT DO NOTHING
    RETURNING id, channel, external_id
),
fresh AS MATERIALIZED (
    SELECT t.*, inbound.id AS message_id
    FROM t JOIN inbound ON inbound.channel = t.channel AND inbound.external_id = t.external_id
    WHERE t.cid NOT IN (SELECT cid FROM stale)
),
r AS (
    SELECT * FROM {_unnest(_REPLY_COLUMNS, _FIRST_REPLY, "r", "j")}
),
replies AS (
    INSERT INTO messages (
        conversation_id, channel, direction, author, agent_id, text, action, buttons,
        attachments, external_id, reply_to_external_id, in_reply_to_id, edit_of_id,
        internal, raw, topic, sent_at, created_at
    )
    SELECT f.cid, f.channel, 'out', r.author, NULL, r.text, NULL, r.buttons::json,
           '[]'::json, NULL, f.external_id, f.message_id, NULL,
           false, NULL, r.topic, CASE WHEN f.delivered THEN f.now END, f.now
    FROM r JOIN fresh AS f ON f.i = r.turn
    ORDER BY r.j
    RETURNING id, conversation_id, channel, sent_at, created_at, in_reply_to_id
),
queued AS (
    INSERT INTO outbox (
        message_id, conversation_id, channel, status, attempts, next_attempt_at, created_at, sent_at
    )
    SELECT id, conversation_id, channel,
           CASE WHEN sent_at IS NULL THEN 'pending' ELSE 'sent' END,
           CASE WHEN sent_at IS NULL THEN 0 ELSE 1 END,
           created_at, created_at, sent_at
    FROM replies
),
state AS (
    UPDATE conversations AS c
    SET language = f.language, status = f.status, bot_state = f.bot_state::json,
        slots = f.slots::json, last_message_at = f.now
    FROM fresh AS f
    WHERE c.id = f.cid AND NOT f.throttled
),
jobs_in AS (
    INSERT INTO jobs (
        kind, conversation_id, ticket_id, payload, dedupe_key, status, attempts, due_at, created_at
    )
    SELECT q.kind, q.conversation_id, q.ticket_id,
           -- The payload's JSON object (without "message_id") with the message id added as text,
           -- not through jsonb, which refuses some strings json takes (an escaped NUL).
           (CASE WHEN q.payload = '{{}}' THEN '{{' ELSE left(q.payload, -1) || ',' END
            || '"message_id":' || f.message_id || '}}')::json,
           q.dedupe_key, 'pending', 0, q.due_at, f.now
    FROM {_unnest(_JOB_COLUMNS, _FIRST_JOB, "q", "k")} JOIN fresh AS f ON f.i = q.turn
    ORDER BY q.k
    ON CONFLICT DO NOTHING
)
SELECT 'stale' AS kind, NULL::bigint AS turn, cid AS id, NULL::bigint AS reply_to FROM stale
UNION ALL SELECT 'in', i, message_id, NULL FROM fresh
UNION ALL SELECT 'out', NULL, id, in_reply_to_id FROM replies
"""


def is_simple(turn: TurnWrite) -> bool:
    """Whether :data:`STATEMENT` writes this turn (no ticket trail, no survey answer)."""
    return turn.ticket_id is None and turn.survey is None


def arguments(turns: Sequence[TurnWrite]) -> list[list[Any]]:
    """The statement's arrays for ``turns`` (all :func:`is_simple`), in parameter order."""
    columns: list[list[Any]] = [
        [] for _ in range(len(_TURN_COLUMNS) + len(_REPLY_COLUMNS) + len(_JOB_COLUMNS))
    ]
    for number, turn in enumerate(turns, start=1):
        message = turn.message
        expected = turn.expected
        state = turn.state
        row: tuple[Any, ...] = (
            turn.conversation_id,
            message.channel,
            message.external_id,
            turn.text,
            message.action,
            _json(
                [
                    {
                        "kind": a.kind,
                        "file_id": a.file_id,
                        "name": a.name,
                        "mime_type": a.mime_type,
                        "size": a.size,
                    }
                    for a in message.attachments
                ]
            ),
            message.reply_to_external_id,
            turn.edit_of_id,
            _json(dict(message.raw)) if message.raw is not None else None,
            message.sent_at,
            turn.now,
            turn.delivered,
            expected is not None,
            *(expected if expected is not None else (None, None, None, None)),
            turn.throttled,
            state.get("language"),
            state.get("status", "bot"),
            _json(dict(state.get("bot_state") or {})),
            _json(dict(state.get("slots") or {})),
        )
        for column, value in zip(columns, row, strict=False):
            column.append(value)
        for reply in turn.replies:
            reply_row = (
                number,
                reply.author.value,
                reply.text,
                _json([{"label": b.label, "action": b.action} for b in reply.buttons]),
                reply.topic,
            )
            for column, value in zip(columns[_FIRST_REPLY - 1 :], reply_row, strict=False):
                column.append(value)
        for job in turn.jobs:
            job_row = (
                number,
                job.kind,
                _json({key: value for key, value in job.payload.items() if key != "message_id"}),
                job.due_at,
                job.conversation_id,
                job.ticket_id,
                job.dedupe_key,
            )
            for column, value in zip(columns[_FIRST_JOB - 1 :], job_row, strict=False):
                column.append(value)
    return columns


@dataclass(slots=True)
class Stored:
    """What the statement stored, read from its rows.

    Attributes:
        stale: Conversations whose turns wrote nothing (changed since decided).
        inbound: Turn number (from 1, in the order given) → its stored inbound message id.
        replies: Inbound message id → the ids of its replies, ascending: the order given,
            since rows are numbered in the order they are inserted.

    """

    stale: set[int] = field(default_factory=set)
    inbound: dict[int, int] = field(default_factory=dict)
    replies: dict[int, list[int]] = field(default_factory=dict)


def stored(rows: Sequence[Any]) -> Stored:
    """Read the statement's rows (``kind``, ``turn``, ``id``, ``reply_to``)."""
    found = Stored()
    for kind, turn, row_id, reply_to in rows:
        if kind == "stale":
            found.stale.add(row_id)
        elif kind == "in":
            found.inbound[turn] = row_id
        else:
            found.replies.setdefault(reply_to, []).append(row_id)
    for ids in found.replies.values():
        ids.sort()
    return found


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()

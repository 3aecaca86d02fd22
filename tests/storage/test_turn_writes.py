"""The group commit of turns, on SQLite (portable statements) and PostgreSQL (one statement).

The same expectations hold on both stores: what a group of turns stores, in which order,
what a duplicate, a throttled or a stale turn leaves behind, and that a group mixing turns
the one-statement path writes with turns it leaves to the portable path (a ticket's audit
trail) stores each exactly once.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from conversations import repository as repo
from conversations.database import Database
from conversations.jobs import NewJob
from conversations.repository import ConversationRecord
from conversations.tables import Conversation, Job, Message, OutboxEntry, Ticket, TicketEvent
from conversations.turns import ReplyWrite, TurnWrite, TurnWriter
from conversations.values import Attachment, Button, InboundMessage, Sender

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def message(thread: str, n: int, **fields: object) -> InboundMessage:
    return InboundMessage(
        channel="test",
        thread_key=thread,
        external_id=f"{thread}:{n}",
        sender=Sender(external_id=f"user-{thread}"),
        text=f"message {n}",
        **fields,  # type: ignore[arg-type]
    )


async def open_thread(db: Database, thread: str) -> ConversationRecord:
    return await db.run_unwrapped(
        lambda connection: repo.open_conversation(connection, message(thread, 0), NOW)
    )


def turn(record: ConversationRecord, n: int, **fields: object) -> TurnWrite:
    values: dict[str, object] = {
        "conversation_id": record.id,
        "message": message(record.thread_key, n),
        "text": f"message {n}",
        "replies": (ReplyWrite(f"reply {n}.1"), ReplyWrite(f"reply {n}.2"), ReplyWrite(f"reply {n}.3")),
        "state": {"language": "en", "status": "bot", "bot_state": {"step": n}, "slots": {"n": n}},
        "now": NOW + timedelta(seconds=n),
        "expected": (record.status, record.ticket_id, record.assigned_agent_id, record.last_message_at),
    }
    values.update(fields)
    return TurnWrite(**values)  # type: ignore[arg-type]


async def test_a_group_stores_messages_replies_in_order_outbox_state_and_jobs(db: Database) -> None:
    records = [await open_thread(db, f"t{n}") for n in range(4)]
    writer = TurnWriter(db)
    job = NewJob(
        "open_ticket",
        {"reason": "asked", "nested": {"a": [1, 2]}, "odd": "nul \u0000 kept", "message_id": 0},
        NOW,
        conversation_id=records[0].id,
    )
    empty = NewJob("survey", {}, NOW, conversation_id=records[1].id)
    with_everything = turn(
        records[0],
        1,
        message=message(
            "t0",
            1,
            attachments=(
                Attachment(kind="photo", file_id="f1", name="a.png", mime_type="image/png", size=3),
            ),
            raw={"update_id": 7, "text": "message 1"},
            sent_at=NOW,
        ),
        replies=(
            ReplyWrite("pick one", buttons=(Button("Yes", "yes"), Button("No", "no")), topic="deposit"),
        ),
        jobs=(job,),
        delivered=True,
    )
    written = await asyncio.gather(
        writer.write(with_everything),
        writer.write(turn(records[1], 1, jobs=(empty,))),
        *(writer.write(turn(r, 1)) for r in records[2:]),
    )

    assert all(w.message_id is not None and not w.stale for w in written)
    for w in written[1:]:
        assert [s.text for s in w.replies] == ["reply 1.1", "reply 1.2", "reply 1.3"]
        assert [s.id for s in w.replies] == sorted(s.id for s in w.replies)
    async with db.reader() as session:
        stored = {m.id: m for m in (await session.scalars(select(Message))).all()}
        outbox = {o.message_id: o for o in (await session.scalars(select(OutboxEntry))).all()}
        conversations = {c.id: c for c in (await session.scalars(select(Conversation))).all()}
        jobs = (await session.scalars(select(Job))).all()
    for w in written:
        assert w.message_id is not None
        inbound = stored[w.message_id]
        assert (inbound.direction, inbound.author) == ("in", "customer")
        for reply in w.replies:
            row = stored[reply.id]
            assert (row.direction, row.author, row.text) == ("out", "bot", reply.text)
            assert row.in_reply_to_id == w.message_id
            assert row.reply_to_external_id == inbound.external_id
    first = stored[written[0].message_id or 0]
    assert first.attachments == [
        {"kind": "photo", "file_id": "f1", "name": "a.png", "mime_type": "image/png", "size": 3}
    ]
    assert first.raw == {"update_id": 7, "text": "message 1"}
    assert first.sent_at == NOW
    button_reply = stored[written[0].replies[0].id]
    assert button_reply.buttons == [{"label": "Yes", "action": "yes"}, {"label": "No", "action": "no"}]
    assert button_reply.topic == "deposit"
    # Delivered in the response (the web chat): sent already; otherwise queued.
    assert (outbox[button_reply.id].status, outbox[button_reply.id].attempts) == ("sent", 1)
    assert button_reply.sent_at == NOW + timedelta(seconds=1)
    queued = outbox[written[1].replies[0].id]
    assert (queued.status, queued.attempts, queued.sent_at) == ("pending", 0, None)
    assert queued.next_attempt_at == NOW + timedelta(seconds=1)
    for r in records:
        c = conversations[r.id]
        assert (c.language, c.status, c.bot_state, c.slots) == ("en", "bot", {"step": 1}, {"n": 1})
        assert c.last_message_at == NOW + timedelta(seconds=1)
    odd = {"reason": "asked", "nested": {"a": [1, 2]}, "odd": "nul \u0000 kept"}
    assert sorted((j.kind, j.payload, j.status, j.conversation_id) for j in jobs) == [
        ("open_ticket", {**odd, "message_id": written[0].message_id}, "pending", records[0].id),
        ("survey", {"message_id": written[1].message_id}, "pending", records[1].id),
    ]


async def test_a_duplicate_stores_nothing_and_a_throttled_turn_leaves_the_state(db: Database) -> None:
    record = await open_thread(db, "t")
    writer = TurnWriter(db)
    first = await writer.write(turn(record, 1))
    assert first.message_id is not None
    again = await writer.write(turn(record, 1, expected=None, jobs=(NewJob("x", {}, NOW),)))
    assert again.message_id is None and not again.stale
    throttled = await writer.write(
        turn(record, 2, expected=None, throttled=True, replies=(ReplyWrite("slow down"),), state={})
    )
    assert throttled.message_id is not None
    async with db.reader() as session:
        texts = (await session.scalars(select(Message.text).order_by(Message.id))).all()
        conversation = await session.get(Conversation, record.id)
        jobs = (await session.scalars(select(Job))).all()
    assert texts == ["message 1", "reply 1.1", "reply 1.2", "reply 1.3", "message 2", "slow down"]
    assert jobs == []
    assert conversation is not None
    assert conversation.bot_state == {"step": 1}  # not the throttled turn's (empty) state
    assert conversation.last_message_at == NOW + timedelta(seconds=1)


async def test_a_turn_decided_on_a_state_changed_since_writes_nothing(db: Database) -> None:
    record = await open_thread(db, "t")
    other = await open_thread(db, "u")
    async with db.transaction() as session:
        await session.execute(update(Conversation).where(Conversation.id == record.id).values(status="human"))
    writer = TurnWriter(db)
    stale, fine = await asyncio.gather(writer.write(turn(record, 1)), writer.write(turn(other, 1)))
    assert stale.stale and stale.message_id is None
    assert fine.message_id is not None and not fine.stale
    async with db.reader() as session:
        conversation = await session.get(Conversation, record.id)
        inbound = (
            await session.scalars(select(Message.conversation_id).where(Message.direction == "in"))
        ).all()
    assert conversation is not None and conversation.status == "human"
    assert inbound == [other.id]


async def test_a_group_mixing_ticket_turns_and_plain_turns_stores_each_once(db: Database) -> None:
    plain = await open_thread(db, "plain")
    handled = await open_thread(db, "handled")
    async with db.transaction() as session:
        ticket = Ticket(
            number=1001,
            conversation_id=handled.id,
            contact_id=handled.contact_id,
            subject="help",
            priority="normal",
            status="pending_customer",
            details={},
            created_at=NOW,
            updated_at=NOW,
        )
        session.add(ticket)
        await session.flush()
        ticket_id = ticket.id
        await session.execute(
            update(Conversation).where(Conversation.id == handled.id).values(ticket_id=ticket_id)
        )
    writer = TurnWriter(db)
    linked = turn(
        handled,
        1,
        expected=None,
        ticket_id=ticket_id,
        replies=(),
        redactions=("seed_phrase",),
    )
    results = await asyncio.gather(writer.write(turn(plain, 1)), writer.write(linked))
    assert all(r.message_id is not None for r in results)
    async with db.reader() as session:
        events = (await session.scalars(select(TicketEvent).order_by(TicketEvent.id))).all()
        status = await session.scalar(select(Ticket.status))
        inbound = (await session.scalars(select(Message.external_id).where(Message.direction == "in"))).all()
    assert sorted(inbound) == ["handled:1", "plain:1"]
    assert [e.kind for e in events] == ["customer_message", "redaction", "status_changed"]
    assert events[0].data == {"message_id": results[1].message_id}
    assert status == "open"

"""Agents' actions on SQLite and PostgreSQL: take, assign, reply, note, priority; handoff to a human."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from conversations.database import Database
from conversations.tables import Message, OutboxEntry
from core.tickets import InvalidTicketInput, TicketNotFound, TicketService, TicketSettings, UnknownAgent
from tests.tickets.conftest import (
    START,
    Clock,
    Recorder,
    agent,
    conversation,
    conversation_row,
    events,
    outbox_texts,
)


async def test_taking_a_ticket_hands_the_conversation_to_the_agent(
    service: TicketService, db: Database, recorder: Recorder
) -> None:
    conversation_id = await conversation(db)
    ann = await agent(db)
    opened = await service.open(conversation_id, "Deposit missing", None)
    recorder.changed.clear()

    taken = await service.take(opened.number, ann)
    assert (taken.status, taken.assignee_id, taken.assignee) == ("open", ann, "ann@example.com")
    row = await conversation_row(db, conversation_id)
    assert (row.status, row.assigned_agent_id, row.ticket_id) == ("human", ann, opened.id)
    assert recorder.changed == [("test", "chat-1")]
    assert await events(db, opened.id) == [("opened", "bot"), ("taken", "ann@example.com")]
    taken_event = (await service.get(opened.number)).events[-1]
    assert taken_event.data == {
        "agent_id": ann,
        "agent": "ann@example.com",
        "previous_agent_id": None,
        "status": {"from": "new", "to": "open"},
    }


async def test_assigning_records_who_assigned_and_the_previous_agent(
    service: TicketService, db: Database
) -> None:
    conversation_id = await conversation(db)
    ann, bob = await agent(db), await agent(db, "bob@example.com")
    opened = await service.open(conversation_id, "Deposit missing", None)
    await service.take(opened.number, ann)

    moved = await service.assign(opened.number, bob, actor="lead@example.com")
    assert (moved.assignee, moved.status) == ("bob@example.com", "open")
    assert (await conversation_row(db, conversation_id)).assigned_agent_id == bob
    detail = await service.get(opened.number)
    assert [(e.kind, e.actor) for e in detail.events][-1] == ("assigned", "lead@example.com")
    assert detail.events[-1].data == {"agent_id": bob, "agent": "bob@example.com", "previous_agent_id": ann}


async def test_assigning_a_new_ticket_keeps_it_new_but_silences_the_bot(
    service: TicketService, db: Database
) -> None:
    conversation_id = await conversation(db)
    opened = await service.open(conversation_id, "Deposit missing", None)
    assigned = await service.assign(opened.number, await agent(db), actor="lead@example.com")
    assert assigned.status == "new"
    assert (await conversation_row(db, conversation_id)).status == "human"


async def test_a_reply_is_queued_for_the_customer_and_sets_the_first_response_once(
    service: TicketService, db: Database, clock: Clock, recorder: Recorder
) -> None:
    conversation_id = await conversation(db)
    ann = await agent(db)
    opened = await service.open(conversation_id, "Deposit missing", None)
    recorder.changed.clear()

    clock.advance(minutes=10)
    first = await service.reply(opened.number, ann, "  Hello, we are checking your deposit.  ")
    clock.advance(minutes=10)
    second = await service.reply(opened.number, ann, "It has arrived.")

    assert await outbox_texts(db) == ["Hello, we are checking your deposit.", "It has arrived."]
    assert recorder.queued == 2
    assert first.first_response_at == second.first_response_at == START + timedelta(minutes=10)
    assert (first.status, first.assignee_id) == ("open", ann)  # the replying agent took the unassigned ticket
    row = await conversation_row(db, conversation_id)
    assert (row.status, row.assigned_agent_id) == ("human", ann)
    assert row.last_message_at == START + timedelta(minutes=20)
    assert recorder.changed == [("test", "chat-1")]  # the second reply changed nothing the pipeline caches
    detail = await service.get(opened.number)
    replied = [e.data for e in detail.events if e.kind == "replied"]
    assert [d["first_response"] for d in replied] == [True, False]
    async with db.reader() as session:
        stored = (
            await session.scalars(select(Message).where(Message.author == "agent").order_by(Message.id))
        ).all()
    assert [(m.agent_id, m.direction, m.internal, m.channel) for m in stored] == [
        (ann, "out", False, "test")
    ] * 2
    assert [d["message_id"] for d in replied] == [m.id for m in stored]


async def test_concurrent_replies_set_the_first_response_exactly_once(
    service: TicketService, db: Database, clock: Clock
) -> None:
    opened = await service.open(await conversation(db), "Deposit missing", None)
    ann, bob = await agent(db), await agent(db, "bob@example.com")
    await asyncio.gather(
        *(service.reply(opened.number, a, f"reply {n}") for n, a in enumerate([ann, bob] * 3))
    )
    detail = await service.get(opened.number)
    assert [e.data["first_response"] for e in detail.events if e.kind == "replied"] == [True] + [False] * 5
    assert len(await outbox_texts(db)) == 6


async def test_internal_notes_are_in_the_transcript_but_never_in_the_outbox(
    service: TicketService, db: Database, recorder: Recorder
) -> None:
    conversation_id = await conversation(db, texts=["my deposit is missing"])
    ann = await agent(db)
    opened = await service.open(conversation_id, "Deposit missing", None)
    recorder.changed.clear()

    await service.note(opened.number, ann, "Checked the node: the txid is unconfirmed.")
    await service.reply(opened.number, ann, "We are on it.")

    assert await outbox_texts(db) == ["We are on it."]
    async with db.reader() as session:
        assert await session.scalar(select(func.count()).select_from(OutboxEntry)) == 1
    detail = await service.get(opened.number)
    assert [(m.author, m.internal, m.text) for m in detail.transcript] == [
        ("customer", False, "my deposit is missing"),
        ("agent", True, "Checked the node: the txid is unconfirmed."),
        ("agent", False, "We are on it."),
    ]
    assert [e.kind for e in detail.events] == ["opened", "note", "replied"]
    # A note changes nothing about who answers: only the reply handed the conversation over.
    assert recorder.changed == [("test", "chat-1")]
    assert (await service.get(opened.number)).ticket.first_response_at is not None


async def test_changing_the_priority_moves_the_response_target_until_someone_responds(
    service: TicketService, db: Database, clock: Clock
) -> None:
    opened = await service.open(await conversation(db), "Question", None)
    raised = await service.set_priority(opened.number, "urgent", actor="lead@example.com")
    assert (raised.priority, raised.sla_due_at) == ("urgent", START + timedelta(hours=1))
    again = await service.set_priority(opened.number, "urgent")
    assert again.updated_at == raised.updated_at  # no change, no event
    await service.reply(opened.number, await agent(db), "Hi")
    lowered = await service.set_priority(opened.number, "low")
    assert lowered.sla_due_at == START + timedelta(hours=1)  # already responded: the target stays
    detail = await service.get(opened.number)
    changes = [(e.actor, e.data["from"], e.data["to"]) for e in detail.events if e.kind == "priority_changed"]
    assert changes == [("lead@example.com", "normal", "urgent"), ("agent", "urgent", "low")]
    with pytest.raises(InvalidTicketInput, match="unknown priority 'p1'"):
        await service.set_priority(opened.number, "p1")


async def test_unknown_tickets_and_agents_are_named_in_the_error(
    service: TicketService, db: Database
) -> None:
    opened = await service.open(await conversation(db), "Question", None)
    retired = await agent(db, "old@example.com", active=False)
    with pytest.raises(TicketNotFound, match="no ticket HL-4242"):
        await service.take("HL-4242", await agent(db))
    with pytest.raises(TicketNotFound, match="'yesterday' is not a ticket number"):
        await service.get("yesterday")
    with pytest.raises(UnknownAgent, match="no active agent has id 999"):
        await service.reply(opened.number, 999, "hi")
    with pytest.raises(UnknownAgent, match=f"no active agent has id {retired}"):
        await service.take(opened.number, retired)
    with pytest.raises(
        UnknownAgent, match=re.escape("no active agent has the e-mail address 'nobody@example.com'")
    ):
        await service.agent_id("nobody@example.com")
    with pytest.raises(InvalidTicketInput, match="the reply is empty"):
        await service.reply(opened.number, await agent(db, "x@example.com"), " \n ")
    assert await outbox_texts(db) == []
    assert await events(db, opened.id) == [("opened", "bot")]


async def test_the_callback_runs_after_the_commit_and_cannot_undo_it(
    db: Database, settings: TicketSettings, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[tuple[str, str]] = []

    def failing_forget(channel: str, thread_key: str) -> None:
        calls.append((channel, thread_key))
        raise RuntimeError("listener broke")

    service = TicketService(db, settings, on_conversation_changed=failing_forget, clock=clock)
    conversation_id = await conversation(db)
    opened = await service.open(conversation_id, "Question", None)
    taken = await service.take(opened.number, await agent(db))
    # Had the callback run inside the transaction, its error would have rolled the change back.
    assert taken.status == "open"
    assert (await conversation_row(db, conversation_id)).status == "human"
    assert calls == [("test", "chat-1"), ("test", "chat-1")]
    assert "on_conversation_changed failed for test/chat-1" in caplog.text

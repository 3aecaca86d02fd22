"""Ticket statuses on SQLite and PostgreSQL: transitions, solve, reopen, close, merge."""

from __future__ import annotations

import re

import pytest

from conversations.database import Database
from core.tickets import InvalidTicketInput, InvalidTransition, TicketService
from tests.tickets.conftest import START, Clock, Recorder, agent, conversation, conversation_row, events


async def test_status_changes_follow_the_lifecycle_with_an_event_each(
    service: TicketService, db: Database
) -> None:
    opened = await service.open(await conversation(db), "Question", None)
    for status in ("pending_customer", "open", "on_hold", "open"):
        assert (await service.set_status(opened.number, status, actor="ann@example.com")).status == status
    detail = await service.get(opened.number)
    assert [(e.kind, e.data["from"], e.data["to"]) for e in detail.events[1:]] == [
        ("status_changed", "new", "pending_customer"),
        ("status_changed", "pending_customer", "open"),
        ("status_changed", "open", "on_hold"),
        ("status_changed", "on_hold", "open"),
    ]


async def test_refused_transitions_say_what_is_allowed(service: TicketService, db: Database) -> None:
    opened = await service.open(await conversation(db), "Question", None)
    await service.set_status(opened.number, "open")
    with pytest.raises(
        InvalidTransition,
        match=re.escape(
            "HL-1001 is open and cannot become new: it can go to pending_customer, on_hold, solved, closed"
        ),
    ):
        await service.set_status(opened.number, "new")
    with pytest.raises(InvalidTransition, match="HL-1001 is already open"):
        await service.set_status(opened.number, "open")
    with pytest.raises(
        InvalidTicketInput, match="unknown status 'done'; statuses are new, open, pending_customer"
    ):
        await service.set_status(opened.number, "done")
    await service.solve(opened.number)
    with pytest.raises(
        InvalidTransition,
        match=re.escape("HL-1001 is solved and cannot become on_hold: it can go to open, closed"),
    ):
        await service.set_status(opened.number, "on_hold")
    with pytest.raises(InvalidTransition, match="HL-1001 is already solved"):
        await service.solve(opened.number)
    await service.set_status(opened.number, "closed")
    with pytest.raises(
        InvalidTransition, match="HL-1001 is closed and cannot become open: a closed ticket is final"
    ):
        await service.set_status(opened.number, "open")
    with pytest.raises(InvalidTransition, match="HL-1001 is closed: only a solved ticket can be reopened"):
        await service.reopen(opened.number)
    with pytest.raises(InvalidTransition, match=re.escape("cannot reply to HL-1001: it is closed")):
        await service.reply(opened.number, await agent(db), "hello?")
    with pytest.raises(
        InvalidTransition, match=re.escape("cannot assign HL-1001: it is closed (reopen it first)")
    ):
        await service.take(opened.number, await agent(db, "bob@example.com"))
    assert [kind for kind, _ in await events(db, opened.id)] == [
        "opened",
        "status_changed",
        "solved",
        "closed",
    ]


async def test_solving_gives_the_conversation_back_to_the_bot(
    service: TicketService, db: Database, clock: Clock, recorder: Recorder
) -> None:
    conversation_id = await conversation(db)
    ann = await agent(db)
    opened = await service.open(conversation_id, "Question", None)
    await service.reply(opened.number, ann, "Done, your deposit arrived.")
    recorder.changed.clear()
    clock.advance(hours=2)

    solved = await service.solve(opened.number, actor="ann@example.com")
    assert (solved.status, solved.solved_at) == ("solved", clock.now)
    row = await conversation_row(db, conversation_id)
    assert (row.status, row.assigned_agent_id, row.ticket_id) == ("bot", None, opened.id)
    assert recorder.changed == [("test", "chat-1")]
    assert (await events(db, opened.id))[-1] == ("solved", "ann@example.com")


async def test_solving_an_old_ticket_leaves_a_conversation_that_moved_on_alone(
    service: TicketService, db: Database
) -> None:
    conversation_id = await conversation(db)
    ann = await agent(db)
    old = await service.open(conversation_id, "Old question", None)
    new = await service.open(conversation_id, "New question", None)
    await service.take(new.number, ann)
    await service.solve(old.number)
    row = await conversation_row(db, conversation_id)
    assert (row.status, row.assigned_agent_id, row.ticket_id) == ("human", ann, new.id)


async def test_reopening_a_solved_ticket_gives_the_conversation_back_to_its_agent(
    service: TicketService, db: Database, recorder: Recorder
) -> None:
    conversation_id = await conversation(db)
    ann = await agent(db)
    opened = await service.open(conversation_id, "Question", None)
    await service.take(opened.number, ann)
    await service.solve(opened.number)
    recorder.changed.clear()

    reopened = await service.reopen(opened.number, actor="ann@example.com")
    assert (reopened.status, reopened.solved_at, reopened.assignee_id) == ("open", None, ann)
    row = await conversation_row(db, conversation_id)
    assert (row.status, row.assigned_agent_id) == ("human", ann)
    assert recorder.changed == [("test", "chat-1")]
    assert (await events(db, opened.id))[-1] == ("reopened", "ann@example.com")


async def test_a_reply_to_a_solved_ticket_reopens_it(service: TicketService, db: Database) -> None:
    conversation_id = await conversation(db)
    ann = await agent(db)
    opened = await service.open(conversation_id, "Question", None)
    await service.reply(opened.number, ann, "Fixed.")
    await service.solve(opened.number)
    again = await service.reply(opened.number, ann, "One more thing.")
    assert again.status == "open"
    assert (await conversation_row(db, conversation_id)).status == "human"
    detail = await service.get(opened.number)
    assert [e.kind for e in detail.events] == ["opened", "replied", "solved", "reopened", "replied"]
    assert detail.events[3].data["reason"] == "agent reply"


async def test_merging_closes_the_source_with_a_pointer_and_joins_the_transcripts(
    service: TicketService, db: Database, recorder: Recorder
) -> None:
    first_chat = await conversation(db, "chat-1", texts=["deposit missing"])
    second_chat = await conversation(db, "chat-2", texts=["still no deposit"])
    target = await service.open(first_chat, "Deposit missing", None)
    source = await service.open(second_chat, "Deposit missing again", None)
    recorder.changed.clear()

    merged = await service.merge(source.number, target.number, actor="ann@example.com")
    assert merged.number == target.number
    assert merged.details["merged_from"] == [source.number]
    source_detail = await service.get(source.number)
    assert source_detail.ticket.status == "closed"
    assert source_detail.ticket.details["merged_into"] == target.number
    assert source_detail.events[-1].kind == "merged_into"
    assert source_detail.events[-1].data == {"target": target.number, "from": "new"}
    target_detail = await service.get(target.number)
    assert (target_detail.events[-1].kind, target_detail.events[-1].data) == (
        "merged",
        {"source": source.number},
    )
    # Messages stay in their own conversations; the target's transcript shows both.
    assert [(m.conversation_id, m.text) for m in target_detail.transcript] == [
        (first_chat, "deposit missing"),
        (second_chat, "still no deposit"),
    ]
    assert [m.conversation_id for m in source_detail.transcript] == [second_chat]
    assert (await conversation_row(db, second_chat)).ticket_id == target.id
    assert recorder.changed == [("test", "chat-2")]


async def test_merges_that_make_no_sense_are_refused(service: TicketService, db: Database) -> None:
    a = await service.open(await conversation(db, "a"), "A", None)
    b = await service.open(await conversation(db, "b"), "B", None)
    c = await service.open(await conversation(db, "c"), "C", None)
    with pytest.raises(InvalidTicketInput, match="cannot merge HL-1001 into itself"):
        await service.merge(a.number, "hl-1001")
    await service.merge(b.number, a.number)
    with pytest.raises(InvalidTransition, match="cannot merge HL-1002: it is closed"):
        await service.merge(b.number, c.number)
    with pytest.raises(InvalidTransition, match="cannot merge HL-1003 into HL-1002: it is closed"):
        await service.merge(c.number, b.number)


async def test_closing_gives_the_conversation_back_to_the_bot(service: TicketService, db: Database) -> None:
    conversation_id = await conversation(db)
    opened = await service.open(conversation_id, "Spam", None)
    await service.take(opened.number, await agent(db))
    closed = await service.set_status(opened.number, "closed", actor="ann@example.com")
    assert (closed.status, closed.solved_at) == ("closed", None)
    assert (await conversation_row(db, conversation_id)).status == "bot"
    assert closed.created_at == START


async def test_an_overdue_first_response_is_marked_once(
    db: Database, service: TicketService, clock: Clock
) -> None:
    conversation_id = await conversation(db)
    ticket = await service.open(conversation_id, "Deposit missing", "deposit_missing")
    assert await service.mark_sla_breaches() == []
    clock.advance(hours=5)  # high priority: 4 hours
    assert await service.mark_sla_breaches() == [ticket.number]
    assert await service.mark_sla_breaches() == []
    kinds = [kind for kind, _ in await events(db, ticket.id)]
    assert kinds.count("sla_breached") == 1

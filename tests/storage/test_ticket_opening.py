"""Storing a ticket the bot opened, and the reads that decide it, on SQLite and PostgreSQL.

On PostgreSQL the ticket, its audit trail, the acknowledgement, its outbox entry, the
conversation's link and the job's completion are one statement on the session's own driver
connection: it must store what the portable statements store, and belong to the session's
transaction (a rollback leaves nothing).
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from conversations import jobs
from conversations import repository as repo
from conversations import ticket_queries as q
from conversations.database import Database
from conversations.repository import ConversationRecord
from conversations.tables import Conversation, Job, Message, OutboxEntry, Ticket, TicketEvent
from conversations.ticket_opening import NewTicket, insert_ticket
from conversations.values import InboundMessage, Sender

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def said(thread: str, n: int, text: str = "hello") -> InboundMessage:
    return InboundMessage(
        channel="test",
        thread_key=thread,
        external_id=f"{thread}:{n}",
        sender=Sender(external_id=f"user-{thread}"),
        text=text,
    )


async def open_thread(db: Database, thread: str = "t1") -> ConversationRecord:
    return await db.run_unwrapped(lambda connection: repo.open_conversation(connection, said(thread, 0), NOW))


async def queued_job(db: Database, conversation_id: int) -> int:
    async with db.transaction() as session:
        await jobs.enqueue(
            session, [jobs.NewJob("open_ticket", {}, NOW, conversation_id=conversation_id)], NOW
        )
        job_id = await session.scalar(select(func.max(Job.id)))
    assert job_id is not None
    return int(job_id)


def new_ticket(record: ConversationRecord, job_id: int, number: int = 1001) -> NewTicket:
    return NewTicket(
        number=number,
        counter="ticket",
        conversation_id=record.id,
        contact_id=record.contact_id,
        channel="test",
        subject="Deposit missing: 50 USDT TRC20",
        category="deposit_missing",
        priority="high",
        status="new",
        details={
            "values": {"asset": "USDT", "amount": "50"},
            "priority_reasons": ["category"],
            "odd": "a\u0000b",
        },
        sla_due_at=NOW + timedelta(hours=4),
        events=[
            ("opened", "bot", {"priority": "high", "reasons": ["category"]}),
            ("redaction", "bot", {"kinds": ["seed_phrase"]}),
        ],
        acknowledgement="Ticket HL-1001 is open: we answer within 4 hours.",
        job_id=job_id,
        now=NOW + timedelta(minutes=1),
    )


async def test_a_new_ticket_is_stored_with_its_trail_acknowledgement_link_and_job_done(db: Database) -> None:
    record = await open_thread(db)
    job_id = await queued_job(db, record.id)
    async with db.transaction() as session:
        assert await q.lock_counter(session, "ticket", 1000) == 1000  # created at the start
        ticket_id = await insert_ticket(session, new_ticket(record, job_id))

    async with db.transaction() as session:
        assert await q.lock_counter(session, "ticket", 1000) == 1001  # the write advanced it
    later = NOW + timedelta(minutes=1)
    async with db.reader() as session:
        ticket = await session.get(Ticket, ticket_id)
        assert ticket is not None
        assert (ticket.number, ticket.conversation_id, ticket.contact_id) == (
            1001,
            record.id,
            record.contact_id,
        )
        assert (ticket.subject, ticket.category, ticket.priority, ticket.status) == (
            "Deposit missing: 50 USDT TRC20",
            "deposit_missing",
            "high",
            "new",
        )
        assert ticket.details == {
            "values": {"asset": "USDT", "amount": "50"},
            "priority_reasons": ["category"],
            "odd": "a\u0000b",
        }
        assert ticket.sla_due_at == NOW + timedelta(hours=4)
        assert ticket.created_at == ticket.updated_at == later
        assert ticket.assignee_id is None and ticket.first_response_at is None
        events = (await session.scalars(select(TicketEvent).order_by(TicketEvent.id))).all()
        assert [(e.ticket_id, e.kind, e.actor, e.data, e.created_at) for e in events] == [
            (ticket_id, "opened", "bot", {"priority": "high", "reasons": ["category"]}, later),
            (ticket_id, "redaction", "bot", {"kinds": ["seed_phrase"]}, later),
        ]
        [ack] = (await session.scalars(select(Message).where(Message.direction == "out"))).all()
        assert (ack.conversation_id, ack.channel, ack.author, ack.text) == (
            record.id,
            "test",
            "system",
            "Ticket HL-1001 is open: we answer within 4 hours.",
        )
        assert (ack.buttons, ack.attachments, ack.internal, ack.created_at) == ([], [], False, later)
        [entry] = (await session.scalars(select(OutboxEntry))).all()
        assert (entry.message_id, entry.conversation_id, entry.channel, entry.status, entry.attempts) == (
            ack.id,
            record.id,
            "test",
            "pending",
            0,
        )
        assert entry.next_attempt_at == later
        conversation = await session.get(Conversation, record.id)
        assert conversation is not None
        assert (conversation.ticket_id, conversation.last_message_at) == (ticket_id, later)
        job = await session.get(Job, job_id)
        assert job is not None
        assert (job.status, job.done_at, job.claimed_until, job.last_error) == ("done", later, None, None)


async def test_an_agents_ticket_is_stored_without_acknowledgement_or_job(db: Database) -> None:
    record = await open_thread(db)
    job_id = await queued_job(db, record.id)  # someone else's: it must stay as it is
    async with db.transaction() as session:
        number = await q.lock_counter(session, "ticket", 1000) + 1
        agents = dataclasses.replace(new_ticket(record, job_id, number), acknowledgement=None, job_id=None)
        ticket_id = await insert_ticket(session, agents)

    async with db.reader() as session:
        ticket = await session.get(Ticket, ticket_id)
        assert ticket is not None and ticket.number == 1001
        assert await session.scalar(select(func.count(TicketEvent.id))) == 2
        assert await session.scalar(select(func.count(Message.id))) == 0  # nothing said to the customer
        assert await session.scalar(select(func.count(OutboxEntry.id))) == 0
        conversation = await session.get(Conversation, record.id)
        assert conversation is not None
        assert (conversation.ticket_id, conversation.last_message_at) == (ticket_id, record.last_message_at)
        assert await session.scalar(select(Job.status).where(Job.id == job_id)) == "pending"
    async with db.transaction() as session:
        assert await q.lock_counter(session, "ticket", 1000) == 1001  # the write advanced it


async def test_a_rolled_back_job_leaves_no_ticket(db: Database) -> None:
    # On PostgreSQL the statement runs on the session's driver connection: it must be part
    # of the session's transaction, not commit on its own.
    record = await open_thread(db)
    job_id = await queued_job(db, record.id)
    with pytest.raises(RuntimeError, match="crashed"):
        async with db.transaction() as session:
            await q.lock_counter(session, "ticket", 1000)
            await insert_ticket(session, new_ticket(record, job_id))
            raise RuntimeError("crashed after the write")

    async with db.reader() as session:
        assert await session.scalar(select(func.count(Ticket.id))) == 0
        assert await session.scalar(select(func.count(TicketEvent.id))) == 0
        assert await session.scalar(select(func.count(OutboxEntry.id))) == 0
        assert await session.scalar(select(Job.status).where(Job.id == job_id)) == "pending"
        assert await session.scalar(select(Conversation.ticket_id)) is None
    async with db.transaction() as session:
        assert await q.lock_counter(session, "ticket", 1000) == 1000  # the number was not used up


async def test_locking_the_counter_never_advances_it(db: Database) -> None:
    for _ in range(3):
        async with db.transaction() as session:
            assert await q.lock_counter(session, "ticket", 1000) == 1000


async def test_the_reads_behind_a_new_ticket(db: Database) -> None:
    record = await open_thread(db)
    async with db.transaction() as session:
        conversation = await session.get(Conversation, record.id)
        assert conversation is not None
        for n, (text, internal) in enumerate(
            [
                ("my seed is [REDACTED:seed_phrase]", False),  # old: only its redaction counts
                ("first", False),
                ("second", False),
                ("an agent's note", True),
                ("third", False),
                ("fourth", False),
                ("fifth [REDACTED:password]", False),
            ]
        ):
            session.add(
                Message(
                    conversation_id=record.id,
                    channel="test",
                    direction="in",
                    author="customer",
                    external_id=f"m{n}",
                    text=text,
                    buttons=[],
                    attachments=[],
                    internal=internal,
                    created_at=NOW,
                )
            )
        for days_ago in (0.5, 3, 20):
            session.add(
                Ticket(
                    number=int(days_ago * 10),
                    conversation_id=record.id,
                    contact_id=record.contact_id,
                    subject="earlier",
                    priority="normal",
                    status="solved",
                    details={},
                    created_at=NOW - timedelta(days=days_ago),
                    updated_at=NOW,
                )
            )
    job_id = await queued_job(db, record.id)

    async with db.transaction() as session:
        history = await q.customer_history(session, record.id, 5)
        assert history.recent_texts == ["first", "second", "third", "fourth", "fifth [REDACTED:password]"]
        assert history.redaction_kinds == ["password", "seed_phrase"]
        counts = await q.contact_tickets(
            session, record.contact_id, day=NOW - timedelta(days=1), repeat=NOW - timedelta(days=7)
        )
        assert counts == q.ContactTickets(since_day=1, since_repeat=2)
        none = await q.contact_tickets(session, record.contact_id + 1, day=NOW, repeat=NOW)
        assert none == q.ContactTickets(0, 0)
        locked, done = await q.conversation_for_job(session, record.id, job_id)
        assert locked is not None and locked.id == record.id and not done
        await jobs.complete(session, job_id, NOW)
        assert (await q.conversation_for_job(session, record.id, job_id))[1]
        assert await q.conversation_for_job(session, record.id + 99, job_id) == (None, True)

"""Tickets the conversation asks for: a completed form or "talk to a human" opens one, exactly once.

The real FAQ engine decides, the pipeline stores the turn with its job, the job runner opens
the ticket and queues the acknowledgement; then an agent works the ticket and hands it back.
Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from conversations import jobs
from conversations.database import Database
from conversations.tables import Conversation, Job, Message, Ticket, TicketEvent
from conversations.values import InboundMessage, Sender
from core.engine.base import Engine
from core.jobs import JobRunner
from core.pipeline import OPEN_TICKET, Pipeline
from core.tickets import TicketService, TicketSettings
from tests.forms.conftest import TRON_TXID
from tests.tickets.conftest import agent, events

_ids = itertools.count(1)


def said(text: str = "", *, action: str | None = None, thread: str = "chat-1") -> InboundMessage:
    return InboundMessage(
        channel="test",
        thread_key=thread,
        external_id=f"{thread}:{next(_ids)}",
        sender=Sender(external_id=f"user-{thread}", display_name="Alice"),
        text=text,
        action=action,
    )


@pytest.fixture
def wired(
    db: Database, faq_engine: Engine, settings: TicketSettings
) -> tuple[Pipeline, JobRunner, TicketService]:
    # The service's clock is the real one here: the pipeline stamps turns with real time.
    service = TicketService(db, settings)
    runner = JobRunner(db)
    runner.register(OPEN_TICKET, service.open_requested, completes=True)
    pipeline = Pipeline(db, faq_engine)
    service._on_conversation_changed = pipeline.forget
    return pipeline, runner, service


async def bot_texts(db: Database, thread: str = "chat-1") -> list[str]:
    async with db.reader() as session:
        rows = await session.scalars(
            select(Message.text)
            .join(Conversation, Conversation.id == Message.conversation_id)
            .where(Conversation.thread_key == thread, Message.direction == "out")
            .order_by(Message.id)
        )
        return list(rows)


async def only_ticket(db: Database) -> Ticket:
    async with db.reader() as session:
        [ticket] = (await session.scalars(select(Ticket))).all()
        return ticket


async def complete_missing_deposit(pipeline: Pipeline, lang: str = "en") -> None:
    await pipeline.receive(said(action="form:start:missing_deposit"))
    if lang == "en":
        await pipeline.receive(said(f"I sent 50 USDT on TRC20 yesterday 3pm, txid {TRON_TXID}"))
        await pipeline.receive(said("yes"))
    else:
        await pipeline.receive(said(f"昨天下午3点通过波场充了50 USDT，交易哈希 {TRON_TXID}"))
        await pipeline.receive(said("正确"))


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_a_completed_form_opens_one_ticket_and_tells_the_customer_its_number(
    db: Database, wired: tuple[Pipeline, JobRunner, TicketService], lang: str
) -> None:
    pipeline, runner, _ = wired
    await complete_missing_deposit(pipeline, lang)

    assert await runner.run_once() == 1
    ticket = await only_ticket(db)
    assert ticket.category == "deposit_missing"
    assert ticket.priority == "high"
    assert ticket.status == "new"
    assert ticket.details["values"]["asset"] == "USDT"
    assert ticket.details["values"]["txid"] == TRON_TXID
    assert "USDT" in ticket.subject
    ack = (await bot_texts(db))[-1]
    assert f"HL-{ticket.number}" in ack
    assert ("opened ticket" in ack) if lang == "en" else ("已为您创建工单" in ack)

    # The job is done: running again opens nothing more.
    assert await runner.run_once() == 0
    async with db.reader() as session:
        assert await session.scalar(select(func.count()).select_from(Ticket)) == 1


async def test_a_job_run_twice_after_a_crash_opens_one_ticket(
    db: Database, wired: tuple[Pipeline, JobRunner, TicketService]
) -> None:
    pipeline, _, service = wired
    await complete_missing_deposit(pipeline)
    async with db.transaction() as session:
        [job] = await jobs.claim(
            session, [OPEN_TICKET], datetime.now(UTC) + timedelta(minutes=1), timedelta(seconds=1), 10
        )
    await service.open_requested(job)
    # The worker died before it noticed it had finished; the lease expired; another runs it.
    await service.open_requested(job)
    async with db.reader() as session:
        assert await session.scalar(select(func.count()).select_from(Ticket)) == 1
        assert await session.scalar(select(Job.status)) == "done"
    assert sum("HL-" in text for text in await bot_texts(db)) == 1


async def test_asking_for_a_human_opens_a_ticket_about_the_last_question(
    db: Database, wired: tuple[Pipeline, JobRunner, TicketService]
) -> None:
    pipeline, runner, _ = wired
    await pipeline.receive(said("my card payment keeps failing at checkout"))
    await pipeline.receive(said(action="human"))
    await runner.run_once()
    ticket = await only_ticket(db)
    assert "card payment keeps failing" in ticket.subject
    assert ticket.category == "general"


async def test_a_compromised_account_is_urgent_with_the_self_help_steps(
    db: Database, wired: tuple[Pipeline, JobRunner, TicketService]
) -> None:
    pipeline, runner, _ = wired
    await pipeline.receive(said(action="form:start:account_compromised"))
    for answer in (
        "12345678",
        "john@example.com",
        "someone logged in and withdrew my USDT",
        "200 USDT gone",
        "yes",
    ):
        await pipeline.receive(said(answer))
    await runner.run_once()
    ticket = await only_ticket(db)
    assert ticket.priority == "urgent"
    ack = (await bot_texts(db))[-1]
    assert "URGENT" in ack and "Revoke all API keys" in ack and "password" in ack


async def test_handoff_adds_customer_messages_to_the_ticket_and_solving_returns_to_the_bot(
    db: Database, wired: tuple[Pipeline, JobRunner, TicketService]
) -> None:
    pipeline, runner, service = wired
    await complete_missing_deposit(pipeline)
    await runner.run_once()
    ticket = await only_ticket(db)
    ann = await agent(db)
    await service.take(ticket.number, ann)
    before = len(await bot_texts(db))

    await pipeline.receive(said("any news? it's been hours"))
    assert len(await bot_texts(db)) == before  # the bot stays quiet while the agent works
    kinds = [kind for kind, _ in await events(db, ticket.id)]
    assert "customer_message" in kinds

    await service.set_status(ticket.number, "pending_customer")
    await pipeline.receive(said("here is the screenshot you asked for"))
    async with db.reader() as session:
        assert await session.scalar(select(Ticket.status)) == "open"  # the customer answered

    await service.solve(ticket.number, actor="ann@example.com")
    await pipeline.receive(said("how long do deposits take to confirm?"))
    texts = await bot_texts(db)
    assert len(texts) == before + 1  # the bot answers again
    assert "confirm" in texts[-1].lower()


async def test_a_second_request_joins_the_active_ticket(
    db: Database, wired: tuple[Pipeline, JobRunner, TicketService]
) -> None:
    pipeline, runner, _ = wired
    await complete_missing_deposit(pipeline)
    await runner.run_once()
    # The customer asks for a human again before anyone took it: no second ticket.
    async with db.transaction() as session:
        await session.execute(update(Conversation).values(status="bot"))
    pipeline.forget("test", "chat-1")
    await pipeline.receive(said(action="human"))
    await runner.run_once()
    async with db.reader() as session:
        assert await session.scalar(select(func.count()).select_from(Ticket)) == 1
        kinds = list(await session.scalars(select(TicketEvent.kind)))
    assert "customer_request" in kinds
    assert "added this to your open ticket" in (await bot_texts(db))[-1]

    # The request that joined took no number: the next ticket's follows the first's.
    await pipeline.receive(said(action="human", thread="chat-2"))
    await runner.run_once()
    async with db.reader() as session:
        numbers = list(await session.scalars(select(Ticket.number).order_by(Ticket.id)))
    assert numbers[1] == numbers[0] + 1


async def test_a_redaction_is_recorded_on_the_ticket_without_the_secret(
    db: Database, wired: tuple[Pipeline, JobRunner, TicketService]
) -> None:
    pipeline, runner, _ = wired
    secret = "hunter2-Secret!"
    await pipeline.receive(said(f"my password is {secret} and I can't log in"))
    await pipeline.receive(said(action="human"))
    await runner.run_once()
    ticket = await only_ticket(db)
    assert ticket.details["redactions"] == ["password"]
    assert secret not in ticket.subject and secret not in str(ticket.details)
    async with db.reader() as session:
        kinds = list(await session.scalars(select(TicketEvent.kind)))
        texts = list(await session.scalars(select(Message.text)))
    assert "redaction" in kinds
    assert not any(secret in text for text in texts)

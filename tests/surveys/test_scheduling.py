"""The survey scheduler with a moveable clock: due, restarts, expiry, opt-out, public, reopen.

Each "restart" is a fresh :class:`JobRunner` on the same database: only the database knows
what is due, so a survey is sent once whenever the process (re)starts.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from conversations.database import Database
from conversations.tables import Contact, Conversation, Job, Survey, TicketEvent
from conversations.values import Surface
from core.engine.base import Engine
from core.surveys import answers
from tests.surveys.conftest import Clock, Stack, bot_messages, build_stack, event_kinds, survey_of


async def _survey_count(db: Database) -> int:
    async with db.reader() as session:
        return int(await session.scalar(select(func.count()).select_from(Survey)) or 0)


async def test_due_survey_is_sent_once_with_native_buttons(stack: Stack) -> None:
    view = await stack.solved_ticket("due")
    assert await stack.run_jobs() == 0  # not due yet
    stack.clock.advance(seconds=599)
    assert await stack.run_jobs() == 0
    stack.clock.advance(seconds=1)
    assert await stack.run_jobs() == 1

    survey = await survey_of(stack.db, view.number)
    assert survey is not None and survey.status == "sent" and survey.token
    assert survey.expires_at == stack.clock.now + timedelta(hours=72)
    last = (await bot_messages(stack.db, "due"))[-1]
    assert "HL-" in last.text and "1 (poor) to 5 (excellent)" in last.text
    assert [b["action"] for b in last.buttons] == [
        *(f"survey:{survey.id}:{n}" for n in range(1, 6)),
        f"survey:optout:{survey.id}",
    ]
    assert "survey_sent" in await event_kinds(stack.db, view.number)
    async with stack.db.reader() as session:
        state = await session.scalar(select(Conversation.bot_state).where(Conversation.thread_key == "due"))
    assert state is not None and state[answers.STATE]["status"] == "asked"
    assert stack.queued  # the dispatcher was woken


async def test_early_restart_sends_nothing_then_once_after_the_due_time(stack: Stack) -> None:
    view = await stack.solved_ticket("early")
    stack.clock.advance(seconds=300)
    assert await stack.runner().run_once() == 0  # a restart before the due time
    stack.clock.advance(seconds=300)
    assert await stack.runner().run_once() == 1  # another restart, after it
    assert await stack.runner().run_once() == 0
    assert await _survey_count(stack.db) == 1
    surveys = [m for m in await bot_messages(stack.db, "early") if m.buttons and "survey:" in str(m.buttons)]
    assert len(surveys) == 1
    assert await survey_of(stack.db, view.number) is not None


async def test_late_restart_sends_once(stack: Stack) -> None:
    await stack.solved_ticket("late")
    stack.clock.advance(days=2)  # the process was down long past the due time
    first, second = stack.runner(), stack.runner()
    assert await first.run_once() == 1
    assert await second.run_once() == 0
    assert await _survey_count(stack.db) == 1


async def test_a_job_run_twice_sends_one_survey(stack: Stack) -> None:
    # A worker whose lease expired mid-job and a second worker both run the handler.
    await stack.solved_ticket("twice")
    stack.clock.advance(seconds=600)
    async with stack.db.transaction() as session:
        from conversations import jobs

        [job] = await jobs.claim(session, ["survey"], stack.clock.now, timedelta(seconds=1), 10)
    await stack.surveys.send_due(job)
    await stack.surveys.send_due(job)
    assert await _survey_count(stack.db) == 1
    assert len(await bot_messages(stack.db, "twice")) == 2  # the greeting's answer and one survey


async def test_per_channel_delay(db: Database, faq_engine: Engine, clock: Clock) -> None:
    stack = build_stack(db, faq_engine, clock, channels={"email": {"delay_seconds": 86400}})
    chat = await stack.solved_ticket("fast", channel="webchat")
    mail = await stack.solved_ticket("slow", channel="email")
    clock.advance(seconds=600)
    await stack.run_jobs()
    assert await survey_of(db, chat.number) is not None
    assert await survey_of(db, mail.number) is None
    clock.advance(days=1)
    await stack.run_jobs()
    assert await survey_of(db, mail.number) is not None


async def test_opted_out_customer_gets_no_survey(stack: Stack) -> None:
    result = await stack.say("opted", "hello")
    async with stack.db.transaction() as session:
        contact = select(Conversation.contact_id).where(Conversation.id == result.conversation_id)
        await session.execute(
            update(Contact).where(Contact.id == contact.scalar_subquery()).values(surveys_opt_out=True)
        )
    view = await stack.tickets.open(result.conversation_id, "Question", "general")
    await stack.tickets.solve(view.number)
    stack.clock.advance(hours=1)
    assert await stack.run_jobs() == 1
    assert await survey_of(stack.db, view.number) is None
    assert "survey_skipped" in await event_kinds(stack.db, view.number)


async def test_never_surveys_in_public(stack: Stack) -> None:
    view = await stack.solved_ticket("mention", channel="x", surface=Surface.PUBLIC)
    stack.clock.advance(hours=1)
    await stack.run_jobs()
    assert await survey_of(stack.db, view.number) is None
    assert "survey_skipped" in await event_kinds(stack.db, view.number)


async def test_reopen_cancels_the_survey_and_solving_again_brings_it_back(stack: Stack) -> None:
    view = await stack.solved_ticket("again")
    await stack.tickets.reopen(view.number)
    async with stack.db.reader() as session:
        status = await session.scalar(select(Job.status).where(Job.kind == "survey"))
    assert status == "cancelled"
    stack.clock.advance(hours=1)
    await stack.run_jobs()
    assert await survey_of(stack.db, view.number) is None
    await stack.tickets.solve(view.number)
    stack.clock.advance(seconds=599)
    assert await stack.run_jobs() == 0  # due a full delay after the second solve
    stack.clock.advance(seconds=1)
    await stack.run_jobs()
    assert await survey_of(stack.db, view.number) is not None


async def test_disabled_surveys_are_not_scheduled(db: Database, faq_engine: Engine, clock: Clock) -> None:
    stack = build_stack(db, faq_engine, clock, enabled=False)
    view = await stack.solved_ticket("off")
    clock.advance(days=1)
    assert await stack.run_jobs() == 0
    assert await survey_of(db, view.number) is None


async def _pending(stack: Stack, thread: str, first: str = "hello") -> str:
    result = await stack.say(thread, first)
    view = await stack.tickets.open(result.conversation_id, "Need the TXID", "deposit")
    await stack.tickets.set_status(view.number, "pending_customer")
    return view.number


@pytest.mark.parametrize(
    ("first", "reminder", "solved"),
    [
        ("hello", "is waiting for your reply", "we've marked"),
        ("你好", "正在等待您的回复", "标记为已解决"),
    ],
)
async def test_reminder_then_auto_solve(stack: Stack, first: str, reminder: str, solved: str) -> None:
    number = await _pending(stack, f"waiting-{first}", first)
    thread = f"waiting-{first}"
    stack.clock.advance(hours=47)
    assert await stack.run_jobs() == 0
    stack.clock.advance(hours=1)
    assert await stack.run_jobs() == 1
    last = (await bot_messages(stack.db, thread))[-1]
    assert reminder in last.text and number in last.text
    assert "3 days" in last.text or "3 天" in last.text
    stack.clock.advance(hours=71)
    assert await stack.run_jobs() == 0
    stack.clock.advance(hours=1)
    assert await stack.run_jobs() == 1
    assert (await stack.tickets.get(number)).ticket.status == "solved"
    kinds = await event_kinds(stack.db, number)
    assert kinds.index("reminder_sent") < kinds.index("solved")
    async with stack.db.reader() as session:
        actor = await session.scalar(
            select(TicketEvent.actor).where(TicketEvent.kind == "solved").order_by(TicketEvent.id.desc())
        )
    assert actor == "system"
    assert solved in (await bot_messages(stack.db, thread))[-1].text
    # Solving this way owes a survey too.
    stack.clock.advance(seconds=600)
    await stack.run_jobs()
    assert await survey_of(stack.db, number) is not None


async def test_customer_reply_makes_the_reminder_moot(stack: Stack) -> None:
    number = await _pending(stack, "answered")
    await stack.say("answered", "here is the TXID you asked for")
    assert (await stack.tickets.get(number)).ticket.status == "open"
    stack.clock.advance(hours=48)
    assert await stack.run_jobs() == 1  # the reminder job ran and did nothing
    assert "reminder_sent" not in await event_kinds(stack.db, number)
    stack.clock.advance(days=10)
    assert await stack.run_jobs() == 0
    assert (await stack.tickets.get(number)).ticket.status == "open"


async def test_agent_action_cancels_the_follow_ups(stack: Stack) -> None:
    number = await _pending(stack, "agent-acted")
    stack.clock.advance(hours=48)
    await stack.run_jobs()  # reminded; auto-solve queued
    await stack.tickets.set_status(number, "open")
    stack.clock.advance(days=5)
    assert await stack.run_jobs() == 0  # the auto-solve job was cancelled with the status change
    assert (await stack.tickets.get(number)).ticket.status == "open"


async def test_closing_a_solved_ticket_keeps_its_survey(stack: Stack) -> None:
    view = await stack.solved_ticket("closed")
    await stack.tickets.set_status(view.number, "closed")
    stack.clock.advance(seconds=600)
    await stack.run_jobs()
    assert await survey_of(stack.db, view.number) is not None

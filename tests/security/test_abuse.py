"""Abuse: a flooding sender is throttled without losing a message, tickets are capped per
contact, and one web chat customer can never read or claim another's conversation or ticket.

The flood and the two-customer tests go through the real web chat HTTP API of a running
Helpline (real engine, job runner, dispatcher); all run on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from adapters.redis_limits import RedisLimits
from conversations import console_queries
from conversations.database import Database
from conversations.tables import Contact, Conversation, Identity, Job, Message, Ticket, TicketEvent
from conversations.values import InboundMessage, Sender, Surface
from core.abuse import InboundThrottle, is_throttled
from core.engine.base import Decision, Engine, Reply, TicketRequest, Turn
from core.engine.basic import BasicEngine
from core.jobs import JobRunner
from core.pipeline import OPEN_TICKET, Pipeline
from core.ratelimit import LocalLimits
from core.settings import load_settings
from core.tickets import TicketService, load_ticket_settings
from tests.web.conftest import LiveServer, serving

PER_MINUTE = 20
BURST = 10
FLOOD = 200
TOO_FAST = "too fast"
_ids = itertools.count(1)


class Counting(Engine):
    """The real engine, recording which messages it was asked to decide (per sender)."""

    def __init__(self, inner: Engine) -> None:
        self.inner = inner
        self.decided: defaultdict[str, set[str]] = defaultdict(set)

    async def respond(self, turn: Turn) -> Decision:
        self.decided[turn.message.sender.external_id].add(turn.message.external_id)
        return await self.inner.respond(turn)


def flood_env(**more: str) -> dict[str, str]:
    return {
        "HELPLINE_ABUSE__MAX_MESSAGES_PER_MINUTE": str(PER_MINUTE),
        "HELPLINE_ABUSE__MESSAGE_BURST": str(BURST),
        "HELPLINE_ABUSE__THROTTLE_NOTICE_SECONDS": "60",
        **more,
    }


async def chat(client: httpx.AsyncClient, session: str, message_id: str, **body: str) -> dict[str, Any]:
    response = await client.post(
        "/api/chat/messages", json={"session_id": session, "message_id": message_id, **body}
    )
    assert response.status_code == 200, response.text
    assert "set-cookie" not in response.headers  # nothing a customer could lend or steal
    payload: dict[str, Any] = response.json()
    return payload


async def wait_for(check: Callable[[], Any], timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = await check()
        if found or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.1)


# ----- the flood through the web chat -------------------------------------------------------------


@pytest.fixture
async def flooded(database_url: str, db: Database, faq_engine: Engine, data_dir: Path) -> AsyncIterator[Any]:
    counting = Counting(faq_engine)
    async with serving(database_url, counting, data_dir, **flood_env()) as live:
        yield live, counting


async def test_a_spammer_is_throttled_every_message_is_stored_once_and_agents_see_one_entry(
    flooded: tuple[LiveServer, Counting],
) -> None:
    live, engine = flooded
    spammer, neighbour = f"web-spam-{uuid.uuid4().hex}", f"web-calm-{uuid.uuid4().hex}"
    started = time.monotonic()
    first = await chat(live.client, spammer, "0", action="human")  # asks for a person: one ticket
    assert first["replies"] and TOO_FAST not in first["replies"][0]["text"]
    gate = asyncio.Semaphore(16)

    async def spam(n: int) -> dict[str, Any]:
        async with gate:
            return await chat(live.client, spammer, str(n), text=f"HELP!!! answer me now {n} scam")

    answers = [first, *await asyncio.gather(*(spam(n) for n in range(1, FLOOD)))]
    elapsed = time.monotonic() - started
    # A calm customer writing meanwhile is answered as usual.
    calm = await chat(live.client, neighbour, "1", text="how long do deposits take to confirm")
    assert calm["replies"] and TOO_FAST not in calm["replies"][0]["text"]

    # The engine decided at most the burst plus what the rate allowed during the flood.
    decided = engine.decided[spammer]
    allowed = BURST + math.ceil(elapsed * PER_MINUTE / 60) + 1
    assert BURST <= len(decided) <= allowed, (len(decided), allowed, elapsed)
    # One "too fast" notice for the whole flood, not one per message.
    notices = [r for a in answers for r in a["replies"] if TOO_FAST in r["text"]]
    assert len(notices) == 1, notices
    assert "wait" in notices[0]["text"] and "seconds" in notices[0]["text"]

    async with live.runtime.db.reader() as session:
        conversation = (
            await session.scalars(select(Conversation).where(Conversation.thread_key == spammer))
        ).one()
        inbound = (
            await session.scalars(
                select(Message).where(Message.conversation_id == conversation.id, Message.direction == "in")
            )
        ).all()
        outbound_notices = await session.scalar(
            select(func.count()).where(
                Message.conversation_id == conversation.id,
                Message.direction == "out",
                Message.text.contains(TOO_FAST),
            )
        )
    # Every message stored exactly once; the throttled ones are marked and never decided.
    assert sorted(str(m.external_id) for m in inbound) == sorted(f"{spammer}:{n}" for n in range(FLOOD))
    throttled = {m.external_id for m in inbound if is_throttled(m.raw)}
    assert len(throttled) == FLOOD - len(decided)
    assert not throttled & decided
    assert outbound_notices == 1

    # The agents' inbox: one entry for the spammer, with at most one ticket, whose trail holds
    # no throttled message.
    async def ticket_opened() -> Ticket | None:
        async with live.runtime.db.reader() as session:
            found: Ticket | None = await session.scalar(
                select(Ticket).where(Ticket.contact_id == conversation.contact_id)
            )
            return found

    ticket = await wait_for(ticket_opened)
    assert ticket is not None
    async with live.runtime.db.reader() as session:
        rows = await console_queries.inbox(session, console_queries.InboxFilter(), agent_id=0)
        tickets = await session.scalar(
            select(func.count()).where(Ticket.contact_id == conversation.contact_id)
        )
        trail = (
            await session.scalars(
                select(TicketEvent.data).where(
                    TicketEvent.ticket_id == ticket.id, TicketEvent.kind == "customer_message"
                )
            )
        ).all()
        stored_ids = {m.id: m.external_id for m in inbound}
    assert [r.contact_id for r in rows].count(conversation.contact_id) == 1
    assert tickets == 1
    assert not {stored_ids[event["message_id"]] for event in trail} & throttled


# ----- the notice window, the language, the public surface and several processes ----------------


def said(
    thread: str, text: str, *, sender: str | None = None, surface: Surface = Surface.PRIVATE
) -> InboundMessage:
    return InboundMessage(
        channel="test",
        thread_key=thread,
        external_id=f"{thread}:{next(_ids)}",
        sender=Sender(external_id=sender or f"user-{thread}"),
        text=text,
        surface=surface,
    )


async def test_the_notice_is_sent_once_per_window_in_the_customers_language(db: Database) -> None:
    engine = Counting(BasicEngine("Acme"))
    throttle = InboundThrottle(LocalLimits(), per_minute=6, burst=3, notice_seconds=1.0)
    pipeline = Pipeline(db, engine, throttle=throttle)
    thread = f"zh-{uuid.uuid4().hex}"

    answered = [await pipeline.receive(said(thread, "你好，我的提现没到账")) for _ in range(3)]
    assert all(r.replies for r in answered)
    first_window = [await pipeline.receive(said(thread, "快回复我！")) for _ in range(29)]
    first_window.append(await pipeline.receive(said(thread, "my password is Tr0ub4dor&3xyzzy")))
    await asyncio.sleep(1.2)  # the notice window passes; the sender's budget (one per 10 s) does not
    second_window = [await pipeline.receive(said(thread, "在吗？")) for _ in range(10)]

    notices = [[r.text for r in result.replies] for result in first_window + second_window if result.replies]
    assert len(notices) == 2, notices
    assert all("过快" in texts[0] for texts in notices)
    assert first_window[0].replies and second_window[0].replies  # the first of each window is told
    assert len(engine.decided[f"user-{thread}"]) == 3
    async with db.reader() as session:
        conversation = (
            await session.scalars(select(Conversation).where(Conversation.thread_key == thread))
        ).one()
        inbound = (
            await session.scalars(
                select(Message).where(Message.conversation_id == conversation.id, Message.direction == "in")
            )
        ).all()
        last_answered = max(m.created_at for m in inbound if not is_throttled(m.raw))
    assert len(inbound) == 43 and sum(is_throttled(m.raw) for m in inbound) == 40
    # Unanswered is not unprotected: a secret in a throttled message is redacted all the same.
    assert not any("Tr0ub4dor" in m.text or "Tr0ub4dor" in str(m.raw) for m in inbound)
    assert any("[REDACTED:password]" in m.text for m in inbound if is_throttled(m.raw))
    # Throttled messages do not move the conversation up the agents' inbox.
    assert conversation.last_message_at == last_answered


async def test_a_public_flood_gets_no_public_notice(db: Database) -> None:
    throttle = InboundThrottle(LocalLimits(), per_minute=1, burst=1)
    pipeline = Pipeline(db, BasicEngine("Acme"), throttle=throttle)
    thread = f"tweet-{uuid.uuid4().hex}"
    results = [await pipeline.receive(said(thread, "@Acme scam!!", surface=Surface.PUBLIC)) for _ in range(5)]
    assert results[0].replies
    assert all(not r.replies for r in results[1:])


async def test_processes_sharing_redis_share_one_budget_per_sender(db: Database, redis_url: str) -> None:
    prefix = f"helpline-test:{uuid.uuid4().hex}:"
    engine = Counting(BasicEngine("Acme"))
    limits = [RedisLimits(redis_url, prefix=prefix), RedisLimits(redis_url, prefix=prefix)]
    # Two pipelines, each with its own connection to Redis, as two processes would have.
    pipelines = [
        Pipeline(db, engine, throttle=InboundThrottle(limit, per_minute=1, burst=4)) for limit in limits
    ]
    try:
        results = [await pipelines[n % 2].receive(said("shared", f"message {n}")) for n in range(12)]
    finally:
        for limit in limits:
            await limit.close()
    assert len(engine.decided["user-shared"]) == 4
    assert sum(TOO_FAST in r.text for result in results for r in result.replies) == 1


def test_the_limits_are_on_by_default_and_zero_turns_them_off() -> None:
    settings = load_settings({})
    assert settings.abuse.max_messages_per_minute == PER_MINUTE and settings.abuse.message_burst == BURST
    assert settings.abuse.max_tickets_per_day == 5
    assert InboundThrottle.from_settings(settings.abuse, None) is not None
    off = load_settings({"HELPLINE_ABUSE__MAX_MESSAGES_PER_MINUTE": "0"})
    assert InboundThrottle.from_settings(off.abuse, None) is None


# ----- the daily ticket limit ----------------------------------------------------------------------


class AlwaysTicket(Engine):
    """Asks for a person (and so a ticket) on every message."""

    async def respond(self, turn: Turn) -> Decision:
        request = TicketRequest(
            subject=f"Help with {turn.text}", category="general", details={}, reason="human"
        )
        return Decision((Reply("A person will answer."),), status="human", ticket=request)


class ShiftedClock:
    """The real time, moved on by ``offset``: the pipeline stamps turns with the real time, so
    the hand-moved :class:`tests.clock.Clock` would see the jobs they queue as not yet due."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


async def test_tickets_over_the_daily_limit_join_the_latest_or_are_declined_politely(db: Database) -> None:
    clock = ShiftedClock()
    service = TicketService(db, load_ticket_settings(), clock=clock, max_tickets_per_day=2)
    runner = JobRunner(db, clock=clock)
    runner.register(OPEN_TICKET, service.open_requested, completes=True)
    pipeline = Pipeline(db, AlwaysTicket())
    service._on_conversation_changed = pipeline.forget
    sender = "flood@customer.test"

    async def ask(thread: str, who: str = sender) -> None:
        await pipeline.receive(said(thread, thread, sender=who))
        while await runner.run_once():
            pass

    async def replies(thread: str) -> list[str]:
        async with db.reader() as session:
            return list(
                await session.scalars(
                    select(Message.text)
                    .join(Conversation, Conversation.id == Message.conversation_id)
                    .where(Conversation.thread_key == thread, Message.direction == "out")
                    .order_by(Message.id)
                )
            )

    await ask("t1")
    await ask("t2")
    await ask("t3")  # over the limit: joins the latest active ticket
    async with db.reader() as session:
        opened = (await session.scalars(select(Ticket).order_by(Ticket.number))).all()
        third = (await session.scalars(select(Conversation).where(Conversation.thread_key == "t3"))).one()
        joined = (
            await session.scalars(select(TicketEvent.data).where(TicketEvent.kind == "customer_request"))
        ).all()
    assert len(opened) == 2
    latest = opened[-1]
    assert third.ticket_id == latest.id
    assert f"added this to your open ticket HL-{latest.number}" in (await replies("t3"))[-1]
    assert joined == [{"reason": "human", "conversation_id": third.id, "over_daily_limit": True}]

    for ticket in opened:
        await service.solve(ticket.number)
    await ask("t4")  # nothing active to join: told politely, the bot answers again
    assert "24 hours" in (await replies("t4"))[-1]
    await ask("t5", who="someone-else@customer.test")  # another customer is not limited
    async with db.reader() as session:
        fourth = (await session.scalars(select(Conversation).where(Conversation.thread_key == "t4"))).one()
        tickets_of_flooder = await session.scalar(
            select(func.count()).select_from(Ticket).where(Ticket.contact_id == fourth.contact_id)
        )
        all_tickets = await session.scalar(select(func.count()).select_from(Ticket))
        jobs = (await session.execute(select(Job.status, Job.attempts))).all()
    assert (fourth.status, fourth.ticket_id) == ("bot", None)
    assert tickets_of_flooder == 2 and all_tickets == 3
    # Every job completed on its first attempt: no crash, no retry loop.
    assert jobs and all((status, attempts) == ("done", 1) for status, attempts in jobs)

    clock.offset = timedelta(hours=25)  # a day later the limit lifts
    await ask("t6")
    async with db.reader() as session:
        assert (
            await session.scalar(
                select(func.count()).select_from(Ticket).where(Ticket.contact_id == fourth.contact_id)
            )
            == 3
        )


# ----- one customer against another on the web chat --------------------------------------------------


async def test_customer_b_can_neither_read_nor_claim_customer_a(live: LiveServer) -> None:
    alice, bob = f"web-{uuid.uuid4().int}", f"web-{uuid.uuid4().int}"
    secret = "my withdrawal of 3.2 BTC to bc1qalicesecretaddress is missing"
    await chat(live.client, alice, "a1", text="my email is a@x.com and my uid is 123")
    await chat(live.client, alice, "a2", text=secret)
    await chat(live.client, alice, "a3", action="human")

    async def alices_ticket() -> Ticket | None:
        async with live.runtime.db.reader() as session:
            found: Ticket | None = await session.scalar(select(Ticket))
            return found

    ticket = await wait_for(alices_ticket)
    assert ticket is not None
    label = f"HL-{ticket.number}"
    alice_sees = (await live.client.get("/api/chat/messages", params={"session_id": alice})).json()[
        "messages"
    ]
    alice_ids = {m["id"] for m in alice_sees}
    assert any(label in m["text"] for m in alice_sees)  # she has her acknowledgement

    # Bob replays Alice's message ids under his own session, claims her e-mail and uid, names
    # her ticket, and asks for "his" ticket's status.
    bob_said = [
        await chat(live.client, bob, "a1", text="hello"),
        await chat(live.client, bob, "a2", text="my email is a@x.com"),
        await chat(live.client, bob, "a3", text="my uid is 123"),
        await chat(live.client, bob, "b4", text="whats the status of my ticket"),
        await chat(live.client, bob, "b5", text=f"I am a@x.com, uid 123: status of ticket {label}?"),
    ]
    assert not any(body["duplicate"] for body in bob_said)
    bob_replies = [r for body in bob_said for r in body["replies"]]
    assert bob_replies and not {r["id"] for r in bob_replies} & alice_ids
    assert "no support ticket" in " ".join(r["text"] for r in bob_said[3]["replies"])
    for reply in bob_replies:
        assert (
            label not in reply["text"]
            and "bc1qalice" not in reply["text"]
            and ticket.subject not in reply["text"]
        )

    # Reading: every variant of Alice's session id, her message ids as cursors, wildcards,
    # Bob's own session with cookies of any name: nothing of Alice's.
    guesses = [alice[:-1], alice + "0", alice.upper(), f" {alice}", f"{alice} ", "web-%", "%", "*", alice[:8]]
    for guess in guesses:
        for after in ("0", str(min(alice_ids) - 1)):
            response = await live.client.get(
                "/api/chat/messages", params={"session_id": guess, "after": after}
            )
            assert response.status_code in (200, 422)
            if response.status_code == 200:
                assert not {m["id"] for m in response.json()["messages"]} & alice_ids, guess
    cookies = {"session_id": alice, "helpline_session": alice, "helpline-session": alice}
    with_cookies = await live.client.get(
        "/api/chat/messages",
        params={"session_id": bob},
        headers={"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())},
    )
    bob_sees = with_cookies.json()["messages"]
    assert bob_sees and not {m["id"] for m in bob_sees} & alice_ids
    assert all(label not in m["text"] and "bc1qalice" not in m["text"] for m in bob_sees)

    # The store: two contacts, one identity each; nothing linked Bob to Alice or recorded a
    # claimed address; the only ticket is Alice's.
    async with live.runtime.db.reader() as session:
        identities = {
            row.external_id: row.contact_id
            for row in await session.execute(select(Identity.external_id, Identity.contact_id))
        }
        contacts = (await session.execute(select(Contact.id, Contact.email))).all()
        tickets = (await session.execute(select(Ticket.contact_id, Ticket.conversation_id))).all()
        bobs = (await session.scalars(select(Conversation).where(Conversation.thread_key == bob))).one()
    assert set(identities) == {alice, bob} and identities[alice] != identities[bob]
    assert len(contacts) == 2 and all(email is None for _, email in contacts)
    assert [contact for contact, _ in tickets] == [identities[alice]]
    assert bobs.contact_id == identities[bob] and bobs.ticket_id is None

"""Groups (public surface, only when addressed), long answers, and agents working from the staff group."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from adapters.telegram_staff import CURSOR
from conversations.channel_state import ChannelStateStore
from conversations.tables import Conversation, Message
from conversations.values import Button, OutboundMessage
from tests.telegram.conftest import SQLITE_ONLY, Helpline, Start
from tests.telegram.updates import (
    CUSTOMER,
    GROUP,
    STAFF_CHAT,
    again,
    bot_message,
    mention_entities,
    text_update,
    user,
)

AGENT = 9001
STAFF = {"staff_chat_id": STAFF_CHAT, "staff_agents": f'{{"{AGENT}": "alice@example.com"}}'}


@SQLITE_ONLY
async def test_a_group_is_answered_only_when_addressed_and_as_public(start_helpline: Start) -> None:
    helpline = await start_helpline()
    api = helpline.api
    text = "@helpline_test_bot hello"
    await api.push(
        text_update("hello everyone", chat_id=GROUP, message_id=70),
        text_update(text, chat_id=GROUP, message_id=71, entities=mention_entities(text)),
    )
    await api.wait_for(lambda: len(api.sent(GROUP)) == 1)
    [stored] = await helpline.until_stored(1)
    assert stored.external_id == f"{GROUP}:71"
    assert api.sent(GROUP)[0].params["reply_parameters"]["message_id"] == 71
    async with helpline.runtime.db.reader() as session:
        conversation = await session.scalar(select(Conversation).where(Conversation.thread_key == str(GROUP)))
    assert conversation is not None and conversation.surface == "public"

    await api.push(text_update("thanks", chat_id=GROUP, message_id=72, reply_to=bot_message(1000, GROUP)))
    await helpline.until_stored(2)


@SQLITE_ONLY
async def test_long_answers_go_out_in_parts_with_the_keyboard_on_the_last(start_helpline: Start) -> None:
    helpline = await start_helpline()
    api = helpline.api
    text = "\n\n".join(f"Step {i}: " + "check the network and the memo. " * 60 for i in range(5))
    platform_id = await helpline.channel.send(
        OutboundMessage(
            message_id=1,
            idempotency_key="helpline-1",
            channel="telegram",
            thread_key=str(CUSTOMER),
            text=text,
            buttons=(Button("Talk to a human", "human"),),
        )
    )
    parts = api.sent(CUSTOMER)
    assert len(parts) == 3
    assert [("reply_markup" in p.params) for p in parts] == [False, False, True]
    assert all(len(p.params["text"]) <= 4096 and p.params["text"].startswith("Step") for p in parts)
    assert platform_id == f"{CUSTOMER}:{api.posted(CUSTOMER)[0]['message_id']}"


async def customer_ticket(helpline: Helpline) -> str:
    """A customer writes, and a ticket is opened for their conversation (as the engine's job will)."""
    state = ChannelStateStore(helpline.runtime.db, "telegram")
    async with asyncio.timeout(30):
        while await state.get(CURSOR) is None:  # the staff feed has made its first round
            await asyncio.sleep(0.02)
    await helpline.api.push(text_update("my withdrawal of 50 USDT never arrived", message_id=80))
    [stored] = await helpline.until_stored(1)
    # The bot answers first (a form starts); a ticket opened before that answer is sent would
    # race it to the customer's chat.
    await helpline.api.wait_for(lambda: bool(helpline.api.sent(CUSTOMER)))
    view = await helpline.runtime.tickets.open(
        stored.conversation_id, "Withdrawal not received", "withdrawal_missing"
    )
    return view.number


async def posted_ticket(helpline: Helpline) -> str:
    """A customer's ticket, once its "New ticket" post has reached the staff group."""
    number = await customer_ticket(helpline)
    await helpline.api.wait_for(lambda: bool(helpline.api.posted(STAFF_CHAT, f"New ticket {number}")))
    return number


async def test_agents_answer_a_ticket_from_the_staff_group(start_helpline: Start) -> None:
    helpline = await start_helpline(**STAFF)
    api = helpline.api
    number = await posted_ticket(helpline)

    [post] = api.posted(STAFF_CHAT, f"New ticket {number}")
    assert "withdrawal of 50 USDT never arrived" in post["text"]
    answered_before = len(api.sent(CUSTOMER))

    reply = text_update(
        "We found it: the withdrawal is on its way.",
        chat_id=STAFF_CHAT,
        message_id=500,
        sender=user(AGENT, name="Alice"),
        # Telegram quotes the replied-to message whole; the agent may answer within milliseconds
        # of the post, before Helpline has recorded which ticket it belongs to.
        reply_to=bot_message(post["message_id"], STAFF_CHAT, text=post["text"]),
    )
    await api.push(reply, again(reply))
    await api.wait_for(lambda: len(api.sent(CUSTOMER)) > answered_before)
    assert len(api.sent(CUSTOMER)) == answered_before + 1
    assert api.sent(CUSTOMER)[-1].params["text"] == "We found it: the withdrawal is on its way."
    await api.wait_for(lambda: bool(api.posted(STAFF_CHAT, "Sent to the customer")))

    note = text_update(
        f"/note {number} checked the chain",
        chat_id=STAFF_CHAT,
        message_id=501,
        sender=user(AGENT, name="Alice"),
    )
    await api.push(note)
    await api.wait_for(lambda: bool(api.posted(STAFF_CHAT, "Internal note added")))
    solve = text_update(
        "/solve",
        chat_id=STAFF_CHAT,
        message_id=502,
        sender=user(AGENT),
        reply_to=bot_message(post["message_id"], STAFF_CHAT),
    )
    await api.push(solve)
    await api.wait_for(lambda: bool(api.posted(STAFF_CHAT, "solved")))

    detail = await helpline.runtime.tickets.get(number)
    assert detail.ticket.status == "solved"
    assert detail.ticket.assignee == "alice@example.com"
    assert [e.text for e in detail.transcript if e.internal] == ["checked the chain"]
    agent_replies = [e for e in detail.transcript if e.author == "agent" and not e.internal]
    assert len(agent_replies) == 1  # the redelivered staff update was not acted on twice
    assert len(api.posted(STAFF_CHAT, "Sent to the customer")) == 1


@SQLITE_ONLY
async def test_only_linked_agents_act_in_the_staff_group(start_helpline: Start) -> None:
    helpline = await start_helpline(**STAFF)
    api = helpline.api
    number = await posted_ticket(helpline)

    await api.push(text_update(f"/take {number}", chat_id=STAFF_CHAT, message_id=600, sender=user(1234)))
    await api.wait_for(lambda: bool(api.posted(STAFF_CHAT, "not linked to an agent")))
    await api.push(text_update("lunch?", chat_id=STAFF_CHAT, message_id=601, sender=user(AGENT)))
    await api.push(text_update(f"/take {number}", chat_id=STAFF_CHAT, message_id=602, sender=user(AGENT)))
    await api.wait_for(lambda: bool(api.posted(STAFF_CHAT, "is now alice@example.com's")))

    detail = await helpline.runtime.tickets.get(number)
    assert detail.ticket.status == "open" and detail.ticket.assignee == "alice@example.com"
    async with helpline.runtime.db.reader() as session:
        staff_chat_messages = await session.scalar(
            select(Message.id).join(Conversation).where(Conversation.thread_key == str(STAFF_CHAT))
        )
    assert staff_chat_messages is None  # the staff group is never a customer conversation


@SQLITE_ONLY
async def test_a_reply_to_a_post_not_yet_recorded_finds_its_ticket_in_the_post(start_helpline: Start) -> None:
    helpline = await start_helpline(**STAFF)
    api = helpline.api
    number = await posted_ticket(helpline)
    answered_before = len(api.sent(CUSTOMER))
    # Posts Helpline has no record of (ids it never used): one by the bot naming the ticket,
    # one by the bot naming none, one by a person naming the ticket.
    unknown_post = bot_message(9001, STAFF_CHAT, text=f"New ticket {number} · high · withdrawal_missing")
    no_label = bot_message(9002, STAFF_CHAT, text="withdrawal of 50 USDT never arrived")
    by_a_person = {
        **bot_message(9003, STAFF_CHAT, text=f"{number} looks odd"),
        "from": {"id": 77, "is_bot": False, "first_name": "Bob"},
    }
    for message_id, quoted in ((700, no_label), (701, by_a_person)):
        await api.push(
            text_update(
                "ignored", chat_id=STAFF_CHAT, message_id=message_id, sender=user(AGENT), reply_to=quoted
            )
        )
    await api.push(
        text_update(
            "Found it, on its way.",
            chat_id=STAFF_CHAT,
            message_id=702,
            sender=user(AGENT),
            reply_to=unknown_post,
        )
    )
    await api.wait_for(lambda: len(api.sent(CUSTOMER)) > answered_before)
    assert [m.params["text"] for m in api.sent(CUSTOMER)[answered_before:]] == ["Found it, on its way."]
    detail = await helpline.runtime.tickets.get(number)
    assert [e.text for e in detail.transcript if e.author == "agent"] == ["Found it, on its way."]

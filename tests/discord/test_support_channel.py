"""Support channels: public answers to mentions, private ticket threads, the staff side."""

from __future__ import annotations

from sqlalchemy import select

from conversations.tables import Message, OutboxEntry, Ticket
from tests.discord import fake_discord as fd
from tests.discord import payloads
from tests.discord.conftest import Helpline, Start

MENTION = f"<@{fd.BOT_ID}> "


async def _tickets(helpline: Helpline) -> list[Ticket]:
    async with helpline.runtime.db.reader() as session:
        return list((await session.scalars(select(Ticket).order_by(Ticket.id))).all())


async def _open_thread(helpline: Helpline) -> int:
    """A customer asks about their own withdrawal in the support channel: a private thread opens."""
    fake = helpline.fake
    question = MENTION + "my withdrawal of 500 USDT has not arrived"
    await fake.dispatch(
        "MESSAGE_CREATE", payloads.guild_message(4001, fd.SUPPORT_CHANNEL_ID, question, mention_bot=True)
    )
    await fake.wait_for(lambda: len(fake.threads) == 1)
    [thread_id] = fake.threads

    # The pointer in the channel is posted once the thread's ticket is open.
    await fake.wait_for(lambda: len(fake.messages_in(fd.SUPPORT_CHANNEL_ID)) == 1)
    return thread_id


async def test_general_question_is_answered_publicly(start_helpline: Start) -> None:
    helpline = await start_helpline()
    fake = helpline.fake
    await fake.dispatch(
        "MESSAGE_CREATE", payloads.guild_message(5000, fd.SUPPORT_CHANNEL_ID, "what are the trading fees?")
    )
    await fake.dispatch(
        "MESSAGE_CREATE",
        payloads.guild_message(5001, fd.OTHER_CHANNEL_ID, MENTION + "fees?", mention_bot=True),
    )
    await fake.dispatch(
        "MESSAGE_CREATE",
        payloads.guild_message(
            5002, fd.SUPPORT_CHANNEL_ID, MENTION + "what are the trading fees?", mention_bot=True
        ),
    )

    [stored] = await helpline.until_stored(1)
    assert stored.external_id == "5002"  # no mention, or not a support channel: not ours
    assert stored.text == "what are the trading fees?"
    [conversation] = await helpline.conversations()
    assert conversation.surface == "public"
    assert conversation.thread_key == f"{fd.SUPPORT_CHANNEL_ID}:{fd.CUSTOMER_ID}"
    await fake.wait_for(lambda: len(fake.messages_in(fd.SUPPORT_CHANNEL_ID)) >= 1)
    [reply, *_] = fake.messages_in(fd.SUPPORT_CHANNEL_ID)
    assert reply.body["message_reference"]["message_id"] == "5002"
    assert reply.body["allowed_mentions"] == {"parse": []}
    assert not fake.threads


async def test_account_specific_question_moves_to_a_private_thread_with_a_ticket(
    start_helpline: Start,
) -> None:
    helpline = await start_helpline()
    fake = helpline.fake
    thread_id = await _open_thread(helpline)

    thread = fake.threads[thread_id]
    assert thread["type"] == 12 and thread["thread_metadata"]["invitable"] is False
    assert (thread_id, fd.CUSTOMER_ID) in fake.thread_members
    [conversation] = await helpline.conversations()
    assert (conversation.thread_key, conversation.surface) == (str(thread_id), "private")
    [ticket] = await _tickets(helpline)
    assert ticket.conversation_id == conversation.id
    [stored] = await helpline.messages("in")
    assert stored.external_id == "4001"

    # The thread names the support role (which adds its members); the channel only gets a pointer.
    intro = fake.messages_in(thread_id)[0]
    assert f"<@&{fd.SUPPORT_ROLE_ID}>" in intro.content
    assert intro.body["allowed_mentions"]["roles"] == [fd.SUPPORT_ROLE_ID]
    await fake.wait_for(lambda: len(fake.messages_in(fd.SUPPORT_CHANNEL_ID)) == 1)
    [notice] = fake.messages_in(fd.SUPPORT_CHANNEL_ID)
    assert f"<#{thread_id}>" in notice.content and "500 USDT" not in notice.content
    await fake.wait_for(lambda: len(fake.messages_in(thread_id)) >= 2)  # the bot's answer, in the thread

    # The customer goes on in the thread: same conversation.
    await fake.dispatch("MESSAGE_CREATE", payloads.guild_message(4002, thread_id, "it was sent 3 hours ago"))
    stored_in = await helpline.until_stored(2)
    assert {m.conversation_id for m in stored_in} == {conversation.id}


async def test_a_replayed_mention_opens_no_second_thread(start_helpline: Start) -> None:
    helpline = await start_helpline()
    fake = helpline.fake
    await _open_thread(helpline)
    question = MENTION + "my withdrawal of 500 USDT has not arrived"
    await fake.dispatch(
        "MESSAGE_CREATE", payloads.guild_message(4001, fd.SUPPORT_CHANNEL_ID, question, mention_bot=True)
    )
    await fake.dispatch("MESSAGE_CREATE", payloads.dm_message(4003, "hello"))
    await helpline.until_stored(2)
    assert len(fake.threads) == 1
    assert len(await _tickets(helpline)) == 1
    assert len(fake.messages_in(fd.SUPPORT_CHANNEL_ID)) == 1


async def test_agent_reply_in_the_thread_becomes_the_tickets_agent_reply(start_helpline: Start) -> None:
    helpline = await start_helpline()
    fake = helpline.fake
    thread_id = await _open_thread(helpline)
    await fake.wait_for(lambda: len(fake.messages_in(thread_id)) >= 2)
    posts_before = len(fake.messages_in(thread_id))

    words = "Hi Mason, I can see the withdrawal; it is waiting for network confirmations."
    staff = payloads.guild_message(
        4100, thread_id, words, author_id=fd.AGENT_ID, name="alice", roles=[fd.SUPPORT_ROLE_ID]
    )
    await fake.dispatch("MESSAGE_CREATE", staff)
    await fake.dispatch("MESSAGE_CREATE", staff)  # replayed: added once

    async def delivered() -> bool:
        async with helpline.runtime.db.reader() as session:
            rows = (
                await session.execute(
                    select(Message.author, OutboxEntry.status, OutboxEntry.external_id).join(
                        OutboxEntry, OutboxEntry.message_id == Message.id
                    )
                )
            ).all()
        return any(r.author == "agent" and r.status == "sent" for r in rows)

    await helpline.until(delivered)
    agent_messages = [m for m in await helpline.messages("out") if m.author == "agent"]
    assert [m.text for m in agent_messages] == [words]
    [ticket] = await _tickets(helpline)
    assert ticket.first_response_at is not None and ticket.status == "open"
    # The agent's own message already shows in the thread: the bot does not post it again.
    assert len(fake.messages_in(thread_id)) == posts_before


async def test_take_is_refused_to_a_member_without_the_support_role(start_helpline: Start) -> None:
    helpline = await start_helpline()
    fake = helpline.fake
    thread_id = await _open_thread(helpline)
    await fake.dispatch("INTERACTION_CREATE", payloads.slash(7001, thread_id, "take", guild=True, roles=[]))
    await fake.wait_for(lambda: len(fake.callbacks) == 1)
    [refusal] = fake.callbacks
    assert refusal["type"] == 4 and refusal["data"]["flags"] == 64
    assert "support team only" in refusal["data"]["content"]
    [ticket] = await _tickets(helpline)
    assert ticket.assignee_id is None

    await fake.dispatch(
        "INTERACTION_CREATE",
        payloads.slash(7002, thread_id, "take", guild=True, roles=[fd.SUPPORT_ROLE_ID], user_id=fd.AGENT_ID),
    )
    await fake.wait_for(lambda: any(p.via == "original" for p in fake.posted))
    [answer] = [p for p in fake.posted if p.via == "original"]
    assert "is yours" in answer.content
    [ticket] = await _tickets(helpline)
    assert ticket.assignee_id is not None and ticket.status == "open"


async def test_note_and_solve_for_the_support_role(start_helpline: Start) -> None:
    helpline = await start_helpline()
    fake = helpline.fake
    thread_id = await _open_thread(helpline)
    staff = {"guild": True, "roles": [fd.SUPPORT_ROLE_ID], "user_id": fd.AGENT_ID}
    await fake.dispatch(
        "INTERACTION_CREATE", payloads.slash(7101, thread_id, "note", {"text": "KYC ok"}, **staff)
    )
    await fake.wait_for(lambda: sum(p.via == "original" for p in fake.posted) == 1)
    [ticket] = await _tickets(helpline)
    await fake.dispatch(
        "INTERACTION_CREATE",
        payloads.slash(7102, fd.SUPPORT_CHANNEL_ID, "solve", {"ticket": f"HL-{ticket.number}"}, **staff),
    )
    await fake.wait_for(lambda: sum(p.via == "original" for p in fake.posted) == 2)
    [ticket] = await _tickets(helpline)
    assert ticket.status == "solved"
    notes = [m for m in await helpline.messages() if m.internal]
    assert [n.text for n in notes] == ["KYC ok"]

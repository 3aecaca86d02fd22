"""DMs through the real discord.py: stored once, answered, replays after RESUME ignored."""

from __future__ import annotations

from tests.discord import fake_discord as fd
from tests.discord import payloads
from tests.discord.conftest import Start


async def test_dm_is_stored_and_answered(start_helpline: Start) -> None:
    helpline = await start_helpline()
    fake = helpline.fake
    await fake.dispatch("MESSAGE_CREATE", payloads.dm_message(1001, "how do I enable 2fa on my account?"))

    [stored] = await helpline.until_stored(1)
    assert stored.external_id == "1001"
    [conversation] = await helpline.conversations()
    assert conversation.thread_key == str(fd.DM_CHANNEL_ID)
    assert conversation.surface == "private"

    await fake.wait_for(lambda: len(fake.messages_in(fd.DM_CHANNEL_ID)) >= 1)
    reply = fake.messages_in(fd.DM_CHANNEL_ID)[0]
    assert reply.body["allowed_mentions"] == {"parse": []}
    assert reply.body["enforce_nonce"] is True
    assert reply.body["nonce"].startswith("helpline-")
    assert reply.content


async def test_event_replayed_after_resume_is_stored_once(start_helpline: Start) -> None:
    helpline = await start_helpline()
    fake = helpline.fake
    seq = await fake.dispatch("MESSAGE_CREATE", payloads.dm_message(2001, "what are the trading fees?"))
    await helpline.until_stored(1)
    await fake.wait_for(lambda: len(fake.messages_in(fd.DM_CHANNEL_ID)) >= 1)

    # The gateway asks for a reconnect and, on RESUME, sends the message again.
    fake.replay_from = seq
    await fake.reconnect()
    await fake.wait_for(lambda: len(fake.resumes) == 1)
    assert fake.identifies == 1, "discord.py resumed the session instead of identifying again"
    await fake.dispatch("MESSAGE_CREATE", payloads.dm_message(2002, "and the withdrawal fees?"))

    stored = await helpline.until_stored(2)
    assert [m.external_id for m in stored] == ["2001", "2002"]
    await fake.wait_for(lambda: len(fake.messages_in(fd.DM_CHANNEL_ID)) >= 2)
    replies = await helpline.messages("out")
    assert len(replies) == len(fake.messages_in(fd.DM_CHANNEL_ID)) == 2


async def test_customer_text_never_pings_anyone(start_helpline: Start) -> None:
    helpline = await start_helpline()
    fake = helpline.fake
    await fake.dispatch("MESSAGE_CREATE", payloads.dm_message(3001, "@everyone @here <@&1> hello"))
    await fake.wait_for(lambda: len(fake.messages_in(fd.DM_CHANNEL_ID)) >= 1)
    for posted in fake.messages_in(fd.DM_CHANNEL_ID):
        assert posted.body["allowed_mentions"] == {"parse": []}


async def test_an_event_discord_py_cannot_parse_does_not_stop_the_channel(start_helpline: Start) -> None:
    helpline = await start_helpline()
    fake = helpline.fake
    broken = payloads.slash(3101, fd.DM_CHANNEL_ID, "faq", {"question": "fees"})
    del broken["attachment_size_limit"]  # discord.py's parser raises and ends its connection
    await fake.dispatch("INTERACTION_CREATE", broken)
    await fake.wait_for(lambda: fake.identifies == 2)  # the channel connected again
    await helpline.ready()
    await fake.dispatch("MESSAGE_CREATE", payloads.dm_message(3102, "what are the trading fees?"))
    [stored] = await helpline.until_stored(1)
    assert stored.external_id == "3102"

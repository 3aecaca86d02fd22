"""Slash commands, autocomplete and persistent buttons through discord.py's own dispatch."""

from __future__ import annotations

from typing import Any

from adapters.discord_render import BUTTON_PREFIX
from conversations.values import Button, OutboundMessage
from core.engine.base import Engine
from tests.discord import fake_discord as fd
from tests.discord import payloads
from tests.discord.conftest import Helpline, Start, running
from tests.discord.fake_discord import FakeDiscord, Posted

DEFERRED = 5
UPDATE_MESSAGE = 7
AUTOCOMPLETE_RESULT = 8


def _custom_ids(posted: Posted) -> list[str]:
    return [c["custom_id"] for row in posted.body.get("components", []) for c in row["components"]]


async def _welcome(helpline: Helpline) -> Posted:
    """Say hello in a DM: the answer carries buttons (a person, the other language)."""
    fake = helpline.fake
    await fake.dispatch("MESSAGE_CREATE", payloads.dm_message(8001, "hello"))
    await fake.wait_for(lambda: len(fake.messages_in(fd.DM_CHANNEL_ID)) >= 1)
    [welcome] = fake.messages_in(fd.DM_CHANNEL_ID)
    assert f"{BUTTON_PREFIX}lang:zh" in _custom_ids(welcome)
    return welcome


def _as_message(posted: Posted) -> dict[str, Any]:
    return fd.message(
        posted.id,
        posted.channel_id or fd.DM_CHANNEL_ID,
        posted.content,
        author=fd.bot_mention(),
        components=posted.body["components"],
    )


async def test_slash_faq_is_deferred_then_followed_up(start_helpline: Start) -> None:
    helpline = await start_helpline()
    fake = helpline.fake
    await fake.dispatch(
        "INTERACTION_CREATE",
        payloads.slash(9001, fd.DM_CHANNEL_ID, "faq", {"question": "what are the trading fees"}),
    )
    await fake.wait_for(lambda: any(p.via == "original" for p in fake.posted))
    assert fake.callbacks[0]["type"] == DEFERRED
    [answer] = [p for p in fake.posted if p.via == "original"]
    assert answer.content and answer.body["allowed_mentions"] == {"parse": []}
    [stored] = await helpline.until_stored(1)
    assert (stored.external_id, stored.text) == ("9001", "what are the trading fees")
    assert not fake.messages_in(fd.DM_CHANNEL_ID), "answered through the interaction, not a second message"


async def test_faq_autocomplete_offers_knowledge_base_topics(start_helpline: Start) -> None:
    helpline = await start_helpline()
    fake = helpline.fake
    await fake.dispatch("INTERACTION_CREATE", payloads.autocomplete(9101, fd.DM_CHANNEL_ID, "withdrawal"))
    await fake.wait_for(lambda: len(fake.callbacks) == 1)
    [result] = fake.callbacks
    assert result["type"] == AUTOCOMPLETE_RESULT
    choices = result["data"]["choices"]
    assert 0 < len(choices) <= 25
    assert all(c["value"].startswith("topic:") for c in choices)
    assert any("withdraw" in c["value"] for c in choices)

    # Picking a suggestion sends the topic itself.
    topic = choices[0]["value"]
    await fake.dispatch(
        "INTERACTION_CREATE", payloads.slash(9102, fd.DM_CHANNEL_ID, "faq", {"question": topic})
    )
    [stored] = await helpline.until_stored(1)
    assert stored.action == topic


async def test_language_and_status_commands_run_turns(start_helpline: Start) -> None:
    helpline = await start_helpline()
    fake = helpline.fake
    language = payloads.slash(9201, fd.DM_CHANNEL_ID, "language", {"language": "zh"})
    language["data"]["options"][0]["type"] = 3
    await fake.dispatch("INTERACTION_CREATE", language)
    await fake.dispatch("INTERACTION_CREATE", payloads.slash(9202, fd.DM_CHANNEL_ID, "status"))
    stored = await helpline.until_stored(2)
    assert [m.action for m in stored] == ["lang:zh", "topic:support.ticket_status"]
    await fake.wait_for(lambda: sum(p.via == "original" for p in fake.posted) == 2)


async def test_button_press_disables_the_view_and_a_second_press_is_refused(start_helpline: Start) -> None:
    helpline = await start_helpline()
    fake = helpline.fake
    welcome = await _welcome(helpline)
    message = _as_message(welcome)

    await fake.dispatch("INTERACTION_CREATE", payloads.press(9301, message, f"{BUTTON_PREFIX}lang:zh"))
    await fake.wait_for(lambda: len(fake.callbacks) == 1)
    [update] = fake.callbacks
    assert update["type"] == UPDATE_MESSAGE
    buttons = [c for row in update["data"]["components"] for c in row["components"]]
    assert buttons and all(b["disabled"] for b in buttons)
    await fake.wait_for(lambda: any(p.via == "followup" for p in fake.posted))

    # Pressed again (a second click that raced the update, or another device): stored once.
    await fake.dispatch("INTERACTION_CREATE", payloads.press(9302, message, f"{BUTTON_PREFIX}human"))
    await fake.wait_for(lambda: sum(p.via == "followup" for p in fake.posted) == 2)
    stored = await helpline.until_stored(2)
    assert [(m.external_id, m.action) for m in stored] == [("8001", None), (f"{welcome.id}:press", "lang:zh")]
    assert "already answered" in [p for p in fake.posted if p.via == "followup"][-1].content


async def test_buttons_still_work_after_a_restart(
    discord_env: dict[str, str], faq_engine: Engine, fake: FakeDiscord
) -> None:
    async with running(discord_env, faq_engine, fake) as helpline:
        welcome = await _welcome(helpline)
    async with running(discord_env, faq_engine, fake) as helpline:
        await fake.dispatch(
            "INTERACTION_CREATE", payloads.press(9401, _as_message(welcome), f"{BUTTON_PREFIX}human")
        )
        stored = await helpline.until_stored(2)
        assert stored[-1].action == "human"
        [conversation] = await helpline.conversations()
        assert conversation.status == "human"
        assert fake.identifies == 2


async def test_topic_suggestions_render_as_a_select_menu(start_helpline: Start) -> None:
    helpline = await start_helpline()
    fake = helpline.fake
    suggestions = (
        Button("Deposit not credited", "topic:deposit.not_credited"),
        Button("Deposit fees", "topic:deposit.fees"),
        Button("Talk to a human", "human"),
    )
    await helpline.channel.send(
        OutboundMessage(
            1, "helpline-1", "discord", str(fd.DM_CHANNEL_ID), "Did you mean…", buttons=suggestions
        )
    )
    [reply] = fake.messages_in(fd.DM_CHANNEL_ID)
    [menu_row, button_row] = reply.body["components"]
    [menu] = menu_row["components"]
    assert menu["type"] == 3 and [o["value"] for o in menu["options"]] == [b.action for b in suggestions[:2]]
    assert [b["custom_id"] for b in button_row["components"]] == [f"{BUTTON_PREFIX}human"]

    choice = "topic:deposit.not_credited"
    await fake.dispatch(
        "INTERACTION_CREATE", payloads.press(9501, _as_message(reply), "hl:s", values=[choice])
    )
    [stored] = await helpline.until_stored(1)
    assert stored.action == choice

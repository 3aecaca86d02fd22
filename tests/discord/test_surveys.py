"""The satisfaction survey in a Discord DM, through the real discord.py and the fake gateway.

A DM customer's ticket is solved → the job runner sends the survey with 1–5 star buttons
(persistent components: the ``custom_id`` carries the action) → a star is pressed → Helpline
restarts (a new client, a new gateway session) → the same survey is pressed again: the
button is still understood, the press is acknowledged and the stored rating stays → the
next DM is the comment. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import select

from adapters.discord_render import BUTTON_PREFIX
from conversations.database import Database
from conversations.tables import Survey
from core.engine.base import Engine
from tests.discord import fake_discord as fd
from tests.discord import payloads
from tests.discord.conftest import Helpline, running
from tests.discord.fake_discord import FakeDiscord, Posted

UPDATE_MESSAGE = 7
_RATING = re.compile(rf"^{re.escape(BUTTON_PREFIX)}survey:(\d+):([1-5])$")


def _buttons(posted: Posted) -> list[dict[str, Any]]:
    return [c for row in posted.body.get("components", []) for c in row["components"]]


def _is_survey(posted: Posted) -> bool:
    return any(_RATING.match(b.get("custom_id", "")) for b in _buttons(posted))


def _as_message(posted: Posted) -> dict[str, Any]:
    """The survey message as Discord hands it back inside an interaction."""
    return fd.message(
        posted.id,
        fd.DM_CHANNEL_ID,
        posted.content,
        author=fd.bot_mention(),
        components=posted.body["components"],
    )


def _followups(fake: FakeDiscord) -> list[Posted]:
    return [p for p in fake.posted if p.via == "followup"]


@contextlib.asynccontextmanager
async def _with_jobs(env: dict[str, str], engine: Engine, fake: FakeDiscord) -> AsyncIterator[Helpline]:
    """A running Helpline whose job runner sends due surveys."""
    async with running(env, engine, fake) as helpline:
        jobs = helpline.runtime.jobs
        task = asyncio.create_task(jobs.run())
        try:
            yield helpline
        finally:
            jobs.stop()
            await task


async def _rating(db: Database, survey_id: int) -> tuple[int | None, str | None]:
    async with db.reader() as session:
        survey = await session.get(Survey, survey_id)
    assert survey is not None
    return survey.rating, survey.comment


async def test_survey_buttons_pressed_twice_with_a_restart_between(
    discord_env: dict[str, str], db: Database, faq_engine: Engine, fake: FakeDiscord
) -> None:
    env = {**discord_env, "HELPLINE_SURVEYS__DELAY_SECONDS": "0.2"}
    async with _with_jobs(env, faq_engine, fake) as helpline:
        await fake.dispatch("MESSAGE_CREATE", payloads.dm_message(7001, "my withdrawal has not arrived"))
        await fake.wait_for(lambda: len(fake.messages_in(fd.DM_CHANNEL_ID)) >= 1)
        [conversation] = await helpline.conversations()
        assert conversation.surface == "private"
        tickets = helpline.runtime.tickets
        view = await tickets.open(conversation.id, "Withdrawal not received", "withdrawal")
        await tickets.solve(view.number)

        # The survey: Discord buttons, five stars and the opt-out, in the DM.
        await fake.wait_for(lambda: any(_is_survey(p) for p in fake.messages_in(fd.DM_CHANNEL_ID)))
        [survey] = [p for p in fake.messages_in(fd.DM_CHANNEL_ID) if _is_survey(p)]
        assert "How did we do?" in survey.content and view.number in survey.content
        assert survey.body["allowed_mentions"] == {"parse": []}
        buttons = _buttons(survey)
        ratings = [m for b in buttons if (m := _RATING.match(b["custom_id"]))]
        assert [int(m.group(2)) for m in ratings] == [1, 2, 3, 4, 5]
        assert buttons[5]["custom_id"].startswith(f"{BUTTON_PREFIX}survey:optout:")
        survey_id = int(ratings[0].group(1))

        # The first press: the controls are disabled in the same answer, the thanks follows.
        await fake.dispatch(
            "INTERACTION_CREATE",
            payloads.press(7101, _as_message(survey), f"{BUTTON_PREFIX}survey:{survey_id}:5"),
        )
        await fake.wait_for(lambda: len(_followups(fake)) == 1)
        [update] = fake.callbacks
        assert update["type"] == UPDATE_MESSAGE
        assert all(b["disabled"] for row in update["data"]["components"] for b in row["components"])
        assert "Thank you for rating us 5/5" in _followups(fake)[0].content
        assert await _rating(helpline.runtime.db, survey_id) == (5, None)

    # Restarted: a new client and gateway session; the old message's buttons still work.
    async with _with_jobs(env, faq_engine, fake) as helpline:
        assert fake.identifies == 2
        await fake.dispatch(
            "INTERACTION_CREATE",
            payloads.press(7102, _as_message(survey), f"{BUTTON_PREFIX}survey:{survey_id}:1"),
        )
        await fake.wait_for(lambda: len(_followups(fake)) == 2)
        assert fake.callbacks[1]["type"] == UPDATE_MESSAGE
        assert "already answered" in _followups(fake)[1].content
        assert await _rating(helpline.runtime.db, survey_id) == (5, None)
        presses = [m for m in await helpline.messages("in") if (m.action or "").startswith("survey:")]
        assert [(m.external_id, m.action) for m in presses] == [
            (f"{survey.id}:press", f"survey:{survey_id}:5")
        ]

        # The comment, after the restart: the survey's state lives in the database.
        await fake.dispatch("MESSAGE_CREATE", payloads.dm_message(7002, "Quick and clear, thank you"))
        await fake.wait_for(
            lambda: any("passed your comment on" in p.content for p in fake.messages_in(fd.DM_CHANNEL_ID))
        )
        assert await _rating(helpline.runtime.db, survey_id) == (5, "Quick and clear, thank you")
        async with helpline.runtime.db.reader() as session:
            surveys = list(await session.scalars(select(Survey.id)))
        assert surveys == [survey_id]  # one survey for the ticket, restart or not

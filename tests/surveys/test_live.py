"""End to end on a running Helpline: the web chat, the job runner, the survey links, the report.

solve → the survey appears in the chat → a star → a comment → ``helpline report`` counts it;
and the e-mail links: one click records a rating, the page takes a comment, a replayed,
forged or expired link changes nothing.
"""

from __future__ import annotations

import io
import re
from typing import Any

import orjson
import pytest
from sqlalchemy import select

from adapters.report_cli import report_command
from adapters.survey_links import survey_button_link
from conversations.tables import Contact, Conversation, Survey
from core.surveys.links import signature, survey_token
from tests.surveys.conftest import LIVE_SECRET, Chat
from tests.web.conftest import LiveServer

_SURVEY = re.compile(r"^survey:(\d+):5$")


async def _ticket_for(live: LiveServer, chat: Chat, first: str) -> str:
    """Ask for a person: the job runner opens the ticket and the chat shows its number."""
    await chat.send(first)
    await chat.send(action="human")
    ack = await chat.wait_for(lambda m: "HL-" in m["text"])
    number = re.search(r"HL-\d+", ack["text"])
    assert number is not None
    return number.group(0)


async def _survey_id(chat: Chat) -> tuple[int, dict[str, Any]]:
    message = await chat.wait_for(lambda m: any(_SURVEY.match(b["action"]) for b in m["buttons"]))
    [survey_id] = {int(m.group(1)) for b in message["buttons"] if (m := _SURVEY.match(b["action"]))}
    return survey_id, message


async def _report(live: LiveServer) -> Any:
    out = io.StringIO()
    await report_command(live.runtime.settings, None, True, out)
    table = io.StringIO()
    await report_command(live.runtime.settings, None, False, table)
    assert "channel webchat" in table.getvalue()
    return orjson.loads(out.getvalue())


@pytest.mark.parametrize(
    ("lang", "first", "asked", "thanked", "commented"),
    [
        ("en", "my withdrawal has not arrived", "How did we do?", "5/5", "passed your comment on"),
        ("zh", "我的提现还没到账", "请为我们的服务打分", "5/5", "转达给团队"),
    ],
)
async def test_solve_survey_rating_comment_report(
    survey_live: LiveServer,
    lang: str,
    first: str,
    asked: str,
    thanked: str,
    commented: str,
) -> None:
    chat = Chat(survey_live, f"e2e-{lang}")
    number = await _ticket_for(survey_live, chat, first)
    await survey_live.runtime.tickets.solve(number)

    survey_id, message = await _survey_id(chat)
    assert asked in message["text"] and number in message["text"]
    assert len(message["buttons"]) == 6

    [thanks] = await chat.send(action=f"survey:{survey_id}:5")
    assert thanked in thanks["text"]
    [again] = await chat.send(action=f"survey:{survey_id}:1")  # a double press
    assert "already" in again["text"] or "已经回答过" in again["text"]
    [noted] = await chat.send("Fast and clear answer")
    assert commented in noted["text"]

    async with survey_live.runtime.db.reader() as session:
        stored = await session.get(Survey, survey_id)
    assert stored is not None and (stored.rating, stored.comment) == (5, "Fast and clear answer")

    report = await _report(survey_live)
    assert report["csat"]["answered"] == 1 and report["csat"]["satisfied_share"] == 1.0
    assert [(g["group"], g["answered"], g["mean"]) for g in report["csat_by_channel"]] == [
        ("webchat", 1, 5.0)
    ]
    assert report["surveys_sent"] == 1 and report["response_rate"] == 1.0
    assert report["tickets_opened"] == 1 and report["resolution"]["count"] == 1
    assert report["conversations"] == 1 and report["deflected"] == 0


async def test_email_links(survey_live: LiveServer) -> None:
    chat = Chat(survey_live, "links")
    number = await _ticket_for(survey_live, chat, "I lost my 2FA device")
    await survey_live.runtime.tickets.solve(number)
    survey_id, _ = await _survey_id(chat)
    settings = survey_live.runtime.settings
    client = survey_live.client

    four = survey_button_link(settings, f"survey:{survey_id}:4")
    one = survey_button_link(settings, f"survey:{survey_id}:1")
    assert four is not None and one is not None and four.startswith(survey_live.url + "/survey/")
    assert survey_button_link(settings, "human") is None

    page = await client.get(four)
    assert page.status_code == 200 and "4 out of 5" in page.text and "<form" in page.text
    assert page.headers["referrer-policy"] == "no-referrer"
    replay = await client.get(one)  # another star of the same e-mail, later
    assert replay.status_code == 200 and "already answered" in replay.text

    token = survey_token(LIVE_SECRET, survey_id)
    fields = dict(re.findall(r'name="([res])" value="([^"]+)"', page.text))
    posted = await client.post(f"/survey/{token}", data={**fields, "comment": "<b>Thanks</b> a lot"})
    assert posted.status_code == 200 and "passed your comment on" in posted.text
    second = await client.post(f"/survey/{token}", data={**fields, "comment": "changed my mind"})
    assert "already answered" in second.text

    forged = await client.get(f"/survey/{token}", params={"r": "5", "e": fields["e"], "s": fields["s"]})
    assert forged.status_code == 400
    past = 1_000_000_000
    expired = await client.get(
        f"/survey/{token}", params={"r": "5", "e": past, "s": signature(LIVE_SECRET, token, "5", past)}
    )
    assert expired.status_code == 410 and "closed" in expired.text
    unknown = survey_token(LIVE_SECRET, 999_999)
    future = int(fields["e"])
    missing = await client.get(
        f"/survey/{unknown}",
        params={"r": "5", "e": future, "s": signature(LIVE_SECRET, unknown, "5", future)},
    )
    assert missing.status_code == 404

    async with survey_live.runtime.db.reader() as session:
        stored = await session.get(Survey, survey_id)
    assert stored is not None and (stored.rating, stored.comment) == (4, "<b>Thanks</b> a lot")

    # The chat knows the survey was answered by link.
    [reply] = await chat.send(action=f"survey:{survey_id}:2")
    assert "already answered" in reply["text"]

    optout = survey_button_link(settings, f"survey:optout:{survey_id}")
    assert optout is not None
    page = await client.get(optout)
    assert page.status_code == 200 and "receive satisfaction surveys" in page.text
    async with survey_live.runtime.db.reader() as session:
        opted = await session.scalar(
            select(Contact.surveys_opt_out)
            .join(Conversation, Conversation.contact_id == Contact.id)
            .where(Conversation.thread_key == "links")
        )
    assert opted is True

"""The satisfaction survey by e-mail, end to end: Dovecot → Helpline (live HTTP) → aiosmtpd.

A mail opens a ticket; solving it sends a survey e-mail in the customer's thread whose
ratings are signed one-click links. Fetched over HTTP from the running server, a link
records the rating and asks for a comment; another star of the same e-mail changes
nothing. Without a link, replying "4" in the thread records the rating. On SQLite and
PostgreSQL, in English and Chinese.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from adapters.email_channel import EmailChannel
from conversations.database import Database
from conversations.tables import Survey
from core.engine.base import Engine
from core.reports import build_report
from tests.email.conftest import Dovecot, SmtpServer
from tests.email.test_channel import CUSTOMER, mail, settings_for
from tests.web.conftest import LiveServer, serving

__all__ = ["settings_for"]  # the e-mail settings fixture of the channel tests, reused here

_LINK = re.compile(r"^- ([1-5]) ★: (http://\S+)$", re.MULTILINE)
_ANY_LINK = re.compile(r"^- .+: (http://\S+/survey/\S+)$", re.MULTILINE)
_TICKET = re.compile(r"HL-\d+")


@pytest.fixture
async def live(
    settings_for: dict[str, str], database_url: str, db: Database, faq_engine: Engine, data_dir: Path
) -> AsyncIterator[LiveServer]:
    """Helpline serving HTTP (the survey pages) with the e-mail channel; surveys 0.2 s after solving."""
    async with serving(
        database_url, faq_engine, data_dir, **settings_for, HELPLINE_SURVEYS__DELAY_SECONDS="0.2"
    ) as server:
        channel = server.runtime.channels["email"]
        assert isinstance(channel, EmailChannel)
        await asyncio.wait_for(channel.connected.wait(), 10)
        yield server


async def _solved_with_survey(
    live: LiveServer, dovecot: Dovecot, smtp: SmtpServer, mail_user: str, subject: str, body: str
) -> tuple[str, EmailMessage]:
    """A mail opens a ticket (its number in our first reply); solved, the survey mail comes."""
    await dovecot.append(mail_user, mail("<first@customer.test>", subject, body))
    first = await smtp.next_message()
    found = _TICKET.search(first["Subject"])
    assert found is not None
    number = found.group(0)
    await live.runtime.tickets.solve(number)
    survey = await smtp.next_message()
    assert survey["To"].addresses[0].addr_spec == CUSTOMER
    assert f"[#{number}]" in survey["Subject"]
    assert survey["In-Reply-To"] == "<first@customer.test>"
    return number, survey


async def _survey_row(live: LiveServer) -> Survey:
    """The one survey (one ticket, one survey)."""
    async with live.runtime.db.reader() as session:
        [row] = (await session.scalars(select(Survey))).all()
    return row


@pytest.mark.parametrize(
    ("subject", "body", "asked", "rated", "already", "commented"),
    [
        (
            "Withdrawal not received",
            "I withdrew 100 USDT on TRC20 two hours ago and it has not arrived.",
            "How did we do?",
            "4 out of 5",
            "already answered",
            "passed your comment on",
        ),
        (
            "提现未到账",
            "我两个小时前提现了100 USDT，到现在还没有到账。",
            "请为我们的服务打分",
            "评分为 4/5",
            "已经回答过",
            "转达给团队",
        ),
    ],
    ids=["en", "zh"],
)
async def test_a_survey_link_from_the_mail_records_one_rating(
    live: LiveServer,
    dovecot: Dovecot,
    smtp: SmtpServer,
    mail_user: str,
    subject: str,
    body: str,
    asked: str,
    rated: str,
    already: str,
    commented: str,
) -> None:
    number, survey = await _solved_with_survey(live, dovecot, smtp, mail_user, subject, body)
    content = "\n".join(survey.get_content().splitlines())  # the mail's lines end in CRLF
    assert asked in content and number in content
    links = {int(star): url for star, url in _LINK.findall(content)}
    assert sorted(links) == [1, 2, 3, 4, 5]
    assert all(url.startswith(f"{live.url}/survey/") for url in links.values())
    assert len(_ANY_LINK.findall(content)) == 6  # five stars and the opt-out are all links

    # A customer's mail client: a plain GET of the link, no cookies, no Helpline client.
    async with httpx.AsyncClient(timeout=10) as browser:
        page = await browser.get(links[4])
        assert page.status_code == 200 and rated in page.text and "<form" in page.text
        assert (await _survey_row(live)).rating == 4

        second = await browser.get(links[1])  # another star of the same e-mail, later
        assert second.status_code == 200 and already in second.text
        assert (await _survey_row(live)).rating == 4

        action = re.search(r'<form method="post" action="([^"]+)"', page.text)
        fields = dict(re.findall(r'name="([res])" value="([^"]+)"', page.text))
        assert action is not None and set(fields) == {"r", "e", "s"}
        posted = await browser.post(
            httpx.URL(links[4]).join(action.group(1)), data={**fields, "comment": "Solved fast"}
        )
        assert posted.status_code == 200 and commented in posted.text

    stored = await _survey_row(live)
    assert (stored.rating, stored.comment, stored.channel) == (4, "Solved fast", "email")


async def test_replying_with_a_number_records_the_rating(
    live: LiveServer, dovecot: Dovecot, smtp: SmtpServer, mail_user: str
) -> None:
    number, survey = await _solved_with_survey(
        live, dovecot, smtp, mail_user, "Deposit missing", "My BTC deposit has not been credited."
    )
    assert "reply with the number" in survey.get_content()
    quoted = "\n".join(f"> {line}" for line in survey.get_content().splitlines())
    await dovecot.append(
        mail_user,
        mail(
            "<rating@customer.test>",
            f"Re: {survey['Subject'].removeprefix('Re: ')}",
            f"4\n\nOn Mon, Support wrote:\n{quoted}",
            headers={
                "In-Reply-To": survey["Message-ID"],
                "References": f"<first@customer.test> {survey['Message-ID']}",
            },
        ),
    )
    thanks = await smtp.next_message()
    assert thanks["In-Reply-To"] == "<rating@customer.test>" and f"[#{number}]" in thanks["Subject"]
    assert "Thank you for rating us 4/5" in thanks.get_content()
    stored = await _survey_row(live)
    assert (stored.rating, stored.comment) == (4, None)

    # The next reply in the thread is the comment.
    await dovecot.append(
        mail_user,
        mail(
            "<comment@customer.test>",
            f"Re: {survey['Subject'].removeprefix('Re: ')}",
            "The agent was very patient.",
            headers={"In-Reply-To": thanks["Message-ID"]},
        ),
    )
    noted = await smtp.next_message()
    assert "passed your comment on" in noted.get_content()
    stored = await _survey_row(live)
    assert (stored.rating, stored.comment) == (4, "The agent was very patient.")

    now = datetime.now(UTC)
    report = await build_report(live.runtime.db, now - timedelta(days=1), now + timedelta(minutes=1))
    assert [(g.group, g.answered, g.mean) for g in report.csat_by_channel] == [("email", 1, 4.0)]
    assert report.surveys_sent == 1 and report.response_rate == 1.0

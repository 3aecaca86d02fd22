"""``helpline report``: figures computed from stored surveys and tickets, printed as tables or JSON."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from adapters.cli import main
from adapters.report_cli import render
from conversations.database import Database
from conversations.tables import Agent, Contact, Conversation, Survey, Ticket
from core.reports import build_report, csat_of, iso_week, timing

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)  # a Monday: ISO week 2025-W10


async def _seed(db: Database) -> None:
    async with db.transaction() as session:
        session.add(Agent(id=1, email="ann@example.com", display_name="Ann", created_at=T0))
        session.add(Contact(id=1, created_at=T0))
        for n, (channel, status) in enumerate([("webchat", "bot"), ("telegram", "bot"), ("email", "bot")], 1):
            session.add(
                Conversation(
                    id=n,
                    channel=channel,
                    thread_key=f"t{n}",
                    contact_id=1,
                    status=status,
                    bot_state={},
                    slots={},
                    created_at=T0,
                    last_message_at=T0,
                )
            )
        await session.flush()
        cases = [  # conversation, category, agent, first response, solved, rating, answered
            (1, "withdrawal", 1, timedelta(minutes=10), timedelta(hours=2), 5, T0 + timedelta(days=1)),
            (2, "deposit", None, timedelta(minutes=30), timedelta(hours=6), 2, T0 + timedelta(days=8)),
        ]
        for n, (cid, category, agent, first, solved, rating, answered) in enumerate(cases, 1):
            session.add(
                Ticket(
                    id=n,
                    number=1000 + n,
                    conversation_id=cid,
                    contact_id=1,
                    subject="s",
                    category=category,
                    priority="normal",
                    status="solved",
                    assignee_id=agent,
                    details={},
                    first_response_at=T0 + first,
                    solved_at=T0 + solved,
                    created_at=T0,
                    updated_at=T0,
                )
            )
            await session.flush()
            session.add(
                Survey(
                    ticket_id=n,
                    conversation_id=cid,
                    channel="webchat" if cid == 1 else "telegram",
                    status="answered",
                    token=f"tok{n}",
                    due_at=T0,
                    sent_at=T0,
                    expires_at=T0 + timedelta(days=30),
                    rating=rating,
                    answered_at=answered,
                    created_at=T0,
                )
            )
        # Conversations 1 and 2 had tickets; 3 was answered by the bot alone (deflected).
        for cid, tid in ((1, 1), (2, 2)):
            conversation = await session.get(Conversation, cid)
            assert conversation is not None
            conversation.ticket_id = tid


async def test_figures(db: Database) -> None:
    await _seed(db)
    report = await build_report(db, T0 - timedelta(days=1), T0 + timedelta(days=10))
    assert (report.csat.answered, report.csat.satisfied_share, report.csat.mean) == (2, 0.5, 3.5)
    assert [(c.group, c.answered, c.mean) for c in report.csat_by_channel] == [
        ("telegram", 1, 2.0),
        ("webchat", 1, 5.0),
    ]
    assert [c.group for c in report.csat_by_category] == ["deposit", "withdrawal"]
    assert [(c.group, c.satisfied_share) for c in report.csat_by_agent] == [
        ("(unassigned)", 0.0),
        ("ann@example.com", 1.0),
    ]
    assert [c.group for c in report.csat_by_week] == ["2025-W10", "2025-W11"]
    assert (report.surveys_sent, report.surveys_answered, report.response_rate) == (2, 2, 1.0)
    assert report.first_response.median_seconds == 20 * 60 and report.first_response.p90_seconds == 30 * 60
    assert report.resolution.median_seconds == 4 * 3600
    assert (report.conversations, report.deflected, report.deflection) == (3, 1, 1 / 3)

    text = render(report)
    assert "channel telegram" in text and "50.0%" in text and "33.3%" in text
    data = report.as_json()
    assert orjson.loads(orjson.dumps(data))["csat"]["mean"] == 3.5


def test_helpers() -> None:
    assert csat_of("x", {}).satisfied_share is None
    assert csat_of("x", {4: 1, 5: 1, 1: 2}).satisfied_share == 0.5
    assert timing([]).median_seconds is None
    assert timing(range(1, 11)).p90_seconds == 10
    assert iso_week(datetime(2024, 12, 30, tzinfo=UTC)) == "2025-W01"


@pytest.fixture
def keep_logging() -> Iterator[None]:
    """``helpline`` configures the root logger for itself; the test suite's handlers come back after."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_command_line(
    keep_logging: None,
    tmp_path: Path,
    sqlite_template: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    target = tmp_path / "helpline.db"
    target.write_bytes(sqlite_template.read_bytes())
    monkeypatch.setenv("HELPLINE_DATABASE__URL", f"sqlite+aiosqlite:///{target}")
    assert main(["report", "--since", "2025-03-01"]) == 0
    out = capsys.readouterr().out
    assert "Helpline report: 2025-03-01 00:00" in out and "Deflection" in out
    assert main(["report", "--json"]) == 0
    assert orjson.loads(capsys.readouterr().out)["surveys_sent"] == 0
    with pytest.raises(SystemExit):
        main(["report", "--since", "March"])
    assert "is not a date like 2025-03-01" in capsys.readouterr().err

"""``helpline tickets list|show|reply|solve`` through its parser and handlers, on SQLite and PostgreSQL."""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Coroutine
from typing import Any

import pytest
from sqlalchemy import select

from adapters.tickets_cli import add_ticket_commands, clip, width
from conversations.database import Database
from conversations.tables import Agent
from core.settings import DatabaseSettings, Settings
from core.tickets import TicketService, load_ticket_settings
from tests.tickets.conftest import agent, conversation, outbox_texts


def run(coro: Coroutine[Any, Any, None]) -> None:
    asyncio.run(coro)


def helpline(database_url: str, *argv: str) -> int:
    """Parse and run a ``helpline tickets`` command the way ``adapters.cli.main`` does."""
    parser = argparse.ArgumentParser(prog="helpline")
    add_ticket_commands(parser.add_subparsers(), run)
    args = parser.parse_args(argv)
    settings = Settings(database=DatabaseSettings(url=database_url))
    return int(args.handler(settings, args))


async def _seed(database_url: str) -> None:
    db = Database(database_url)
    try:
        service = TicketService(db, load_ticket_settings())
        urgent = await service.open(
            await conversation(db, "a", texts=["my account was hacked"]), "Account hacked", None
        )
        await service.open(
            await conversation(db, "b", user="u2"),
            "充值未到账，请帮忙查询一下这笔充值的状态，我已经等了三天了，交易哈希已经提供给你们了",
            None,
        )
        await service.take(urgent.number, await agent(db))
    finally:
        await db.dispose()


def seed(database_url: str) -> None:
    asyncio.run(_seed(database_url))


def test_list_prints_a_table_most_pressing_first(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    seed(database_url)
    assert helpline(database_url, "tickets", "list") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["NUMBER", "STATUS", "PRIORITY", "RESPONSE", "ASSIGNEE", "SUBJECT"]
    assert lines[1].split()[:5] == ["HL-1001", "open", "urgent", "in", "59m"]
    assert "ann@example.com" in lines[1]
    assert lines[2].startswith("HL-1002  new")
    assert lines[2].endswith("…")  # the Chinese subject is clipped to the column
    # Columns line up in terminal cells, Chinese characters taking two.
    assert width(lines[1][: lines[1].index("Account")]) == width(lines[2][: lines[2].index("充值")])


def test_list_json_filters_by_status(database_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    seed(database_url)
    assert helpline(database_url, "tickets", "list", "--json", "--status", "new") == 0
    [ticket] = json.loads(capsys.readouterr().out)
    assert (ticket["number"], ticket["status"], ticket["priority"]) == ("HL-1002", "new", "normal")
    assert ticket["sla_due_at"].endswith("+00:00")
    assert helpline(database_url, "tickets", "list", "--json", "--status", "solved") == 0
    assert json.loads(capsys.readouterr().out) == []


def test_reply_without_an_agent_uses_the_operator_and_solve_returns_to_the_bot(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    seed(database_url)
    assert helpline(database_url, "tickets", "reply", "HL-1002", "We found your deposit.") == 0
    assert helpline(database_url, "tickets", "reply", "hl-1002", "It is credited now.") == 0
    assert capsys.readouterr().out.splitlines() == [
        "HL-1002: reply queued for the customer (status open)",
        "HL-1002: reply queued for the customer (status open)",
    ]
    assert helpline(database_url, "tickets", "solve", "1002") == 0
    assert capsys.readouterr().out == "HL-1002: solved; the bot answers the customer again\n"

    async def check() -> None:
        db = Database(database_url)
        try:
            assert await outbox_texts(db) == ["We found your deposit.", "It is credited now."]
            async with db.reader() as session:
                operators = (
                    await session.scalars(select(Agent).where(Agent.email == "operator@localhost"))
                ).all()
            assert len(operators) == 1  # created once, reused
            detail = await TicketService(db, load_ticket_settings()).get("HL-1002")
            assert detail.ticket.assignee == "operator@localhost"
            assert [(e.kind, e.actor) for e in detail.events] == [
                ("opened", "bot"),
                ("replied", "operator@localhost"),
                ("replied", "operator@localhost"),
                ("solved", "operator@localhost"),
            ]
        finally:
            await db.dispose()

    asyncio.run(check())


def test_reply_as_a_named_agent_and_errors_exit_1_with_the_reason(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    seed(database_url)
    assert helpline(database_url, "tickets", "reply", "HL-1001", "On it.", "--agent", "ANN@example.com") == 0
    assert helpline(database_url, "tickets", "reply", "HL-1001", "Hi", "--agent", "eve@example.com") == 1
    assert helpline(database_url, "tickets", "solve", "HL-9999") == 1
    assert helpline(database_url, "tickets", "solve", "HL-1001") == 0
    assert helpline(database_url, "tickets", "solve", "HL-1001") == 1
    captured = capsys.readouterr()
    # Log lines may share standard error (logging is set up by whichever command ran first).
    assert [line for line in captured.err.splitlines() if line.startswith("helpline:")] == [
        "helpline: no active agent has the e-mail address 'eve@example.com'",
        "helpline: no ticket HL-9999",
        "helpline: HL-1001 is already solved",
    ]


def test_show_prints_events_and_the_transcript_with_internal_notes_marked(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    seed(database_url)

    async def note() -> None:
        db = Database(database_url)
        try:
            service = TicketService(db, load_ticket_settings())
            ann = await service.agent_id("ann@example.com")
            await service.note("HL-1001", ann, "Froze the account.")
            await service.reply("HL-1001", ann, "Your account is frozen for your safety.")
        finally:
            await db.dispose()

    asyncio.run(note())
    assert helpline(database_url, "tickets", "show", "HL-1001") == 0
    out = capsys.readouterr().out
    assert out.startswith(
        "HL-1001  Account hacked\nstatus open, priority urgent, category -, assignee ann@example.com"
    )
    assert "taken            ann@example.com" in out
    transcript = out.split("transcript:\n")[1].splitlines()
    assert [line.split("  ", 2)[2] for line in transcript] == [
        "[customer] my account was hacked",
        "[internal note] Froze the account.",
        "[agent] Your account is frozen for your safety.",
    ]
    assert helpline(database_url, "tickets", "show", "HL-1001", "--json") == 0
    data = json.loads(capsys.readouterr().out)
    assert [(m["author"], m["internal"]) for m in data["transcript"]] == [
        ("customer", False),
        ("agent", True),
        ("agent", False),
    ]
    assert [e["kind"] for e in data["events"]] == ["opened", "taken", "note", "replied"]


def test_clip_keeps_within_the_column() -> None:
    assert clip("short", 10) == "short"
    assert clip("充值未到账请帮忙", 9) == "充值未到…"
    assert width(clip("充值未到账请帮忙", 9)) <= 9

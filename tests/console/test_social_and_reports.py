"""The social team's mention queue and the reports page, on both databases."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import select

from conversations.database import Database
from conversations.tables import Message, OutboxEntry, Survey, Ticket
from conversations.values import Surface
from tests.console.conftest import ConsoleEnv, customer, outbox_rows, post_form


async def held_draft(db: Database, conversation_id: int, mention: str, reply: str, now: datetime) -> int:
    """A public reply the X channel held for review, answering a stored mention."""
    async with db.transaction() as session:
        inbound = await session.scalar(
            select(Message.id).where(Message.conversation_id == conversation_id).order_by(Message.id.desc())
        )
        assert inbound is not None
        row = await session.get(Message, inbound)
        assert row is not None
        row.text = mention
        row.raw = {"author_handle": "@bob_trader"}
        row.external_id = f"tweet-{conversation_id}"
        message = Message(
            conversation_id=conversation_id,
            channel="x",
            direction="out",
            author="bot",
            text=reply,
            buttons=[],
            attachments=[],
            internal=False,
            in_reply_to_id=inbound,
            topic="deposit.not_credited",
            created_at=now,
        )
        session.add(message)
        await session.flush()
        entry = OutboxEntry(
            message_id=message.id,
            conversation_id=conversation_id,
            channel="x",
            status="held",
            attempts=1,
            next_attempt_at=now,
            created_at=now,
        )
        session.add(entry)
        await session.flush()
        return entry.id


async def test_the_social_team_approves_edits_and_discards_drafts(console: ConsoleEnv) -> None:
    first = await customer(console.db, "x-1", ["m"], channel="x", surface=Surface.PUBLIC, name="Bob")
    second = await customer(console.db, "x-2", ["m"], channel="x", surface=Surface.PUBLIC, name="Bob")
    now = console.clock()
    approve_id = await held_draft(console.db, first, "@Acme my deposit <b>vanished</b>", "Sorry! DM us.", now)
    discard_id = await held_draft(console.db, second, "@Acme you scam", "We are here to help.", now)
    social = await console.signed_in("social")

    page = (await social.get("/console/mentions")).text
    assert "@bob_trader" in page
    assert "my deposit &lt;b&gt;vanished&lt;/b&gt;" in page
    assert "Sorry! DM us." in page and "We are here to help." in page

    approved = await post_form(
        social,
        "/console/mentions",
        f"/console/mentions/{approve_id}/approve",
        {"original": "Sorry! DM us.", "text": "Sorry about that! Please DM us your UID."},
    )
    assert approved.status_code == 303
    discarded = await post_form(social, "/console/mentions", f"/console/mentions/{discard_id}/discard")
    assert discarded.status_code == 303

    entries = {e.id: e for e in await outbox_rows(console.db)}
    assert entries[approve_id].status == "pending"
    assert entries[approve_id].reviewed_by_id == console.agent_ids["social"]
    assert entries[discard_id].status == "discarded"
    async with console.db.reader() as session:
        message = await session.get(Message, entries[approve_id].message_id)
    assert message is not None and message.text == "Sorry about that! Please DM us your UID."
    assert "No drafts are waiting." in (await social.get("/console/mentions")).text

    again = await post_form(
        social, "/console/mentions", f"/console/mentions/{approve_id}/approve", {"text": "x"}
    )
    assert again.status_code == 409 and "not held" in again.text
    missing = await post_form(social, "/console/mentions", "/console/mentions/999999/discard")
    assert missing.status_code == 404


async def test_reports_with_no_data_and_with_data(console: ConsoleEnv) -> None:
    admin = await console.signed_in("admin")
    empty = await admin.get("/console/reports")
    assert empty.status_code == 200
    assert "No survey answers in this period." in empty.text
    assert empty.text.count("<svg") == 5

    now = console.clock()
    bot_only = await customer(console.db, "r-1", ["hi"], channel="webchat", now=now - timedelta(days=1))
    handed = await customer(console.db, "r-2", ["help", "please"], channel="telegram", now=now)
    await customer(console.db, "r-3", ["hello"], channel="telegram", now=now)
    ticket = await console.tickets.open(handed, "Help", None)
    console.clock.advance(minutes=30)
    await console.tickets.reply(ticket.number, console.agent_ids["admin"], "Hello")
    console.clock.advance(hours=2)
    await console.tickets.solve(ticket.number)
    async with console.db.transaction() as session:
        ticket_id = await session.scalar(select(Ticket.id).where(Ticket.number == int(ticket.number[3:])))
        assert ticket_id is not None
        session.add(
            Survey(
                ticket_id=ticket_id,
                conversation_id=handed,
                channel="telegram",
                status="answered",
                due_at=now,
                rating=5,
                answered_at=console.clock(),
                created_at=now,
            )
        )
    assert bot_only != handed

    report = (await admin.get("/console/reports", params={"days": "7"})).text
    assert "100 % satisfied" in report and "1 answers" in report
    assert re.search(r"telegram: 3", report) and re.search(r"webchat: 1", report)
    assert "median 30m" in report  # first response
    assert "median 2h 30m" in report  # resolution
    assert "67 %" in report and "of 3 conversations never reached a person" in report
    assert report.count("<svg") == 5
    # A period that is not offered falls back to 30 days.
    assert (await admin.get("/console/reports", params={"days": "9999"})).status_code == 200

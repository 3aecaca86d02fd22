"""``helpline mentions list|approve|discard`` through its parser and handlers, on SQLite and PostgreSQL."""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Coroutine
from typing import Any

import pytest
from sqlalchemy import select, update

from adapters.x_cli import add_mention_commands
from conversations import repository as repo
from conversations.database import Database
from conversations.outbox import HELD
from conversations.tables import Message, OutboxEntry
from conversations.values import Author, InboundMessage, Sender, Surface
from core.pipeline import utcnow
from core.settings import DatabaseSettings, Settings


def run(coro: Coroutine[Any, Any, None]) -> None:
    asyncio.run(coro)


def helpline(database_url: str, *argv: str) -> int:
    parser = argparse.ArgumentParser(prog="helpline")
    add_mention_commands(parser.add_subparsers(), run)
    args = parser.parse_args(argv)
    return int(args.handler(Settings(database=DatabaseSettings(url=database_url)), args))


async def _held_reply(database_url: str, tweet: str, reply: str) -> int:
    """A public mention with a bot reply the X channel held, as the dispatcher leaves it."""
    db = Database(database_url)
    now = utcnow()
    message = InboundMessage(
        channel="x",
        thread_key=tweet,
        external_id=tweet,
        sender=Sender("42", handle="@alice"),
        text="where is my deposit?",
        surface=Surface.PUBLIC,
        reply_to_external_id=tweet,
        raw={"author_handle": "@alice"},
    )
    try:
        async with db.transaction() as session:
            contact = await repo.contact_for(session, message, now)
            record = await repo.conversation_for(session, message, contact, now)
            inbound = await repo.insert_inbound(session, record.id, message, message.text, now)
            [stored] = await repo.add_replies(
                session, record.id, "x", [repo.NewReply(reply, (), Author.BOT, None)], now
            )
            await session.execute(
                update(Message).where(Message.id == stored.id).values(in_reply_to_id=inbound)
            )
            outbox_id = await session.scalar(
                update(OutboxEntry)
                .where(OutboxEntry.message_id == stored.id)
                .values(status=HELD)
                .returning(OutboxEntry.id)
            )
        assert outbox_id is not None
        return int(outbox_id)
    finally:
        await db.dispose()


async def _status(database_url: str) -> list[tuple[str, str]]:
    db = Database(database_url)
    try:
        async with db.reader() as session:
            rows = await session.execute(
                select(OutboxEntry.status, Message.text)
                .join(Message, Message.id == OutboxEntry.message_id)
                .order_by(OutboxEntry.id)
            )
            return [(r[0], r[1]) for r in rows]
    finally:
        await db.dispose()


def test_list_approve_and_discard(
    database_url: str, db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    first = asyncio.run(_held_reply(database_url, "1700000000000000001", "Deposits need confirmations."))
    second = asyncio.run(_held_reply(database_url, "1700000000000000002", "Please DM us."))

    assert helpline(database_url, "mentions", "list") == 0
    listing = capsys.readouterr().out
    assert f"#{first}" in listing and "@alice: where is my deposit?" in listing

    assert helpline(database_url, "mentions", "list", "--json") == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["id"] for r in rows] == [first, second]
    assert rows[0]["mention"] == {
        "id": "1700000000000000001",
        "author": "@alice",
        "text": "where is my deposit?",
    }

    assert helpline(database_url, "mentions", "approve", str(first), "--text", "See our help centre.") == 0
    assert helpline(database_url, "mentions", "discard", str(second)) == 0
    capsys.readouterr()
    assert asyncio.run(_status(database_url)) == [
        ("pending", "See our help centre."),
        ("discarded", "Please DM us."),
    ]

    assert helpline(database_url, "mentions", "approve", str(second)) == 1
    assert "discarded, not held" in capsys.readouterr().err
    assert helpline(database_url, "mentions", "discard", "99999") == 1
    assert helpline(database_url, "mentions", "list") == 0
    assert "no held replies" in capsys.readouterr().out

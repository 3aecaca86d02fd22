"""The inbound pipeline on SQLite and PostgreSQL: exactly-once ingest, ordering, concurrency."""

from __future__ import annotations

import asyncio
import contextlib

from sqlalchemy import func, select, update

from conversations.database import Database
from conversations.tables import Contact, Conversation, Identity, Message, OutboxEntry
from conversations.values import Attachment, InboundMessage, Sender, Surface
from core.engine.base import Decision
from core.pipeline import Pipeline
from tests.pipeline.engines import EchoEngine


def inbound(
    n: int | str, *, thread: str = "chat-1", user: str = "u1", text: str | None = None
) -> InboundMessage:
    return InboundMessage(
        channel="test",
        thread_key=thread,
        external_id=f"{thread}:{n}",
        sender=Sender(external_id=user, handle="@alice", display_name="Alice"),
        text=text if text is not None else f"message {n}",
    )


async def count(db: Database, model: type, *where: object) -> int:
    async with db.reader() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def test_first_message_creates_contact_identity_conversation_and_reply(db: Database) -> None:
    engine = EchoEngine()
    pipeline = Pipeline(db, engine)
    result = await pipeline.receive(inbound(1, text="hello"))

    assert not result.duplicate
    assert [r.text for r in result.replies] == ["echo hello #0"]
    assert await count(db, Contact) == 1
    assert await count(db, Identity, Identity.handle == "@alice") == 1
    async with db.reader() as session:
        conversation = (await session.execute(select(Conversation))).scalar_one()
        stored = (await session.execute(select(Message).order_by(Message.id))).scalars().all()
        outbox = (await session.execute(select(OutboxEntry))).scalars().all()
    assert conversation.thread_key == "chat-1"
    assert conversation.bot_state == {"count": 1}
    assert conversation.language == "en"
    assert [(m.direction, m.author, m.text) for m in stored] == [
        ("in", "customer", "hello"),
        ("out", "bot", "echo hello #0"),
    ]
    assert stored[1].in_reply_to_id == stored[0].id
    assert stored[1].reply_to_external_id == "chat-1:1"
    assert [(o.status, o.message_id) for o in outbox] == [("pending", stored[1].id)]


async def test_redelivery_is_stored_once_and_answered_with_the_same_replies(db: Database) -> None:
    engine = EchoEngine()
    pipeline = Pipeline(db, engine)
    first = await pipeline.receive(inbound(1))
    again = await pipeline.receive(inbound(1))

    assert again.duplicate
    assert again.message_id == first.message_id
    assert again.replies == first.replies
    assert await count(db, Message, Message.direction == "in") == 1
    assert await count(db, OutboxEntry) == 1


async def test_concurrent_duplicate_deliveries_store_one_message(db: Database) -> None:
    engine = EchoEngine(jitter=0.01)
    pipeline = Pipeline(db, engine)
    results = await asyncio.gather(*(pipeline.receive(inbound(7)) for _ in range(20)))

    assert sum(not r.duplicate for r in results) == 1
    assert len({r.message_id for r in results}) == 1
    assert len({r.replies for r in results}) == 1
    assert await count(db, Message, Message.direction == "in") == 1
    assert await count(db, Message, Message.direction == "out") == 1


async def test_duplicates_from_two_processes_store_one_message(database_url: str) -> None:
    # Two pipelines with separate connections and caches stand for two processes.
    first_db, second_db = Database(database_url), Database(database_url)
    try:
        first, second = Pipeline(first_db, EchoEngine()), Pipeline(second_db, EchoEngine())
        await first.receive(inbound(0))  # both see an existing conversation
        results = await asyncio.gather(
            *(p.receive(inbound(n)) for n in range(1, 11) for p in (first, second))
        )
        assert sum(not r.duplicate for r in results) == 10
        assert await count(first_db, Message, Message.direction == "in") == 11
        assert await count(first_db, Message, Message.direction == "out") == 11
    finally:
        await first_db.dispose()
        await second_db.dispose()


async def test_messages_of_one_conversation_are_handled_in_arrival_order(db: Database) -> None:
    engine = EchoEngine(jitter=0.005)
    pipeline = Pipeline(db, engine)
    await asyncio.gather(*(pipeline.receive(inbound(n)) for n in range(30)))

    assert [text for _, text in engine.seen] == [f"message {n}" for n in range(30)]
    async with db.reader() as session:
        texts = (
            await session.scalars(select(Message.text).where(Message.direction == "in").order_by(Message.id))
        ).all()
        state = await session.scalar(select(Conversation.bot_state))
    assert texts == [f"message {n}" for n in range(30)]
    assert state == {"count": 30}


async def test_different_conversations_are_handled_concurrently(db: Database) -> None:
    engine = EchoEngine(meet=2)
    pipeline = Pipeline(db, engine)
    await asyncio.gather(*(pipeline.receive(inbound(1, thread=f"chat-{n}", user=f"u{n}")) for n in range(10)))

    assert engine.max_active > 1
    assert await count(db, Conversation) == 10
    assert await count(db, Contact) == 10


async def test_one_person_in_two_threads_is_one_contact(db: Database) -> None:
    pipeline = Pipeline(db, EchoEngine())
    await asyncio.gather(
        pipeline.receive(inbound(1, thread="dm-1")),
        pipeline.receive(inbound(1, thread="group-9")),
    )
    assert await count(db, Conversation) == 2
    assert await count(db, Identity) == 1
    assert await count(db, Contact) == 1


async def test_edits_attachments_and_surface_are_recorded(db: Database) -> None:
    pipeline = Pipeline(db, EchoEngine())
    original = await pipeline.receive(inbound(1, text="my deposit"))
    photo = Attachment(kind="photo", file_id="AgAD-123", mime_type="image/jpeg", size=2048)
    edited = InboundMessage(
        channel="test",
        thread_key="chat-1",
        external_id="chat-1:1:edit:1700000000",
        sender=Sender("u1"),
        text="my deposit of 50 USDT",
        surface=Surface.PRIVATE,
        edit_of_external_id="chat-1:1",
        attachments=(photo,),
        raw={"update_id": 1, "nested": {"ok": True}},
    )
    await pipeline.receive(edited)
    async with db.reader() as session:
        row = (await session.execute(select(Message).where(Message.external_id.like("%edit%")))).scalar_one()
    assert row.edit_of_id == original.message_id
    assert row.attachments == [
        {"kind": "photo", "file_id": "AgAD-123", "name": None, "mime_type": "image/jpeg", "size": 2048}
    ]
    assert row.raw == {"update_id": 1, "nested": {"ok": True}}


async def test_redaction_happens_before_storage(db: Database) -> None:
    pipeline = Pipeline(db, EchoEngine())
    result = await pipeline.receive(inbound(1, text="my password is hunter2"))
    async with db.reader() as session:
        texts = (await session.scalars(select(Message.text))).all()
    assert all("hunter2" not in t for t in texts)
    assert result.replies[0].text == "echo my password is [REDACTED:password] #0"


async def test_text_no_database_accepts_is_stored_with_replacement_characters(db: Database) -> None:
    pipeline = Pipeline(db, EchoEngine())
    result = await pipeline.receive(inbound(1, text="bad \x00 byte and a lone \ud800 surrogate"))
    async with db.reader() as session:
        text = await session.scalar(select(Message.text).where(Message.id == result.message_id))
    assert text == "bad \ufffd byte and a lone \ufffd surrogate"


class FailingOnce(EchoEngine):
    async def respond(self, turn):  # type: ignore[no-untyped-def]
        if turn.text == "boom" and not getattr(self, "failed", False):
            self.failed = True
            raise RuntimeError("engine bug")
        return await super().respond(turn)


async def test_an_engine_error_stores_nothing_and_a_redelivery_succeeds(db: Database) -> None:
    pipeline = Pipeline(db, FailingOnce())
    await pipeline.receive(inbound(1))
    with contextlib.suppress(RuntimeError):
        await pipeline.receive(inbound(2, text="boom"))
    assert await count(db, Message, Message.direction == "in") == 1
    retried = await pipeline.receive(inbound(2, text="boom"))
    assert not retried.duplicate
    assert await count(db, Message, Message.direction == "in") == 2


async def test_a_failing_turn_does_not_fail_others_in_its_group(database_url: str) -> None:
    # A turn whose write fails (here: its conversation row vanished) must not take the
    # turns committed in the same group down with it.
    db = Database(database_url)
    try:
        pipeline = Pipeline(db, EchoEngine())
        for n in range(5):
            await pipeline.receive(inbound(1, thread=f"t{n}", user=f"u{n}"))
        async with db.transaction() as session:
            await session.execute(OutboxEntry.__table__.delete().where(OutboxEntry.conversation_id == 1))
            await session.execute(
                Message.__table__.update().where(Message.conversation_id == 1).values(in_reply_to_id=None)
            )
            await session.execute(Message.__table__.delete().where(Message.conversation_id == 1))
            await session.execute(Conversation.__table__.delete().where(Conversation.id == 1))
        results = await asyncio.gather(
            *(pipeline.receive(inbound(2, thread=f"t{n}", user=f"u{n}")) for n in range(5)),
            return_exceptions=True,
        )
        assert isinstance(results[0], Exception)
        assert all(not isinstance(r, BaseException) for r in results[1:])
        assert await count(db, Message, Message.direction == "in") == 8
    finally:
        await db.dispose()


class QuietForHumans(EchoEngine):
    """Answers only while the bot handles the conversation."""

    async def respond(self, turn):  # type: ignore[no-untyped-def]
        if turn.conversation.status == "human":
            self.calls += 1
            return Decision()
        return await super().respond(turn)


async def test_a_handoff_made_elsewhere_is_seen_by_the_next_turn(database_url: str) -> None:
    # The server's pipeline caches the conversation; an operator's command in another
    # process hands it to a person. The next message must not get a bot answer.
    server_db, operator_db = Database(database_url), Database(database_url)
    try:
        engine = QuietForHumans()
        pipeline = Pipeline(server_db, engine)
        first = await pipeline.receive(inbound(1))
        assert first.replies
        async with operator_db.transaction() as session:
            await session.execute(update(Conversation).values(status="human"))
        second = await pipeline.receive(inbound(2))
        assert second.replies == ()
        assert not second.duplicate
        async with server_db.reader() as session:
            status = await session.scalar(select(Conversation.status))
        assert status == "human"  # the turn did not write the stale "bot" back
        assert await count(server_db, Message, Message.direction == "in") == 2
    finally:
        await server_db.dispose()
        await operator_db.dispose()

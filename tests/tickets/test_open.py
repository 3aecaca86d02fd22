"""Opening tickets on SQLite and PostgreSQL: numbers, response targets, priority, the conversation link."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from conversations.database import Database
from core.tickets import ConversationNotFound, InvalidTicketInput, TicketService, TicketSettings
from tests.tickets.conftest import START, Clock, Recorder, conversation, conversation_row, events


async def test_numbers_start_at_1001_and_follow_each_other(service: TicketService, db: Database) -> None:
    first = await service.open(await conversation(db, "a"), "Deposit missing", "deposit_missing")
    second = await service.open(await conversation(db, "b", user="u2"), "KYC question", "kyc")
    assert (first.number, second.number) == ("HL-1001", "HL-1002")
    assert (await service.get("hl-1002")).ticket.id == second.id
    assert (await service.get(1001)).ticket.subject == "Deposit missing"


async def test_twenty_concurrent_opens_from_two_processes_get_distinct_consecutive_numbers(
    db: Database, database_url: str, settings: TicketSettings
) -> None:
    other = Database(database_url)  # a second process has its own engine and, on SQLite, its own lock
    try:
        services = [TicketService(db, settings), TicketService(other, settings)]
        conversations = [await conversation(db, f"t{n}", user=f"u{n}") for n in range(20)]
        opened = await asyncio.gather(
            *(services[n % 2].open(c, f"case {n}", None) for n, c in enumerate(conversations))
        )
    finally:
        await other.dispose()
    numbers = sorted(int(t.number.removeprefix("HL-")) for t in opened)
    assert numbers == list(range(1001, 1021))
    assert len({t.id for t in opened}) == 20


async def test_the_first_number_follows_the_configured_start(db: Database, settings: TicketSettings) -> None:
    service = TicketService(db, settings.model_copy(update={"number_start": 5000, "number_prefix": "T-"}))
    opened = await service.open(await conversation(db), "Question", None)
    assert opened.number == "T-5001"


@pytest.mark.parametrize(("priority", "hours"), [("urgent", 1), ("high", 4), ("normal", 24), ("low", 72)])
async def test_the_response_target_follows_the_priority(
    service: TicketService, db: Database, priority: str, hours: int
) -> None:
    opened = await service.open(await conversation(db), "Something", None, priority=priority)
    assert opened.priority == priority
    assert opened.sla_due_at == START + timedelta(hours=hours)
    assert opened.created_at == START
    assert opened.status == "new"


async def test_opening_links_the_conversation_records_an_event_and_notifies(
    service: TicketService, db: Database, recorder: Recorder
) -> None:
    conversation_id = await conversation(db)
    opened = await service.open(
        conversation_id,
        "  Withdrawal\n pending ",
        "withdrawal_missing",
        details={"txid": "0xabc", "asset": "USDT"},
        actor="bot",
    )
    assert opened.subject == "Withdrawal pending"
    assert opened.details["txid"] == "0xabc"
    assert (await conversation_row(db, conversation_id)).ticket_id == opened.id
    assert await events(db, opened.id) == [("opened", "bot")]
    assert recorder.changed == [("test", "chat-1")]
    detail = await service.get(opened.number)
    assert detail.events[0].data["priority"] == "high"
    assert detail.events[0].data["reasons"] == ["category withdrawal_missing: high"]


async def test_a_compromised_account_is_urgent_by_category_or_by_wording(
    service: TicketService, db: Database
) -> None:
    by_category = await service.open(await conversation(db, "a"), "Account problem", "account_compromised")
    by_words = await service.open(
        await conversation(
            db, "b", user="u2", texts=["Someone logged in and made a withdrawal I didn’t make"]
        ),
        "Withdrawal",
        "withdrawal_missing",
    )
    by_chinese = await service.open(
        await conversation(db, "c", user="u3", texts=["我的账户被盗了，资金被转走"]), "账户问题", None
    )
    assert [t.priority for t in (by_category, by_words, by_chinese)] == ["urgent"] * 3
    assert by_words.sla_due_at == START + timedelta(hours=1)
    # The curly apostrophe customers type matches the keyword's straight one.
    assert by_words.details["priority_reasons"] == [
        "category withdrawal_missing: high",
        'urgent wording: "withdrawal i didn\'t make"',
    ]


async def test_a_repeated_contact_within_seven_days_raises_the_priority_one_step(
    service: TicketService, db: Database, clock: Clock
) -> None:
    first = await service.open(await conversation(db, "a"), "Deposit missing", "deposit_missing")
    clock.advance(days=3)
    again = await service.open(await conversation(db, "b"), "Deposit still missing", "deposit_missing")
    clock.advance(days=30)
    much_later = await service.open(await conversation(db, "c"), "Another question", None)
    assert (first.priority, again.priority, much_later.priority) == ("high", "urgent", "normal")
    assert again.sla_due_at == clock.now - timedelta(days=30) + timedelta(hours=1)


async def test_strongly_emotional_text_raises_the_priority_one_step(
    service: TicketService, db: Database
) -> None:
    calm = await service.open(
        await conversation(db, "a", user="u1", texts=["where is my deposit?"]), "Q", None
    )
    angry = await service.open(
        await conversation(db, "b", user="u2", texts=["This is unacceptable, you are scammers"]), "Q", None
    )
    shouting = await service.open(
        await conversation(db, "c", user="u3", texts=["WHERE IS MY MONEY I WAITED FOR DAYS"]), "Q", None
    )
    exclaiming = await service.open(
        await conversation(db, "d", user="u4", texts=["我的币呢！！！"]), "Q", None
    )
    assert [t.priority for t in (calm, angry, shouting, exclaiming)] == ["normal", "high", "high", "high"]


async def test_an_explicit_priority_wins_over_the_rules(service: TicketService, db: Database) -> None:
    opened = await service.open(
        await conversation(db, texts=["hacked!!!"]), "Q", "account_compromised", "low"
    )
    assert opened.priority == "low"
    assert opened.details["priority_reasons"] == ["set by bot"]


async def test_bad_input_is_refused_and_uses_no_number(service: TicketService, db: Database) -> None:
    with pytest.raises(ConversationNotFound, match="no conversation 999"):
        await service.open(999, "Q", None)
    with pytest.raises(
        InvalidTicketInput, match="unknown priority 'asap'; priorities are low, normal, high, urgent"
    ):
        await service.open(await conversation(db), "Q", None, priority="asap")
    with pytest.raises(InvalidTicketInput, match="needs a subject"):
        await service.open(await conversation(db), "   ", None)
    assert (await service.open(await conversation(db), "Q", None)).number == "HL-1001"


async def test_an_agents_ticket_records_that_the_customer_exposed_a_secret(
    service: TicketService, db: Database
) -> None:
    conversation_id = await conversation(
        db, texts=("my seed phrase is [REDACTED:seed_phrase]", "can you help?")
    )
    opened = await service.open(conversation_id, "Account question", None, actor="ann@example.com")
    assert opened.details["redactions"] == ["seed_phrase"]
    assert ("opened", "ann@example.com") in await events(db, opened.id)
    assert ("redaction", "bot") in await events(db, opened.id)
    row = await conversation_row(db, conversation_id)
    assert row.ticket_id == opened.id and row.last_message_at == START  # nothing was said to the customer

""" "What is the status of my ticket?" in English and Chinese, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from conversations.database import Database
from core.tickets import ConversationNotFound, TicketService
from tests.tickets.conftest import Clock, agent, conversation


async def test_no_ticket(service: TicketService, db: Database) -> None:
    conversation_id = await conversation(db)
    assert await service.status_for_customer(conversation_id, "en") == (
        "You have no support ticket with us at the moment."
    )
    assert await service.status_for_customer(conversation_id, "zh") == "您目前没有工单。"
    with pytest.raises(ConversationNotFound):
        await service.status_for_customer(404, "en")


async def test_a_new_ticket_tells_the_wait_until_the_response_target(
    service: TicketService, db: Database, clock: Clock
) -> None:
    conversation_id = await conversation(db)
    await service.open(conversation_id, "Deposit missing", "deposit_missing")  # high: 4 hours
    clock.advance(minutes=30)
    assert await service.status_for_customer(conversation_id, "en") == (
        "Your ticket HL-1001 (Deposit missing) is waiting for an agent. We aim to reply within 4 hours."
    )
    assert await service.status_for_customer(conversation_id, "zh-CN") == (
        "您的工单 HL-1001（Deposit missing）正在等待客服处理。我们预计在 4 小时内回复您。"
    )
    clock.advance(hours=3, minutes=20)
    assert (await service.status_for_customer(conversation_id, "en")).endswith(
        "We aim to reply within 10 minutes."
    )
    clock.advance(hours=1)
    assert (await service.status_for_customer(conversation_id, "en")).endswith("We will reply shortly.")
    assert (await service.status_for_customer(conversation_id, "zh")).endswith("我们会尽快回复您。")


async def test_each_stage_has_its_sentence(service: TicketService, db: Database) -> None:
    conversation_id = await conversation(db)
    opened = await service.open(conversation_id, "提现未到账", None)
    await service.reply(opened.number, await agent(db), "We are checking.")
    assert await service.status_for_customer(conversation_id, "en") == (
        "Your ticket HL-1001 (提现未到账) is open: an agent is working on it."
    )
    await service.set_status(opened.number, "pending_customer")
    assert (
        await service.status_for_customer(conversation_id, "zh")
        == "您的工单 HL-1001（提现未到账）正在等待您的回复。"
    )
    await service.solve(opened.number)
    assert await service.status_for_customer(conversation_id, "en") == (
        "Your ticket HL-1001 (提现未到账) has been solved. Write to us if you still need help."
    )
    assert await service.status_for_customer(conversation_id, "zh") == (
        "您的工单 HL-1001（提现未到账）已解决。如仍需帮助，请随时联系我们。"
    )


async def test_a_new_conversation_finds_the_contacts_latest_ticket(
    service: TicketService, db: Database
) -> None:
    first = await conversation(db, "chat-1")
    await service.open(first, "Deposit missing", None, priority="low")
    later = await conversation(db, "chat-2")  # the same customer writes again in a new thread
    assert (await service.status_for_customer(later, "en")).startswith(
        "Your ticket HL-1001 (Deposit missing)"
    )


async def test_a_merged_ticket_answers_with_the_ticket_it_went_into(
    service: TicketService, db: Database
) -> None:
    first = await conversation(db, "chat-1", user="u1")
    second = await conversation(db, "chat-2", user="u2")
    target = await service.open(first, "Exchange outage", None)
    source = await service.open(second, "Cannot trade", None)
    await service.take(target.number, await agent(db))
    await service.merge(source.number, target.number)
    assert await service.status_for_customer(second, "en") == (
        "Your request HL-1002 was merged into ticket HL-1001. "
        "Your ticket HL-1001 (Exchange outage) is open: an agent is working on it. We aim to reply within 24 hours."
    )
    assert await service.status_for_customer(second, "zh") == (
        "您的请求 HL-1002 已合并到工单 HL-1001。您的工单 HL-1001（Exchange outage）处理中，客服正在跟进。"
        "我们预计在 24 小时内回复您。"
    )

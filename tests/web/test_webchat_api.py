"""The web chat JSON API over a real socket, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import func, select

from conversations.tables import Conversation, Message
from conversations.values import Author
from core.outbound import Outbound
from tests.web.conftest import LiveServer


async def post(live: LiveServer, **body: object) -> tuple[int, dict]:  # type: ignore[type-arg]
    response = await live.client.post("/api/chat/messages", json=body)
    return response.status_code, response.json()


async def inbound_count(live: LiveServer) -> int:
    async with live.runtime.db.reader() as session:
        return int(await session.scalar(select(func.count()).where(Message.direction == "in")) or 0)


async def test_hello_gets_a_reply_and_a_repeat_gets_the_same_reply(live: LiveServer) -> None:
    status, first = await post(live, session_id="a", message_id="1", text="hello")
    assert status == 200
    [reply] = first["replies"]
    assert "support assistant" in reply["text"]
    assert reply["buttons"] == [
        {"label": "Talk to a human", "action": "human"},
        {"label": "中文", "action": "lang:zh"},
    ]

    status, again = await post(live, session_id="a", message_id="1", text="hello")
    assert status == 200
    assert again["replies"] == first["replies"]
    assert await inbound_count(live) == 1


async def test_chinese_is_answered_in_chinese(live: LiveServer) -> None:
    _, body = await post(live, session_id="zh", message_id="1", text="你好")
    assert "客服助手" in body["replies"][0]["text"]


async def test_a_button_press_is_a_turn(live: LiveServer) -> None:
    await post(live, session_id="b", message_id="1", text="hello")
    status, body = await post(live, session_id="b", message_id="2", action="human")
    assert status == 200
    assert "agent" in body["replies"][0]["text"]
    async with live.runtime.db.reader() as session:
        assert await session.scalar(select(Conversation.status)) == "human"


async def test_bad_requests_get_a_json_error_and_store_nothing(live: LiveServer) -> None:
    cases = [
        (b"{not json", 400, "invalid_json"),
        (b"[]", 422, "invalid_request"),
        (b'{"session_id": "a", "text": "hi"}', 422, "invalid_request"),
        (b'{"session_id": "a", "message_id": "1"}', 422, "invalid_request"),
        (b'{"session_id": "a", "message_id": "1", "text": "hi", "action": "x"}', 422, "invalid_request"),
        (b'{"session_id": "a", "message_id": "1", "text": 5}', 422, "invalid_request"),
        (b'{"session_id": "", "message_id": "1", "text": "hi"}', 422, "invalid_request"),
        (b'{"session_id": "a b/../", "message_id": "1", "text": "hi"}', 422, "invalid_request"),
        (b'{"session_id": "a", "message_id": "1", "text": "hi", "extra": 1}', 422, "invalid_request"),
        ('{"session_id": "a", "message_id": "1", "text": "%s"}' % ("x" * 4001), 413, "text_too_long"),
        (b"x" * 70_000, 413, "too_large"),
        ("\udcff".encode("utf-8", "surrogatepass"), 400, "invalid_json"),
    ]
    for body, status, code in cases:
        response = await live.client.post(
            "/api/chat/messages", content=body, headers={"Content-Type": "application/json"}
        )
        assert response.status_code == status, body[:80]
        error = response.json()["error"]
        assert error["code"] == code
        assert error["message"]
    assert await inbound_count(live) == 0


async def test_text_of_exactly_the_limit_is_accepted(live: LiveServer) -> None:
    status, _ = await post(live, session_id="long", message_id="1", text="y" * 4000)
    assert status == 200


async def test_get_lists_bot_and_agent_messages_in_order(live: LiveServer) -> None:
    questions = ["hello", "how long do deposits take to confirm", "你们的交易手续费是多少"]
    for n, question in enumerate(questions):
        await post(live, session_id="c", message_id=str(n), text=question)
    await post(live, session_id="other", message_id="1", text="not mine")
    response = await live.client.get("/api/chat/messages", params={"session_id": "c"})
    messages = response.json()["messages"]
    assert len(messages) == 3
    assert [m["id"] for m in messages] == sorted(m["id"] for m in messages)
    assert all(set(m) == {"id", "text", "buttons", "created_at"} for m in messages)
    assert "support assistant" in messages[0]["text"]
    assert "手续费" in messages[-1]["text"]

    unknown = await live.client.get("/api/chat/messages", params={"session_id": "nobody"})
    assert unknown.json() == {"messages": []}
    missing = await live.client.get("/api/chat/messages")
    assert missing.status_code == 422


async def test_a_later_agent_reply_reaches_a_waiting_long_poll(live: LiveServer) -> None:
    _, body = await post(live, session_id="d", message_id="1", text="my withdrawal is stuck")
    last = body["replies"][-1]["id"]
    async with live.runtime.db.reader() as session:
        conversation_id = await session.scalar(select(Conversation.id).where(Conversation.thread_key == "d"))
    assert conversation_id is not None

    started = time.monotonic()
    waiting = asyncio.create_task(
        live.client.get("/api/chat/messages", params={"session_id": "d", "after": last, "wait": 10})
    )
    await asyncio.sleep(0.2)
    outbound = Outbound(live.runtime.db, live.runtime.dispatcher.wake)
    agent_message = await outbound.send(
        conversation_id, "Hi, I'm Sam from support. Checking now.", author=Author.AGENT
    )
    response = await waiting
    assert time.monotonic() - started < 5
    [message] = response.json()["messages"]
    assert message["id"] == agent_message
    assert message["text"].startswith("Hi, I'm Sam")


async def test_health_reports_the_database_and_the_outbox(live: LiveServer) -> None:
    response = await live.client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["database"] == "ok"
    assert body["outbox"] == {"pending": 0, "failed": 0, "oldest_age_seconds": 0.0}
    assert body["channels"] == ["webchat"]


async def test_the_chat_page_is_served(live: LiveServer) -> None:
    response = await live.client.get("/chat")
    assert response.status_code == 200
    assert "text/html" in response.headers["content-type"]
    assert "/api/chat/messages" in response.text
    root = await live.client.get("/", follow_redirects=False)
    assert root.status_code in (302, 307) and root.headers["location"] == "/chat"


async def test_a_missing_deposit_report_in_chinese_goes_to_people(live: LiveServer) -> None:
    txid = "b" * 64
    _, body = await post(live, session_id="zh-form", message_id="1", text="我充值的USDT还没到账")
    _, body = await post(live, session_id="zh-form", message_id="2", action="form:start:missing_deposit")
    assert body["replies"]
    _, body = await post(
        live, session_id="zh-form", message_id="3", text=f"昨天下午3点用TRC20转了100 USDT，哈希是{txid}"
    )
    for n in range(4, 10):
        actions = [b["action"] for r in body["replies"] for b in r["buttons"]]
        if "form:yes" in actions:
            _, body = await post(live, session_id="zh-form", message_id=str(n), action="form:yes")
            break
        _, body = await post(live, session_id="zh-form", message_id=str(n), text="昨天下午3点")
    assert "客服团队已收到" in body["replies"][-1]["text"]
    async with live.runtime.db.reader() as session:
        conversation = (
            await session.execute(select(Conversation).where(Conversation.thread_key == "zh-form"))
        ).scalar_one()
    assert conversation.status == "human"
    assert conversation.slots["form"]["values"]["txid"] == txid
    _, quiet = await post(live, session_id="zh-form", message_id="99", text="在吗")
    assert quiet["replies"] == []  # people have it now; the bot stays quiet


async def test_status_of_my_ticket_names_the_customers_ticket(live: LiveServer) -> None:
    _, body = await post(live, session_id="st", message_id="1", text="whats the status of my ticket")
    assert "ticket" in body["replies"][0]["text"].lower()  # none yet: says so
    async with live.runtime.db.reader() as session:
        conversation_id = await session.scalar(select(Conversation.id).where(Conversation.thread_key == "st"))
    assert conversation_id is not None
    ticket = await live.runtime.tickets.open(conversation_id, "Withdrawal stuck", "withdrawal", "high")
    _, body = await post(live, session_id="st", message_id="2", text="whats the status of my ticket")
    assert ticket.number in body["replies"][0]["text"]
    _, body = await post(live, session_id="st", message_id="3", text="我的工单处理得怎么样了")
    assert ticket.number in body["replies"][0]["text"]

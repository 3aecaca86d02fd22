"""The inbox, the conversation page and its actions, on both databases."""

from __future__ import annotations

import re

from sqlalchemy import select, text

from conversations.tables import Agent, Message, Ticket, TicketEvent
from conversations.values import Surface
from tests.console.conftest import ConsoleEnv, customer, outbox_rows, post_form

XSS = '<script>alert("pwned")</script><img src=x onerror=alert(1)>'


def rows_of(html: str) -> list[int]:
    """Conversation ids listed in the inbox, in order."""
    return [int(n) for n in re.findall(r'data-conversation="(\d+)"', html)]


async def test_customer_text_is_rendered_escaped(console: ConsoleEnv) -> None:
    conversation_id = await customer(console.db, "t-xss", [XSS], name=XSS, handle=XSS)
    client = await console.signed_in("agent")
    for path in ("/console/inbox", "/console/inbox/rows", f"/console/conversations/{conversation_id}"):
        html = (await client.get(path)).text
        assert "<script>alert" not in html, path
        assert "<img src=x" not in html, path
        assert "&lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt;" in html, path


async def test_search_strings_are_only_ever_data(console: ConsoleEnv) -> None:
    plain = await customer(console.db, "t-plain", ["my deposit is missing"])
    percent = await customer(console.db, "t-percent", ["fee is 100% wrong"])
    client = await console.signed_in("agent")
    hostile = [
        "' OR 1=1 --",
        '"; DROP TABLE agents; --',
        "%",
        "_",
        "\\",
        "') UNION SELECT password_hash FROM agents --",
        "HL-99999999999999999999",
        "🙂" * 50,
    ]
    for query in hostile:
        response = await client.get("/console/inbox", params={"q": query})
        assert response.status_code == 200, query
        found = rows_of(response.text)
        assert plain not in found, query
        assert (percent in found) == (query == "%"), query
    # Control characters are dropped: a NUL alone is no search at all (PostgreSQL refuses NUL in text).
    nul = await client.get("/console/inbox", params={"q": "\x00"})
    assert nul.status_code == 200 and set(rows_of(nul.text)) == {plain, percent}
    async with console.db.reader() as session:
        assert len((await session.scalars(select(Agent))).all()) == 3
        assert await session.scalar(text("SELECT count(*) FROM agents")) == 3
    assert rows_of((await client.get("/console/inbox", params={"q": "DEPOSIT"})).text) == [plain]


async def test_search_by_ticket_number_handle_and_email(console: ConsoleEnv) -> None:
    alice = await customer(console.db, "t-alice", ["hi"], handle="alice_x", name="Alice")
    bob = await customer(console.db, "t-bob", ["hello"], handle="bobby", name="Bob")
    ticket = await console.tickets.open(bob, "Withdrawal stuck", "withdrawal_missing")
    async with console.db.transaction() as session:
        contact = await session.scalar(select(Ticket.contact_id).where(Ticket.id == ticket.id))
        await session.execute(
            text("UPDATE contacts SET email = :e WHERE id = :i"), {"e": "bob@mail.example", "i": contact}
        )
    client = await console.signed_in("agent")

    async def search(query: str) -> list[int]:
        return rows_of((await client.get("/console/inbox", params={"q": query})).text)

    assert await search(ticket.number) == [bob]
    assert await search(ticket.number.lower()) == [bob]
    assert await search("@alice_x") == [alice]
    assert await search("bob@mail") == [bob]
    assert await search("withdrawal stuck") == [bob]


async def test_filters_narrow_the_inbox(console: ConsoleEnv) -> None:
    web = await customer(console.db, "t-web", ["hi"], channel="webhook", language="en")
    public = await customer(
        console.db, "t-x", ["@Acme help"], channel="x", surface=Surface.PUBLIC, language="zh"
    )
    urgent = await customer(console.db, "t-urgent", ["hacked"], channel="webhook", language="en")
    ticket = await console.tickets.open(urgent, "Account hacked", "account_compromised", priority="urgent")
    client = await console.signed_in("agent")

    async def listed(**params: str) -> set[int]:
        return set(rows_of((await client.get("/console/inbox", params=params)).text))

    assert await listed() == {web, public, urgent}
    assert await listed(channel="x") == {public}
    assert await listed(surface="public") == {public}
    assert await listed(language="zh") == {public}
    assert await listed(status="active") == {urgent}
    assert await listed(status="bot") == {web, public, urgent}
    assert await listed(priority="urgent") == {urgent}
    assert await listed(category="account_compromised") == {urgent}
    assert await listed(assignee="none") == {web, public, urgent}
    await console.tickets.take(ticket.number, console.agent_ids["agent"])
    assert await listed(assignee="me") == {urgent}
    assert await listed(status="human") == {urgent}
    # Unknown values are ignored rather than failing the page.
    assert await listed(status="nonsense", priority="'; --", assignee="-1") == {web, public, urgent}


async def test_unread_and_overdue_markers(console: ConsoleEnv) -> None:
    conversation_id = await customer(console.db, "t-unread", ["first"])
    ticket = await console.tickets.open(conversation_id, "Help", None, priority="urgent")
    client = await console.signed_in("agent")
    row = (await client.get("/console/inbox/rows")).text
    assert "badge unread" in row and "badge sla" not in row

    await client.get(f"/console/conversations/{conversation_id}")
    assert "badge unread" not in (await client.get("/console/inbox/rows")).text
    # Another agent has not read it.
    admin = await console.signed_in("admin")
    assert "badge unread" in (await admin.get("/console/inbox/rows")).text

    await customer(console.db, "t-unread", ["second"])
    assert "badge unread" in (await client.get("/console/inbox/rows")).text

    assert ticket.sla_due_at is not None
    console.clock.advance(seconds=(ticket.sla_due_at - console.clock()).total_seconds() + 60)
    assert "badge sla" in (await client.get("/console/inbox/rows")).text
    await post_form(
        client,
        f"/console/conversations/{conversation_id}",
        f"/console/conversations/{conversation_id}/reply",
        {"text": "On it"},
    )
    assert "badge sla" not in (await client.get("/console/inbox/rows")).text


async def test_a_reply_goes_to_the_outbox_of_the_customers_channel(console: ConsoleEnv) -> None:
    await customer(console.db, "t-other", ["unrelated"], channel="webchat")
    conversation_id = await customer(console.db, "t-reply", ["where is my withdrawal?"], channel="telegram")
    client = await console.signed_in("agent")
    page = f"/console/conversations/{conversation_id}"
    response = await post_form(client, page, f"{page}/reply", {"text": "Hello <b>Alice</b>, checking now."})
    assert response.status_code == 303
    assert response.headers["location"] == page

    [entry] = await outbox_rows(console.db)
    assert (entry.channel, entry.conversation_id, entry.status) == ("telegram", conversation_id, "pending")
    async with console.db.reader() as session:
        message = await session.get(Message, entry.message_id)
        ticket = await session.scalar(select(Ticket).where(Ticket.conversation_id == conversation_id))
    assert message is not None and message.text == "Hello <b>Alice</b>, checking now."
    assert message.agent_id == console.agent_ids["agent"]
    # No ticket existed: the reply opened one, titled with the customer's question, and took it.
    assert ticket is not None and ticket.subject == "where is my withdrawal?"
    assert (ticket.status, ticket.assignee_id) == ("open", console.agent_ids["agent"])
    assert ticket.first_response_at is not None

    html = (await client.get(page)).text
    assert "Hello &lt;b&gt;Alice&lt;/b&gt;, checking now." in html
    assert '<span class="delivery pending"' in html
    transcript = (await client.get(f"{page}/transcript")).text
    assert "checking now" in transcript and "<html" not in transcript

    # A second reply goes on the same ticket; an empty one is refused with the reason.
    await post_form(client, page, f"{page}/reply", {"text": "Found it."})
    assert len(await outbox_rows(console.db)) == 2
    empty = await post_form(client, page, f"{page}/reply", {"text": "   "})
    assert empty.status_code == 422 and "the reply is empty" in empty.text


async def test_ticket_actions_go_through_the_ticket_service(console: ConsoleEnv) -> None:
    conversation_id = await customer(console.db, "t-actions", ["help"])
    other_id = await customer(console.db, "t-target", ["also me"])
    target = await console.tickets.open(other_id, "Other", None)
    client = await console.signed_in("agent")
    page = f"/console/conversations/{conversation_id}"

    async def act(action: str, **fields: str) -> int:
        return (await post_form(client, page, f"{page}/{action}", fields)).status_code

    assert await act("take") == 404  # no ticket yet
    assert await act("open", subject="Lost 2FA", category="lost_2fa", priority="") == 303
    assert await act("take") == 303
    assert await act("priority", priority="high") == 303
    assert await act("status", status="pending_customer") == 303
    assert await act("note", text="called the customer") == 303
    assert await act("assign", agent_id=str(console.agent_ids["admin"])) == 303
    assert await act("solve") == 303
    refused = await post_form(client, page, f"{page}/solve")
    assert refused.status_code == 409 and "already solved" in refused.text
    assert await act("reopen") == 303
    assert await act("priority", priority="sky-high") == 422
    assert await act("merge", target=target.number) == 303

    async with console.db.reader() as session:
        source = await session.scalar(select(Ticket).where(Ticket.conversation_id == conversation_id))
        assert source is not None
        kinds = (
            await session.scalars(
                select(TicketEvent.kind).where(TicketEvent.ticket_id == source.id).order_by(TicketEvent.id)
            )
        ).all()
    assert (source.status, source.priority, source.assignee_id) == (
        "closed",
        "high",
        console.agent_ids["admin"],
    )
    assert kinds == [
        "opened",
        "taken",
        "priority_changed",
        "status_changed",
        "note",
        "assigned",
        "solved",
        "reopened",
        "merged_into",
    ]
    assert await outbox_rows(console.db) == []  # a note is never delivered
    html = (await client.get(page)).text
    assert target.number in html and "called the customer" in html and "internal note" in html


async def test_canned_responses_come_in_the_customers_language(console: ConsoleEnv) -> None:
    conversation_id = await customer(console.db, "t-zh", ["充值没到账"], language="zh")
    client = await console.signed_in("agent")
    page = f"/console/conversations/{conversation_id}"
    html = (await client.get(page)).text
    assert "充值未到账" in html  # the deposit topic's Chinese title
    assert "{brand}" not in html and "Acme Exchange" in html
    prefilled = (await client.get(page, params={"canned": "deposit.not_credited"})).text
    textarea = re.search(r'<textarea id="reply-text"[^>]*>(.*?)</textarea>', prefilled, re.S)
    assert textarea is not None and "充值" in textarea.group(1)

"""Fixtures of the console tests: the console mounted in the real HTTP app, on each database, with agents."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from adapters.console.app import build_console
from adapters.console.passwords import Passwords
from adapters.http_app import build_app
from conversations import agent_accounts as accounts
from conversations import console_transcripts as transcripts
from conversations import repository as repo
from conversations.database import Database
from conversations.tables import OutboxEntry
from conversations.values import InboundMessage, Sender, Surface
from core.mentions import MentionQueue
from core.settings import Settings, load_settings
from core.tickets import TicketService, load_ticket_settings
from tests.clock import Clock

# Cheap argon2 parameters: the tests sign in dozens of times (the hash records its own parameters).
FAST = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
PASSWORD = "correct horse battery"
EMAILS = {"agent": "ann@example.com", "social": "sol@example.com", "admin": "ada@example.com"}
BASE = "http://console.test"


@dataclass
class ConsoleEnv:
    db: Database
    tickets: TicketService
    clock: Clock
    settings: Settings
    agent_ids: dict[str, int]
    client: httpx.AsyncClient
    app: httpx.ASGITransport
    clients: list[httpx.AsyncClient] = field(default_factory=list)

    def client_for(self) -> httpx.AsyncClient:
        """Another browser: its own cookie jar (closed after the test)."""
        client = httpx.AsyncClient(transport=self.app, base_url=BASE)
        self.clients.append(client)
        return client

    async def signed_in(self, role: str) -> httpx.AsyncClient:
        client = self.client_for()
        response = await sign_in(client, EMAILS[role])
        assert response.status_code == 303, response.text
        return client


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None, "no CSRF field on the page"
    return found.group(1)


async def sign_in(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> httpx.Response:
    page = await client.get("/console/login")
    assert page.status_code == 200
    return await client.post(
        "/console/login", data={"csrf": csrf_of(page.text), "email": email, "password": password}
    )


async def post_form(
    client: httpx.AsyncClient, page_path: str, action: str, fields: dict[str, str] | None = None
) -> httpx.Response:
    """Load a page, take its CSRF token and post a form as a browser would."""
    page = await client.get(page_path)
    assert page.status_code == 200, page.text
    return await client.post(action, data={"csrf": csrf_of(page.text), **(fields or {})})


async def customer(
    db: Database,
    thread: str,
    texts: Sequence[str] = ("hello",),
    *,
    channel: str = "webhook",
    user: str | None = None,
    name: str | None = "Alice",
    handle: str | None = None,
    surface: Surface = Surface.PRIVATE,
    language: str | None = None,
    now: datetime | None = None,
) -> int:
    """A conversation stored the way the pipeline stores one, with the customer's messages."""
    moment = now or datetime.now(UTC)
    async with db.transaction() as session:
        conversation_id = 0
        for n, text in enumerate(texts):
            message = InboundMessage(
                channel=channel,
                thread_key=thread,
                external_id=f"{thread}:{n}:{moment.timestamp()}",
                sender=Sender(
                    external_id=user or thread, handle=handle, display_name=name, language_hint=language
                ),
                text=text,
                surface=surface,
            )
            contact_id = await repo.contact_for(session, message, moment)
            record = await repo.conversation_for(session, message, contact_id, moment)
            await repo.insert_inbound(session, record.id, message, text, moment)
            conversation_id = record.id
    if language is not None:
        async with db.transaction() as session:
            row = await transcripts.conversation_row(session, conversation_id)
            assert row is not None
            row.language = language
    return conversation_id


async def outbox_rows(db: Database) -> list[OutboxEntry]:
    async with db.reader() as session:
        return list((await session.scalars(select(OutboxEntry).order_by(OutboxEntry.id))).all())


def console_settings(tmp_path: Path, **extra: str) -> Settings:
    return load_settings(
        {
            "HELPLINE_DATA_DIR": str(tmp_path),
            "HELPLINE_CONSOLE__SECRET": "s" * 40,
            "HELPLINE_CONSOLE__MAX_FAILED_LOGINS": "3",
            **extra,
        }
    )


@pytest.fixture
async def console(db: Database, tmp_path: Path) -> AsyncIterator[ConsoleEnv]:
    """The console in Helpline's HTTP app, three agents (one per role) with the same password."""
    clock = Clock(datetime.now(UTC).replace(microsecond=0))
    settings = console_settings(tmp_path)
    tickets = TicketService(db, load_ticket_settings(), clock=clock)
    passwords = Passwords(FAST)
    agent_ids = {}
    async with db.transaction() as session:
        for role, email in EMAILS.items():
            await accounts.save_agent(
                session, email, email.split("@")[0].title(), passwords.hash(PASSWORD), role, clock()
            )
    async with db.reader() as session:
        for agent in await accounts.agents(session):
            agent_ids[next(r for r, e in EMAILS.items() if e == agent.email)] = agent.id
    app = build_console(settings, db, tickets, MentionQueue(db), passwords=passwords, clock=clock)
    transport = httpx.ASGITransport(app=build_app(db, [], [], app))
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
        env = ConsoleEnv(db, tickets, clock, settings, agent_ids, client, transport)
        yield env
        for other in env.clients:
            await other.aclose()

"""Sign-in, sessions, roles and CSRF: every console route, on both databases."""

from __future__ import annotations

from pathlib import Path

import httpx
from sqlalchemy import select
from starlette.routing import Mount, Route

from adapters.console.app import build_console
from adapters.console.passwords import Passwords
from adapters.console.sessions import COOKIE
from conversations import agent_accounts as accounts
from conversations.tables import Agent
from core.mentions import MentionQueue
from core.tickets import TicketService, load_ticket_settings
from tests.console.conftest import (
    BASE,
    EMAILS,
    FAST,
    PASSWORD,
    ConsoleEnv,
    console_settings,
    csrf_of,
    customer,
    outbox_rows,
    post_form,
    sign_in,
)

PUBLIC = {"/login", "/static"}


def console_routes(env: ConsoleEnv) -> list[tuple[str, str]]:
    """(method, path) of every console route, path parameters filled in."""
    app = env.app.app
    mount = next(r for r in app.routes if isinstance(r, Mount) and r.path == "/console")  # type: ignore[attr-defined]
    found = []
    for route in mount.routes:
        if not isinstance(route, Route) or route.path in PUBLIC:
            continue
        path = "/console" + route.path.replace("{conversation_id:int}", "1").replace("{outbox_id:int}", "1")
        for method in sorted(route.methods or ()):
            if method != "HEAD":
                found.append((method, path))
    return found


async def test_every_route_sends_anonymous_visitors_to_sign_in(console: ConsoleEnv) -> None:
    routes = console_routes(console)
    assert len(routes) >= 18
    for method, path in routes:
        response = await console.client.request(method, path, data={"csrf": "x"})
        assert response.status_code == 303, (method, path, response.status_code)
        assert response.headers["location"].startswith("/console/login"), (method, path)
    # A forged cookie is no better than none.
    forged = httpx.AsyncClient(
        transport=console.app, base_url=BASE, cookies={COOKIE: "eyJhIjoxfQ.forged.sig"}
    )
    async with forged:
        response = await forged.get("/console/inbox")
    assert response.status_code == 303


async def test_sign_in_rotates_the_session_and_sets_safe_cookies(console: ConsoleEnv) -> None:
    client = console.client
    form = await client.get("/console/login")
    before, csrf_before = client.cookies[COOKIE], csrf_of(form.text)
    response = await client.post(
        "/console/login",
        data={
            "csrf": csrf_before,
            "email": EMAILS["agent"].upper(),
            "password": PASSWORD,
            "next": "/console/inbox",
        },
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/console/inbox"
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/console" in cookie
    assert "Secure" not in cookie  # the public URL is http
    assert client.cookies[COOKIE] != before
    inbox = await client.get("/console/inbox")
    assert inbox.status_code == 200
    assert csrf_of(inbox.text) != csrf_before
    # After signing in, "next" never leads off the console.
    await client.post("/console/logout", data={"csrf": csrf_of(inbox.text)})
    page = await client.get("/console/login")
    response = await client.post(
        "/console/login",
        data={
            "csrf": csrf_of(page.text),
            "email": EMAILS["agent"],
            "password": PASSWORD,
            "next": "//evil.example/x",
        },
    )
    assert response.headers["location"] == "/console/"


async def test_cookies_are_secure_when_the_public_url_is_https(console: ConsoleEnv, tmp_path: Path) -> None:
    settings = console_settings(tmp_path, HELPLINE_HTTP__PUBLIC_URL="https://support.example.com")
    app = build_console(
        settings,
        console.db,
        TicketService(console.db, load_ticket_settings()),
        MentionQueue(console.db),
        passwords=Passwords(FAST),
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="https://support.example.com"
    ) as c:
        response = await c.get("/login")
    assert "Secure" in response.headers["set-cookie"]


async def test_logout_and_a_password_change_end_the_session(console: ConsoleEnv) -> None:
    client = await console.signed_in("agent")
    inbox = await client.get("/console/inbox")
    response = await client.post("/console/logout", data={"csrf": csrf_of(inbox.text)})
    assert response.status_code == 303
    assert (await client.get("/console/inbox")).status_code == 303

    client = await console.signed_in("agent")
    assert (await client.get("/console/inbox")).status_code == 200
    async with console.db.transaction() as session:
        await accounts.save_agent(
            session,
            EMAILS["agent"],
            "Ann",
            Passwords(FAST).hash("another password!"),
            "agent",
            console.clock(),
        )
    assert (await client.get("/console/inbox")).status_code == 303


async def test_roles_are_enforced_on_the_server(console: ConsoleEnv) -> None:
    conversation_id = await customer(console.db, "t-roles")
    agent = await console.signed_in("agent")
    social = await console.signed_in("social")
    admin = await console.signed_in("admin")
    assert (await agent.get("/console/mentions")).status_code == 403
    assert (await agent.get("/console/reports")).status_code == 403
    assert (await agent.get("/console/inbox")).status_code == 200
    assert (await social.get("/console/mentions")).status_code == 200
    assert (await social.get("/console/reports")).status_code == 403
    assert (await social.get(f"/console/conversations/{conversation_id}")).status_code == 200
    # The page offers a social-team member no reply box, and the server refuses one anyway.
    response = await post_form(
        social,
        f"/console/conversations/{conversation_id}",
        f"/console/conversations/{conversation_id}/reply",
        {"text": "hi"},
    )
    assert response.status_code == 403
    assert await outbox_rows(console.db) == []
    for path in ("/console/mentions", "/console/reports", "/console/inbox"):
        assert (await admin.get(path)).status_code == 200
    home = await social.get("/console/")
    assert home.headers["location"] == "/console/mentions"


async def test_a_post_without_the_session_csrf_token_is_refused(console: ConsoleEnv) -> None:
    conversation_id = await customer(console.db, "t-csrf")
    client = await console.signed_in("agent")
    action = f"/console/conversations/{conversation_id}/reply"
    token = csrf_of((await client.get("/console/inbox")).text)
    assert (await client.post(action, data={"text": "no token"})).status_code == 403
    assert (await client.post(action, data={"text": "bad token", "csrf": "x" * 43})).status_code == 403
    assert (await client.post(action, data={"text": "bad token", "csrf": "é" * 43})).status_code == 403
    # JSON bodies carry no form token either.
    assert (await client.post(action, json={"text": "json", "csrf": token})).status_code == 403
    cross = await client.post(
        action, data={"text": "cross-site", "csrf": token}, headers={"Origin": "https://evil.example"}
    )
    assert cross.status_code == 403
    assert await outbox_rows(console.db) == []
    ok = await client.post(action, data={"text": "with token", "csrf": token}, headers={"Origin": BASE})
    assert ok.status_code == 303
    # Behind a reverse proxy the Host differs: the public URL's origin is accepted too.
    proxied = await client.post(
        action, data={"text": "via proxy", "csrf": token}, headers={"Origin": "http://127.0.0.1:8080"}
    )
    assert proxied.status_code == 303
    assert len(await outbox_rows(console.db)) == 2
    # The sign-in form has its own token.
    response = await console.client.post(
        "/console/login", data={"email": EMAILS["agent"], "password": PASSWORD, "csrf": "nope"}
    )
    assert response.status_code == 403


async def test_repeated_failures_lock_the_account(console: ConsoleEnv) -> None:
    email = EMAILS["agent"]
    for _ in range(2):
        assert (await sign_in(console.client, email, "wrong password")).status_code == 401
    locked = await sign_in(console.client, email, "wrong password")
    assert locked.status_code == 429
    assert "locked" in locked.text
    # The right password does not get in while the lock lasts.
    assert (await sign_in(console.client, email)).status_code == 429
    async with console.db.reader() as session:
        row = await session.scalar(select(Agent).where(Agent.email == email))
    assert row is not None and row.locked_until is not None
    # Other accounts are not affected, and an unknown address gets the same answer as a wrong password.
    assert (await sign_in(console.client_for(), EMAILS["admin"])).status_code == 303
    assert (await sign_in(console.client_for(), "nobody@example.com")).status_code == 401

    console.clock.advance(minutes=16)
    assert (await sign_in(console.client, email)).status_code == 303
    async with console.db.reader() as session:
        row = await session.scalar(select(Agent).where(Agent.email == email))
    assert row is not None and row.failed_logins == 0 and row.locked_until is None


async def test_pages_carry_the_security_headers(console: ConsoleEnv) -> None:
    client = await console.signed_in("admin")
    for path in ("/console/login", "/console/inbox", "/console/reports", "/console/static/console.js"):
        response = await (console.client if path.endswith("login") else client).get(path)
        assert response.status_code == 200, path
        csp = response.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["x-content-type-options"] == "nosniff"
    assert (await client.get("/console/inbox")).headers["cache-control"] == "no-store"
    # No inline script anywhere: the CSP would block it.
    assert "<script>" not in (await client.get("/console/inbox")).text

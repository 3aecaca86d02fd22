"""The console under attack: every route × every role, CSRF on every form, fixation, brute force, XSS, SQLi, headers.

``tests/console/test_auth.py`` and ``test_pages.py`` cover the basics on a few routes (anonymous
redirects, rotation on sign-in, a lock-out, escaping in the inbox and conversation, ``q``);
these tests widen each to every route, page and parameter, enumerated from the app itself so
that a route added later is covered (or fails here until its permission is declared).
"""

from __future__ import annotations

import asyncio
from html.parser import HTMLParser

import httpx
from sqlalchemy import func, select, text
from starlette.routing import Mount, Route

from adapters.console.sessions import COOKIE
from conversations.tables import Agent, Message, OutboxEntry, Ticket
from tests.console.conftest import (
    BASE,
    EMAILS,
    PASSWORD,
    ConsoleEnv,
    csrf_of,
    customer,
    post_form,
    sign_in,
)
from tests.console.test_social_and_reports import held_draft

# The permission each route needs (adapters/console/auth.py); a new route must be added here.
PERMISSION = {
    ("GET", "/"): "read",
    ("GET", "/inbox"): "read",
    ("GET", "/inbox/rows"): "read",
    ("GET", "/conversations/{conversation_id:int}"): "read",
    ("GET", "/conversations/{conversation_id:int}/transcript"): "read",
    ("POST", "/logout"): "read",
    ("GET", "/mentions"): "mentions",
    ("POST", "/mentions/{outbox_id:int}/approve"): "mentions",
    ("POST", "/mentions/{outbox_id:int}/discard"): "mentions",
    ("GET", "/reports"): "reports",
    **{
        ("POST", f"/conversations/{{conversation_id:int}}/{name}"): "work"
        for name in (
            "reply",
            "note",
            "open",
            "take",
            "assign",
            "priority",
            "status",
            "solve",
            "reopen",
            "merge",
        )
    },
}
ALLOWED = {
    "read": {"agent", "social", "admin"},
    "work": {"agent", "admin"},
    "mentions": {"social", "admin"},
    "reports": {"admin"},
}
PUBLIC = {("GET", "/login"), ("POST", "/login")}
ROLE_REFUSED = "Your role does not allow this page."
CSRF_REFUSED = "The form expired or came from elsewhere"
XSS = '<script>alert("pwned")</script><img src=x onerror=alert(1)><a href="javascript:alert(2)">x</a>'
ESCAPED = "&lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt;"
SQL = [
    "' OR '1'='1",
    "1; DROP TABLE messages; --",
    "') UNION SELECT password_hash, email FROM agents --",
    "1' AND pg_sleep(5) --",
    "%' OR 1=1 --",
    "\x00",
    "\\'",
    "${7*7}{{7*7}}",
    "9" * 400,
]


class _ActiveContent(HTMLParser):
    """Collects what a browser would run: event handlers, ``javascript:`` URLs, foreign or inline scripts."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}>")
            if (value or "").strip().lower().startswith(("javascript:", "data:text/html")):
                self.found.append(f"<{tag} {name}={value}>")
        if tag == "script":
            source = dict(attrs).get("src") or ""
            if not source.startswith("/console/static/"):
                self.found.append(f"<script src={source!r}>")
            self._in_script = True

    def handle_endtag(self, tag: str) -> None:
        self._in_script = self._in_script and tag != "script"

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.found.append(f"inline script {data[:40]!r}")


def active_content(html: str) -> list[str]:
    """Everything in ``html`` that would run in a browser other than the console's own script files."""
    parser = _ActiveContent()
    parser.feed(html)
    return parser.found


def routes(env: ConsoleEnv) -> list[tuple[str, str]]:
    """(method, route path) of every console route but the static files."""
    app = env.app.app
    mount = next(r for r in app.routes if isinstance(r, Mount) and r.path == "/console")  # type: ignore[attr-defined]
    found = []
    for route in mount.routes:
        if isinstance(route, Route):
            found += [(m, route.path) for m in sorted(route.methods or ()) if m != "HEAD"]
    return found


def concrete(path: str, conversation_id: int, outbox_id: int) -> str:
    return "/console" + path.replace("{conversation_id:int}", str(conversation_id)).replace(
        "{outbox_id:int}", str(outbox_id)
    )


async def counts(env: ConsoleEnv) -> tuple[int, int, int, int]:
    """Rows a refused request must not have changed."""
    async with env.db.reader() as session:
        return (
            await session.scalar(select(func.count()).select_from(Message)) or 0,
            await session.scalar(select(func.count()).select_from(OutboxEntry)) or 0,
            await session.scalar(select(func.count()).select_from(Ticket)) or 0,
            len((await session.scalars(select(OutboxEntry).where(OutboxEntry.status == "held"))).all()),
        )


async def test_every_route_is_declared_and_every_role_is_checked_on_the_server(console: ConsoleEnv) -> None:
    found = set(routes(console))
    assert found - PUBLIC == set(PERMISSION), "a console route without a declared permission"
    conversation_id = await customer(console.db, "t-matrix", ["hello"], channel="x")
    outbox_id = await held_draft(console.db, conversation_id, "@acme help", "We can help", console.clock())
    before = await counts(console)
    for role in ("agent", "social", "admin"):
        client = await console.signed_in(role)
        token = csrf_of((await client.get("/console/login?next=/console/inbox", follow_redirects=True)).text)
        for (method, path), permission in PERMISSION.items():
            url = concrete(path, conversation_id, outbox_id)
            if method == "GET":
                response = await client.get(url)
            else:
                # A refused role is refused even with a valid token; an allowed role without one.
                fields = {"csrf": token} if role not in ALLOWED[permission] else {}
                response = await client.post(url, data={**fields, "text": "x", "subject": "x"})
            if role in ALLOWED[permission]:
                if method == "GET":
                    assert response.status_code in (200, 303), (role, method, path, response.status_code)
                else:
                    assert response.status_code == 403 and CSRF_REFUSED in response.text, (role, path)
            else:
                assert response.status_code == 403, (role, method, path, response.status_code)
                assert ROLE_REFUSED in response.text, (role, method, path)
    assert await counts(console) == before


async def test_every_post_route_needs_the_session_token_and_our_origin(console: ConsoleEnv) -> None:
    conversation_id = await customer(console.db, "t-csrf-all", ["hello"], channel="x")
    outbox_id = await held_draft(console.db, conversation_id, "@acme help", "We can help", console.clock())
    admin = await console.signed_in("admin")
    token = csrf_of((await admin.get("/console/inbox")).text)
    # Another agent's token (a valid token, of another session) is no better.
    other = csrf_of((await (await console.signed_in("agent")).get("/console/inbox")).text)
    before = await counts(console)
    posts = [path for method, path in PERMISSION if method == "POST" and path != "/logout"]
    for path in posts:
        url = concrete(path, conversation_id, outbox_id)
        fields = {"text": "csrf", "subject": "csrf", "priority": "high", "status": "solved"}
        for attempt in (
            {"data": fields},
            {"data": {**fields, "csrf": ""}},
            {"data": {**fields, "csrf": other}},
            {"data": {**fields, "csrf": token}, "headers": {"Origin": "https://evil.example"}},
            {"data": {**fields, "csrf": token}, "headers": {"Origin": "null"}},
            {"json": {**fields, "csrf": token}},
        ):
            response = await admin.post(url, **attempt)  # type: ignore[arg-type]
            assert response.status_code == 403, (path, attempt, response.status_code)
            assert CSRF_REFUSED in response.text, (path, attempt)
    assert await counts(console) == before
    # Logging out is a POST too: a cross-site one does not end the session.
    assert (await admin.post("/console/logout", data={"csrf": other})).status_code == 403
    assert (await admin.get("/console/inbox")).status_code == 200


async def test_a_session_cookie_planted_before_sign_in_is_never_signed_in(console: ConsoleEnv) -> None:
    attacker = console.client_for()
    await attacker.get("/console/login")
    planted = attacker.cookies[COOKIE]
    # The victim's browser carries the attacker's cookie and signs in with it.
    victim = httpx.AsyncClient(transport=console.app, base_url=BASE)
    victim.cookies.set(COOKIE, planted, domain="console.test", path="/console")
    async with victim:
        # The anonymous session is kept (re-signed, so its bytes may change) for the form...
        page = await victim.get("/console/login")
        response = await victim.post(
            "/console/login",
            data={"csrf": csrf_of(page.text), "email": EMAILS["admin"], "password": PASSWORD},
        )
        assert response.status_code == 303
        assert victim.cookies[COOKIE] != planted  # ...and replaced on sign-in
        assert (await victim.get("/console/reports")).status_code == 200
    # The attacker's copy is still only the anonymous sign-in form's session.
    for path in ("/console/inbox", "/console/reports", "/console/mentions"):
        response = await attacker.get(path)
        assert response.status_code == 303 and response.headers["location"].startswith("/console/login")


async def test_concurrent_guesses_do_not_outrun_the_lock_out(console: ConsoleEnv) -> None:
    """A burst of parallel guesses (each from a new browser) gets no more tries than the limit (3 here)."""
    email = EMAILS["agent"]
    browsers = [console.client_for() for _ in range(12)]
    forms = [csrf_of((await b.get("/console/login")).text) for b in browsers]
    # All wrong: the order in which twelve parallel requests reach the server is not ours to choose.
    guesses = [f"wrong guess {n}" for n in range(12)]

    async def attempt(browser: httpx.AsyncClient, token: str, password: str) -> int:
        response = await browser.post(
            "/console/login", data={"csrf": token, "email": email, "password": password}
        )
        return response.status_code

    results = await asyncio.gather(
        *(attempt(b, t, p) for b, t, p in zip(browsers, forms, guesses, strict=True))
    )
    assert results.count(401) <= 2 and results.count(429) >= 10, results
    assert 303 not in results
    async with console.db.reader() as session:
        row = await session.scalar(select(Agent).where(Agent.email == email))
    assert row is not None and row.locked_until is not None
    # Changing browser (cookie jar) after the lock does not help either.
    assert (await sign_in(console.client_for(), email)).status_code == 429


async def test_customer_text_is_escaped_on_every_page_that_shows_it(console: ConsoleEnv) -> None:
    conversation_id = await customer(console.db, "t-xss-all", [XSS], channel="x", name=XSS, handle=XSS)
    await held_draft(console.db, conversation_id, XSS, f"Re: {XSS}", console.clock())
    admin = await console.signed_in("admin")
    # A ticket titled with the customer's text, in a category named by it (both shown in lists and reports).
    opened = await post_form(
        admin,
        f"/console/conversations/{conversation_id}",
        f"/console/conversations/{conversation_id}/open",
        {"subject": XSS, "category": XSS[:60]},
    )
    assert opened.status_code == 303
    pages = [
        "/console/inbox",
        "/console/inbox/rows",
        f"/console/inbox?q={XSS[:40]}",
        f"/console/conversations/{conversation_id}",
        "/console/mentions",
        "/console/reports?days=7",
    ]
    for path in pages:
        response = await admin.get(path)
        assert response.status_code == 200, path
        html = response.text
        assert "<script>alert" not in html and "<img src=x" not in html, path
        assert active_content(html) == [], path
    for path in pages[:5]:
        assert ESCAPED in (await admin.get(path)).text, path


async def test_hostile_strings_in_every_filter_and_search_are_only_data(console: ConsoleEnv) -> None:
    conversation_id = await customer(console.db, "t-sqli", ["my deposit is missing"])
    admin = await console.signed_in("admin")
    params = ["q", "channel", "status", "priority", "assignee", "language", "category", "surface", "order"]
    baseline = (await admin.get("/console/inbox/rows")).text
    assert f'data-conversation="{conversation_id}"' in baseline
    for value in SQL:
        for name in params:
            for path in ("/console/inbox", "/console/inbox/rows"):
                response = await admin.get(path, params={name: value})
                assert response.status_code == 200, (path, name, value)
        for path, name in (
            ("/console/reports", "days"),
            (f"/console/conversations/{conversation_id}", "canned"),
            ("/console/login", "next"),
        ):
            response = await admin.get(path, params={name: value}, follow_redirects=True)
            assert response.status_code == 200, (path, name, value)
    async with console.db.reader() as session:
        assert await session.scalar(text("SELECT count(*) FROM agents")) == 3
        assert await session.scalar(text("SELECT count(*) FROM messages")) == 1
        assert await session.scalar(text("SELECT count(*) FROM conversations")) == 1
    # The list still works afterwards.
    assert f'data-conversation="{conversation_id}"' in (await admin.get("/console/inbox/rows")).text


async def test_every_response_carries_the_security_headers(console: ConsoleEnv) -> None:
    conversation_id = await customer(console.db, "t-headers", ["hello"])
    admin = await console.signed_in("admin")
    social = await console.signed_in("social")
    token = csrf_of((await admin.get("/console/inbox")).text)
    responses = [
        await console.client.get("/console/login"),
        await console.client.post("/console/login", data={"csrf": "x", "email": "a", "password": "b"}),
        await console.client.get("/console/inbox"),  # redirect to sign in
        await admin.get("/console/nowhere"),  # 404
        await admin.delete("/console/inbox"),  # 405
        await admin.get("/console/conversations/999999"),
        await admin.get("/console/static/console.js"),
        await social.get("/console/reports"),  # 403
        await admin.post(f"/console/conversations/{conversation_id}/reply", data={"text": "x"}),  # CSRF
        await admin.post(f"/console/conversations/{conversation_id}/note", data={"text": "n", "csrf": token}),
    ]
    responses += [await admin.get(concrete(p, conversation_id, 1)) for m, p in PERMISSION if m == "GET"]
    for response in responses:
        where = (response.request.method, response.request.url.path, response.status_code)
        csp = response.headers.get("content-security-policy", "")
        assert "frame-ancestors 'none'" in csp and "default-src 'none'" in csp, where
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, where
        assert response.headers.get("x-frame-options") == "DENY", where
        assert response.headers.get("x-content-type-options") == "nosniff", where
        assert response.headers.get("referrer-policy") in ("same-origin", "no-referrer"), where
        if response.request.url.path.startswith("/console/static/"):
            continue
        assert response.headers.get("cache-control") == "no-store", where
        for cookie in response.headers.get_list("set-cookie"):
            lowered = cookie.lower()
            assert "httponly" in lowered and "samesite=lax" in lowered and "path=/console" in lowered, where

"""Who may do what in the console, checked on every request, and signing in with a lock-out.

Roles and what they allow:

=========  =====================================================  ======================
role       pages                                                  actions
=========  =====================================================  ======================
agent      inbox, conversations                                   replies, notes, tickets
social     inbox, conversations (read), mention queue             approve / discard drafts
admin      everything, and the reports                            everything
=========  =====================================================  ======================

Every endpoint is wrapped by :func:`guarded`: no valid session → redirect to the sign-in
page; a role without the permission → 403; a POST without the session's CSRF token (or
from another origin) → 403.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum
from urllib.parse import urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from adapters.console.context import Console
from adapters.console.sessions import SessionData, fingerprint
from adapters.console.web import PREFIX, read_form
from conversations import agent_accounts as accounts
from conversations import ticket_queries
from conversations.database import UNAVAILABLE
from conversations.errors import StoreUnavailable

log = logging.getLogger(__name__)

ROLES = ("agent", "social", "admin")
PERMISSIONS: dict[str, frozenset[str]] = {
    "read": frozenset({"agent", "social", "admin"}),
    "work": frozenset({"agent", "admin"}),
    "mentions": frozenset({"social", "admin"}),
    "reports": frozenset({"admin"}),
}


@dataclass(frozen=True, slots=True)
class Viewer:
    """The signed-in agent, as the database says now."""

    id: int
    email: str
    name: str
    role: str
    csrf: str

    def can(self, permission: str) -> bool:
        """Whether the role allows ``permission`` (``read``, ``work``, ``mentions``, ``reports``)."""
        return self.role in PERMISSIONS[permission]


Form = Mapping[str, str]
Page = Callable[[Request, Viewer, Form], Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]


def guarded(console: Console, permission: str, handle: Page) -> Endpoint:
    """Wrap a page: authenticate, authorise, and check the CSRF token of a POST before ``handle`` runs."""
    if permission not in PERMISSIONS:
        raise ValueError(f"unknown permission {permission!r}")

    async def endpoint(request: Request) -> Response:
        try:
            return await checked(request)
        except (StoreUnavailable, *UNAVAILABLE) as exc:
            log.warning(
                "console: %s %s failed, database unavailable: %s", request.method, request.url.path, exc
            )
            return refuse(console, request, None, "The database is unavailable: try again in a moment.", 503)

    async def checked(request: Request) -> Response:
        session = console.sessions.read(request)
        viewer = await current_viewer(console, session)
        if viewer is None:
            return to_sign_in(console, request)
        if not viewer.can(permission):
            return refuse(console, request, viewer, "Your role does not allow this page.")
        form: Form = {}
        if request.method == "POST":
            parsed = await read_form(request, console.max_body)
            if parsed is None:
                return refuse(console, request, viewer, "The form could not be read.", 400)
            if not same_origin(request, console.public_host) or not csrf_ok(session, parsed.get("csrf")):
                log.warning(
                    "console: %s %s refused: missing or wrong CSRF token", request.method, request.url.path
                )
                return refuse(
                    console, request, viewer, "The form expired or came from elsewhere: reload the page."
                )
            form = parsed
        return await handle(request, viewer, form)

    return endpoint


async def current_viewer(console: Console, session: SessionData | None) -> Viewer | None:
    """The active agent of a signed-in session whose password has not changed since."""
    if session is None or session.agent_id is None:
        return None
    async with console.db.reader() as db_session:
        agent = await ticket_queries.agent_by_id(db_session, session.agent_id)
    if agent is None or agent.password_hash is None or agent.role not in ROLES:
        return None
    if not hmac.compare_digest(fingerprint(agent.password_hash), session.fingerprint or ""):
        return None
    return Viewer(agent.id, agent.email, agent.display_name, agent.role, session.csrf)


def csrf_ok(session: SessionData | None, token: str | None) -> bool:
    """The token matches the session's."""
    # Compared as bytes: compare_digest refuses non-ASCII str, and the token is attacker input.
    return (
        session is not None
        and bool(token)
        and hmac.compare_digest(session.csrf.encode(), (token or "").encode())
    )


def same_origin(request: Request, public_host: str = "") -> bool:
    """A browser's ``Origin`` header, when sent, names this host or the public URL's (a second line behind the token).

    The public URL's host counts too: behind a reverse proxy the ``Host`` the app sees may be
    the proxy's upstream address, not what the browser shows.
    """
    origin = request.headers.get("origin")
    if origin is None:
        return True
    host = urlsplit(origin).netloc.lower()
    return host in {request.headers.get("host", "").lower(), public_host.lower()} - {""}


def to_sign_in(console: Console, request: Request) -> Response:
    """Redirect to the sign-in page, coming back here afterwards (GET pages only)."""
    target = f"{PREFIX}/login"
    if request.method == "GET":
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        target += "?" + urlencode({"next": path})
    return console.sessions.clear(RedirectResponse(target, status_code=303))


def refuse(
    console: Console, request: Request, viewer: Viewer | None, why: str, status: int = 403
) -> Response:
    """The refusal page."""
    return console.render(request, "refused.html", {"viewer": viewer, "why": why}, status)


class Outcome(Enum):
    """How a sign-in attempt ended."""

    SIGNED_IN = "signed_in"
    WRONG = "wrong"
    LOCKED = "locked"


@dataclass(frozen=True, slots=True)
class SignIn:
    """The result of a sign-in attempt; ``session`` is the new (rotated) session on success."""

    outcome: Outcome
    session: SessionData | None = None


async def sign_in(console: Console, email: str, password: str) -> SignIn:
    """Check an e-mail address and password; count failures and lock the account after too many.

    A locked account is refused without checking the password. An unknown address is
    checked against a decoy hash, so it takes as long as a wrong password. Attempts for
    one address are checked one at a time, so a burst of guesses cannot outrun the lock-out.
    """
    async with console.sign_in_locks.hold(email.strip().lower()):
        return await _sign_in(console, email, password)


async def _sign_in(console: Console, email: str, password: str) -> SignIn:
    now = console.clock()
    async with console.db.reader() as session:
        agent = await accounts.account(session, email) if email else None
    if agent is not None and agent.locked_until is not None and agent.locked_until > now:
        return SignIn(Outcome.LOCKED)
    stored = agent.password_hash if agent is not None else None
    checked = await asyncio.to_thread(console.passwords.verify, stored, password)
    if agent is None or stored is None:
        return SignIn(Outcome.WRONG)
    if not checked.ok:
        settings = console.settings
        async with console.db.transaction() as session:
            locked = await accounts.record_failed_login(
                session,
                agent.id,
                settings.max_failed_logins,
                timedelta(minutes=settings.lockout_minutes),
                now,
            )
        if locked is not None:
            log.warning("console: %s locked until %s after repeated failed sign-ins", agent.email, locked)
            return SignIn(Outcome.LOCKED)
        return SignIn(Outcome.WRONG)
    async with console.db.transaction() as session:
        await accounts.record_login(session, agent.id, checked.new_hash)
    log.info("console: %s signed in", agent.email)
    return SignIn(Outcome.SIGNED_IN, console.sessions.new(agent.id, fingerprint(checked.new_hash or stored)))

"""Web chat sessions of a browser, bound to a signed cookie so that only that browser reads them.

The ``/chat`` page sends ``X-Helpline-Bind: cookie`` with its messages. The first such
message of a session that has no conversation yet binds the session: the server draws a
random key, keeps only its SHA-256 in ``channel_state`` (so the binding survives restarts
and holds in every process) and sets a cookie carrying ``{session id, key}``, signed with
the console's secret (itsdangerous, as the console signs its own sessions), HttpOnly and
SameSite=Strict. From then on a request for that session without the cookie, or with the
cookie of another session, is refused. Sessions nobody bound (API integrators that keep no
cookies) work as before: their id is their only key, so it must be unguessable.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections import OrderedDict
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response

from conversations.channel_state import ChannelStateStore

BIND_HEADER = "x-helpline-bind"
COOKIE = "helpline_chat"
COOKIE_PATH = "/api/chat"
SALT = "helpline.webchat.session"
LIFETIME = timedelta(days=30)
# Sessions whose binding (or permanent absence of one) this process remembers.
KNOWN_SESSIONS = 65_536


class Access(Enum):
    """What a request may do with a session."""

    OPEN = "open"  # not bound: the session id alone is the key (API integrators)
    OWNER = "owner"  # bound, and the request carries the binding cookie
    REFUSED = "refused"  # bound to another browser


@dataclass(frozen=True, slots=True)
class Admission:
    """The answer to a message for a session.

    Attributes:
        access: Whether it may go on.
        cookie: The signed cookie to set on the response (a new binding, or the owner's renewed).

    """

    access: Access
    cookie: str | None = None


class SessionBindings:
    """Binds browser sessions to cookies and checks requests against the bindings.

    Args:
        state: The web chat's durable key-value store (one row per bound session); it also
            tells whether a session has a conversation (only a session without one may be bound).
        secret: Signs the cookies (the console's secret, shared by every process).
        secure: Send the cookie over HTTPS only (when the public URL is ``https``).
        lifetime: How long a cookie lasts after the session's last message.

    """

    def __init__(
        self,
        state: ChannelStateStore,
        secret: str,
        *,
        secure: bool,
        lifetime: timedelta = LIFETIME,
    ) -> None:
        self._state = state
        self._serializer = URLSafeTimedSerializer(secret, salt=SALT)
        self._secure = secure
        self._lifetime = lifetime
        # session state key → binding digest, or "" for a session that can never be bound.
        # Both are final once known (a binding is never replaced; a session with a
        # conversation is never bound), so every process may remember them.
        self._known: OrderedDict[str, str] = OrderedDict()

    async def _binding(self, session_id: str) -> str | None:
        """The session's binding digest; ``""`` when it can never be bound; ``None`` while it may be."""
        key = _state_key(session_id)
        if (known := self._known.get(key)) is not None:
            self._known.move_to_end(key)
            return known
        # One snapshot: a browser binds before its first message makes the conversation, so a
        # conversation seen without a binding will never have one.
        stored, threaded = await self._state.get_with_thread(key, session_id)
        if stored is None and not threaded:
            return None
        stored = stored or ""
        self._known[key] = stored
        if len(self._known) > KNOWN_SESSIONS:
            self._known.popitem(last=False)
        return stored

    async def check(self, request: Request, session_id: str) -> Access:
        """What this request may do with ``session_id``: read it unless refused.

        Raises:
            StoreUnavailable: The database cannot be reached.

        """
        stored = await self._binding(session_id)
        if not stored:
            return Access.OPEN
        return Access.OWNER if self._cookie_key(request, session_id, stored) else Access.REFUSED

    async def admit(self, request: Request, session_id: str) -> Admission:
        """Whether this request may post to ``session_id``; binds the session when the page asks first.

        Raises:
            StoreUnavailable: The database cannot be reached.

        """
        stored = await self._binding(session_id)
        if stored:
            key = self._cookie_key(request, session_id, stored)
            if key is None:
                return Admission(Access.REFUSED)
            return Admission(Access.OWNER, self._token(session_id, key))  # sliding lifetime
        # A session with a conversation already (an integrator's, or an older page's; stored is
        # "") is never bound: whoever knows its id could otherwise lock its owner out and keep it.
        if stored is not None or request.headers.get(BIND_HEADER, "").lower() != "cookie":
            return Admission(Access.OPEN)
        key = secrets.token_urlsafe(32)
        kept = await self._state.put_if_absent(_state_key(session_id), _digest(key))
        if not hmac.compare_digest(kept, _digest(key)):  # another request bound it first
            return await self.admit(request, session_id)
        return Admission(Access.OWNER, self._token(session_id, key))

    def set_cookie(self, response: Response, token: str) -> Response:
        """Set the binding cookie on ``response`` (HttpOnly, SameSite=Strict, Secure over HTTPS)."""
        response.set_cookie(
            COOKIE,
            token,
            max_age=int(self._lifetime.total_seconds()),
            path=COOKIE_PATH,
            httponly=True,
            samesite="strict",
            secure=self._secure,
        )
        return response

    def _token(self, session_id: str, key: str) -> str:
        return self._serializer.dumps({"s": session_id, "k": key})

    def _cookie_key(self, request: Request, session_id: str, stored: str) -> str | None:
        """The key in the request's cookie when it is valid and binds ``session_id``, else ``None``."""
        token = request.cookies.get(COOKIE)
        if not token:
            return None
        try:
            data = self._serializer.loads(token, max_age=int(self._lifetime.total_seconds()))
        except BadSignature:
            return None
        if not isinstance(data, dict) or data.get("s") != session_id:
            return None
        key = data.get("k")
        if not isinstance(key, str) or not hmac.compare_digest(_digest(key), stored):
            return None
        return key


def _state_key(session_id: str) -> str:
    # channel_state keys hold 128 characters, as many as a session id: store a fixed-size digest.
    return "session:" + hashlib.sha256(session_id.encode()).hexdigest()


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()

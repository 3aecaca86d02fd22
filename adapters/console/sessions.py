"""Console sessions in signed cookies: who is signed in, and the session's CSRF token.

The cookie holds ``{agent id, password fingerprint, CSRF token}`` signed with the console
secret (itsdangerous, with a timestamp checked against the session lifetime). Nothing in
it is trusted beyond identity: the agent's role and active flag are read from the
database on every request, and a password change invalidates every session (the
fingerprint no longer matches). Signing in issues a new cookie with a new CSRF token.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response

from adapters.console.web import PREFIX

COOKIE = "helpline_console"
SALT = "helpline.console.session"
SECRET_FILE = "console-secret"


@dataclass(frozen=True, slots=True)
class SessionData:
    """What a session cookie carries.

    Attributes:
        csrf: The token every form of this session must send back.
        agent_id: The signed-in agent; ``None`` before signing in (the sign-in form's own session).
        fingerprint: Of the agent's password hash when they signed in.

    """

    csrf: str
    agent_id: int | None = None
    fingerprint: str | None = None


class SessionCodec:
    """Signs, reads and sets session cookies.

    Args:
        secret: The signing key.
        lifetime: How long a session is valid.
        secure: Send the cookie over HTTPS only (when the public URL is ``https``).

    """

    def __init__(self, secret: str, lifetime: timedelta, *, secure: bool) -> None:
        self._serializer = URLSafeTimedSerializer(secret, salt=SALT)
        self._lifetime = lifetime
        self._secure = secure

    @staticmethod
    def new(agent_id: int | None = None, fingerprint: str | None = None) -> SessionData:
        """A fresh session with a new CSRF token."""
        return SessionData(secrets.token_urlsafe(32), agent_id, fingerprint)

    def read(self, request: Request) -> SessionData | None:
        """The request's valid session, or ``None`` (missing, forged, expired or malformed)."""
        token = request.cookies.get(COOKIE)
        if not token:
            return None
        try:
            data = self._serializer.loads(token, max_age=int(self._lifetime.total_seconds()))
        except BadSignature:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("c"), str):
            return None
        agent_id, fingerprint = data.get("a"), data.get("f")
        if agent_id is not None and (not isinstance(agent_id, int) or not isinstance(fingerprint, str)):
            return None
        return SessionData(data["c"], agent_id, fingerprint)

    def write(self, response: Response, session: SessionData) -> Response:
        """Set the session cookie on ``response`` (HttpOnly, SameSite=Lax, Secure over HTTPS)."""
        token = self._serializer.dumps({"c": session.csrf, "a": session.agent_id, "f": session.fingerprint})
        response.set_cookie(
            COOKIE,
            token,
            max_age=int(self._lifetime.total_seconds()),
            path=PREFIX,
            httponly=True,
            samesite="lax",
            secure=self._secure,
        )
        return response

    def clear(self, response: Response) -> Response:
        """Remove the session cookie."""
        response.delete_cookie(COOKIE, path=PREFIX, httponly=True, samesite="lax", secure=self._secure)
        return response


def fingerprint(password_hash: str | None) -> str:
    """A short digest of a password hash: sessions die when the password changes."""
    return hashlib.sha256((password_hash or "").encode()).hexdigest()[:16]


def load_secret(configured: str | None, data_dir: Path) -> str:
    """The configured secret, else one kept in ``<data_dir>/console-secret`` (created once, mode 0600)."""
    if configured:
        return configured
    path = data_dir / SECRET_FILE
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    data_dir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    # Written aside, then linked into place: another process never reads a half-written file.
    draft = data_dir / f".{SECRET_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secret + "\n")
    try:
        os.link(draft, path)
    except FileExistsError:  # another process was first: use theirs
        secret = path.read_text().strip()
    finally:
        draft.unlink()
    return secret

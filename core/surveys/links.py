"""Signed, expiring survey links for channels without buttons (e-mail).

A survey's token is derived from the link secret and the survey's id, so a channel can
build a link from the button's action alone; each link is signed over the token, the
answer it records and its expiry time, so nobody can forge or change an answer.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime

OPT_OUT = "optout"


def survey_token(secret: bytes, survey_id: int) -> str:
    """The survey's token: unguessable without the secret, 32 URL-safe characters."""
    digest = hmac.new(secret, f"survey-token:{survey_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:24]).decode()


def signature(secret: bytes, token: str, answer: str, expires: int) -> str:
    """The signature of a link recording ``answer`` (``"1"``–``"5"`` or ``"optout"``) until ``expires``."""
    message = f"{token}:{answer}:{expires}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()[:32]


def valid(secret: bytes, token: str, answer: str, expires: str, sig: str) -> bool:
    """Whether a link's signature is ours (its expiry is checked separately)."""
    # isascii: str.isdigit also takes "²", which int() refuses.
    if not (expires.isascii() and expires.isdigit()) or len(expires) > 12:
        return False
    # Compared as bytes: compare_digest refuses non-ASCII str, and the link is attacker input.
    return hmac.compare_digest(signature(secret, token, answer, int(expires)).encode(), sig.encode())


def expired(expires: str, now: datetime) -> bool:
    """Whether a link's expiry time (Unix seconds) has passed."""
    if not (expires.isascii() and expires.isdigit()) or len(expires) > 12:
        return True
    return int(expires) <= now.timestamp()

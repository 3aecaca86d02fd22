"""Password hashing for console sign-in: argon2id, with rehashing when the parameters change."""

from __future__ import annotations

from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 10


class WeakPassword(ValueError):
    """A password too short to be accepted."""


@dataclass(frozen=True, slots=True)
class Verified:
    """The result of checking a password: whether it matches, and a fresh hash if the old one is outdated."""

    ok: bool
    new_hash: str | None = None


class Passwords:
    """Hashes and checks passwords.

    Args:
        hasher: argon2 parameters; the default is argon2-cffi's recommended profile
            (tests pass a cheaper one).

    """

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self._hasher = hasher or PasswordHasher()
        # Checked against when the e-mail address is unknown, so both cases take as long.
        self._decoy: str | None = None

    def hash(self, password: str) -> str:
        """The argon2id hash of a new password.

        Raises:
            WeakPassword: It is shorter than ``MIN_LENGTH`` characters.

        """
        if len(password) < MIN_LENGTH:
            raise WeakPassword(f"a password needs at least {MIN_LENGTH} characters")
        return self._hasher.hash(password)

    def verify(self, stored: str | None, password: str) -> Verified:
        """Check ``password`` against a stored hash (``None``: an unknown account, checked against a decoy)."""
        if stored is None and self._decoy is None:
            self._decoy = self._hasher.hash("not a password of anyone")
        try:
            self._hasher.verify(stored or self._decoy or "", password)
        except (VerificationError, InvalidHashError):
            return Verified(False)
        if stored is None:
            return Verified(False)
        return Verified(
            True, self._hasher.hash(password) if self._hasher.check_needs_rehash(stored) else None
        )

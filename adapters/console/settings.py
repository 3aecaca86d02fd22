"""Settings of the agent console (section ``console``, variables ``HELPLINE_CONSOLE__*``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr


class ConsoleSettings(BaseModel):
    """Sign-in, sessions and refresh of the console.

    Attributes:
        secret: Signs the session cookies (``HELPLINE_CONSOLE__SECRET``, at least 32 characters).
            Unset, a random one is kept in ``<data_dir>/console-secret``.
        session_hours: How long a sign-in lasts.
        max_failed_logins: Wrong passwords in a row before the account is locked.
        lockout_minutes: How long it stays locked.
        refresh_seconds: How often the inbox and an open conversation check for news.

    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    secret: SecretStr | None = Field(None, min_length=32)
    session_hours: float = Field(12, gt=0, le=24 * 30)
    max_failed_logins: int = Field(5, ge=1, le=100)
    lockout_minutes: float = Field(15, gt=0)
    refresh_seconds: float = Field(5, ge=1, le=300)

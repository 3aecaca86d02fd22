"""Survey and follow-up settings: the ``surveys`` section (``HELPLINE_SURVEYS__*``).

``HELPLINE_SURVEYS__DELAY_SECONDS=600`` sends surveys ten minutes after a ticket is solved;
``HELPLINE_SURVEYS__CHANNELS__EMAIL__DELAY_SECONDS=86400`` waits a day on e-mail only. The
secret that signs e-mail links comes from ``HELPLINE_SURVEYS__SECRET``; without it a random
secret is kept in a file of the data directory, so links survive restarts.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, ValidationError

from core.settings import Section, Settings, SettingsError

log = logging.getLogger(__name__)
SECRET_FILE = "survey-secret"


class ChannelSurveySettings(Section):
    """What one channel does differently."""

    delay_seconds: float | None = Field(None, ge=0)


class SurveySettings(Section):
    """When surveys are sent and when tickets waiting on the customer are followed up."""

    enabled: bool = True
    delay_seconds: float = Field(3600, ge=0)
    channels: dict[str, ChannelSurveySettings] = Field(default_factory=dict)
    expire_hours: float = Field(72, gt=0)
    follow_ups: bool = True
    reminder_after_hours: float = Field(48, gt=0)
    auto_solve_after_hours: float = Field(72, gt=0)
    secret: SecretStr | None = None

    def delay(self, channel: str) -> timedelta:
        """How long after a ticket is solved its survey is sent on ``channel``."""
        override = self.channels.get(channel)
        seconds = override.delay_seconds if override and override.delay_seconds is not None else None
        return timedelta(seconds=self.delay_seconds if seconds is None else seconds)

    @property
    def expires_after(self) -> timedelta:
        """How long a sent survey can be answered."""
        return timedelta(hours=self.expire_hours)

    @property
    def reminder_after(self) -> timedelta:
        """How long a ticket waits on the customer before they are reminded."""
        return timedelta(hours=self.reminder_after_hours)

    @property
    def auto_solve_after(self) -> timedelta:
        """How long after the reminder a ticket still waiting on the customer is solved."""
        return timedelta(hours=self.auto_solve_after_hours)


def load_survey_settings(section: Mapping[str, Any]) -> SurveySettings:
    """Validate ``settings.section("surveys")``.

    Raises:
        SettingsError: A value is invalid; the message names the setting and its variable.

    """
    try:
        return SurveySettings.model_validate(dict(section))
    except ValidationError as exc:
        problems = "; ".join(
            f"surveys.{'.'.join(str(p) for p in e['loc'])} "
            f"(HELPLINE_SURVEYS__{'__'.join(str(p).upper() for p in e['loc'])}): {e['msg']}"
            for e in exc.errors()
        )
        raise SettingsError(f"invalid survey settings: {problems}") from None


def link_secret(settings: Settings, surveys: SurveySettings) -> bytes:
    """The key that signs survey links: the configured secret, or one kept in the data directory.

    Raises:
        SettingsError: The data directory cannot hold the secret file.

    """
    if surveys.secret is not None and surveys.secret.get_secret_value():
        return surveys.secret.get_secret_value().encode()
    path = Path(settings.data_dir) / SECRET_FILE
    try:
        return _read_or_create(path)
    except OSError as exc:
        raise SettingsError(
            f"cannot keep the survey link secret in {path} ({exc}); set HELPLINE_SURVEYS__SECRET"
        ) from None


def _read_or_create(path: Path) -> bytes:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(secrets.token_hex(32))
        try:
            # A hard link never replaces: two processes starting together keep one secret.
            os.link(draft, path)
            log.info("surveys: HELPLINE_SURVEYS__SECRET is not set; created a link secret in %s", path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    secret = path.read_text(encoding="ascii").strip()
    if not secret:
        raise OSError("the file is empty")
    log.info("surveys: signing links with the secret kept in %s (set HELPLINE_SURVEYS__SECRET)", path)
    return secret.encode()

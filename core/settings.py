"""Settings: defaults from ``config/settings.yaml``, overridden by ``HELPLINE_*`` variables.

``HELPLINE_HTTP__PORT=9000`` sets ``http.port``; ``__`` separates nesting levels. Core
sections are validated here; each channel validates its own section (``telegram``,
``discord``...) with its own model, so core never needs to know a platform's settings.
A bad value fails at start with a message naming the setting and its variable.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from core.logs import hide_secrets

ROOT = Path(__file__).resolve().parents[1]
DEFAULTS_FILE = ROOT / "config" / "settings.yaml"
PREFIX = "HELPLINE_"
# Keys whose values are credentials, in any section (a channel's token, an app's key...).
SECRET_KEY = re.compile(r"(?:^|_)(?:token|secret|password|passphrase|key)$")
HIDDEN = "**********"


class SettingsError(Exception):
    """The configuration is invalid; the message names the setting and how to fix it."""


class Section(BaseModel):
    """Base of every settings section: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        for name, value in super().__repr_args__():
            yield name, redacted(name, value)


class DatabaseSettings(Section):
    """Where conversations are stored."""

    url: str = "sqlite+aiosqlite:///var/helpline.db"
    pool_size: int = Field(20, ge=1, le=200)
    echo: bool = False
    command_timeout_seconds: float = Field(60.0, ge=0)
    """How long a PostgreSQL statement may take before its request fails (0: no limit)."""
    connect_timeout_seconds: float = Field(10.0, gt=0)
    """How long opening a PostgreSQL connection may take before its request fails."""

    @property
    def command_timeout(self) -> float | None:
        """The timeout for :class:`conversations.database.Database` (``None``: no limit)."""
        return self.command_timeout_seconds or None

    def options(self) -> dict[str, Any]:
        """The keyword arguments of :class:`conversations.database.Database` besides the URL."""
        return {
            "pool_size": self.pool_size,
            "echo": self.echo,
            "command_timeout": self.command_timeout,
            "connect_timeout": self.connect_timeout_seconds,
        }


class HttpSettings(Section):
    """The HTTP server (web chat, API, console, webhooks)."""

    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    public_url: str = "http://127.0.0.1:8080"
    max_body_bytes: int = Field(65536, ge=1024)


class BrandSettings(Section):
    """The exchange's name, links and official accounts used in answers."""

    name: str = "Acme Exchange"
    help_center_url: str = "https://help.example.com"
    status_url: str = "https://status.example.com"
    fees_url: str = "https://www.example.com/fees"
    api_docs_url: str = "https://docs.example.com/api"
    app_url: str = "https://www.example.com/download"
    official_handles: tuple[str, ...] = ("@AcmeSupport",)
    link_allow_list: tuple[str, ...] = ("example.com",)


class EngineSettings(Section):
    """The dialogue engine."""

    kind: Literal["faq", "basic"] = "faq"
    default_language: Literal["en", "zh"] = "en"
    knowledge_base: str = "config/knowledge"
    embeddings: bool = True
    tune_encoder: bool = False
    tune_steps: int = Field(200, ge=1, le=100_000)


class PipelineSettings(Section):
    """Admission of inbound messages: turns handled at once, and how many more may wait."""

    max_in_flight: int = Field(256, ge=1)
    max_waiting: int = Field(1000, ge=0)


class WebchatSettings(Section):
    """The built-in web chat."""

    enabled: bool = True
    max_text_chars: int = Field(4000, ge=1)
    max_wait_seconds: float = Field(30, ge=0, le=120)


class DispatcherSettings(Section):
    """Delivery of outbound messages from the outbox."""

    batch_size: int = Field(200, ge=1, le=10000)
    poll_interval_seconds: float = Field(1.0, gt=0)
    lease_seconds: float = Field(60, gt=0)
    max_attempts: int = Field(8, ge=1)
    backoff_base_seconds: float = Field(2.0, ge=0)
    backoff_max_seconds: float = Field(600.0, ge=0)
    send_timeout_seconds: float = Field(30.0, gt=0)
    concurrency: int = Field(32, ge=1)


class RateLimitSettings(Section):
    """Where delivery rate limits are counted."""

    # redis://host:6379/0 makes every dispatcher process share each platform's budget;
    # empty: each process counts its own (enough for one process).
    redis_url: str = ""


class AbuseSettings(Section):
    """Per-customer limits against floods: inbound messages and new tickets (0 or null: off)."""

    # A sender's messages beyond the rate (after a burst) are stored but not answered.
    max_messages_per_minute: float | None = Field(20, ge=0)
    message_burst: int = Field(10, ge=1)
    # At most one "you are sending too fast" notice per sender in this many seconds.
    throttle_notice_seconds: float = Field(60, gt=0)
    # Tickets one contact may open in 24 hours; beyond, requests join their latest open ticket.
    max_tickets_per_day: int | None = Field(5, ge=0)


class LoggingSettings(Section):
    """Log level and format."""

    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    json_format: bool = Field(False, alias="json")


class FaultSettings(Section):
    """Fault injection for crash tests: kill the process at a named point. Never set in production."""

    kill_at: str | None = None
    kill_after: int = Field(1, ge=1)


class Settings(BaseModel):
    """Every setting Helpline has; channel sections stay raw until their channel reads them."""

    model_config = ConfigDict(extra="allow", frozen=True)

    database: DatabaseSettings = DatabaseSettings()
    http: HttpSettings = HttpSettings()
    brand: BrandSettings = BrandSettings()
    engine: EngineSettings = EngineSettings()
    webchat: WebchatSettings = WebchatSettings()
    pipeline: PipelineSettings = PipelineSettings()
    dispatcher: DispatcherSettings = DispatcherSettings()
    rate_limits: RateLimitSettings = RateLimitSettings()
    abuse: AbuseSettings = AbuseSettings()
    logging: LoggingSettings = LoggingSettings()
    faults: FaultSettings = FaultSettings()
    data_dir: str = "var"

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        # The raw channel sections hold tokens and passwords: repr() and str() hide them.
        for name, value in super().__repr_args__():
            yield name, redacted(name, value)

    def section(self, name: str) -> Mapping[str, Any]:
        """The raw mapping of a channel's section (empty when not configured)."""
        extra = self.model_extra or {}
        value = extra.get(name, {})
        return value if isinstance(value, Mapping) else {}


def load_settings(
    environ: Mapping[str, str] | None = None, defaults_file: Path | None = DEFAULTS_FILE
) -> Settings:
    """Read the defaults file, apply ``HELPLINE_*`` overrides and validate.

    Raises:
        SettingsError: A value is invalid or a file cannot be read; the message names it.

    """
    data = read_yaml_mapping(defaults_file) if defaults_file is not None else {}
    for key, value in sorted((environ if environ is not None else os.environ).items()):
        if key.startswith(PREFIX) and len(key) > len(PREFIX):
            _assign(data, key[len(PREFIX) :].lower().split("__"), _parse_env_value(value))
    # Before validation, so even the credentials of a configuration that fails never reach a log.
    hide_secrets(secret_values(data))
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        raise SettingsError(_explain(exc)) from None


def secret_values(data: Mapping[str, Any]) -> set[str]:
    """Every credential in a settings tree: values of secret keys and passwords inside URLs."""
    found: set[str] = set()
    for key, value in data.items():
        if isinstance(value, Mapping):
            found |= secret_values(value)
        elif isinstance(value, str | int) and not isinstance(value, bool):
            text = str(value)
            if SECRET_KEY.search(str(key)) and text:
                found.add(text)
            password = _url_password(text)
            if password:
                found |= {password, unquote(password)}
    return found


def redacted(name: str | None, value: Any) -> Any:
    """``value`` as shown by repr(): secret keys hidden, URL passwords hidden, mappings walked."""
    if isinstance(value, Mapping):
        return {k: redacted(str(k), v) for k, v in value.items()}
    if name is not None and SECRET_KEY.search(name) and value:
        return HIDDEN
    if isinstance(value, str) and (password := _url_password(value)):
        return value.replace(f":{password}@", f":{HIDDEN}@", 1)
    return value


def _url_password(value: str) -> str | None:
    """The password of a ``scheme://user:password@host`` URL, as written (still URL-encoded)."""
    if "://" not in value or "@" not in value:
        return None
    try:
        userinfo = urlsplit(value).netloc.rpartition("@")[0]
    except ValueError:  # not a URL after all ("[" without its "]")
        return None
    _user, colon, password = userinfo.partition(":")
    return password if colon and password else None


def read_yaml_mapping(path: Path) -> dict[str, Any]:
    """The mapping in a YAML configuration file (empty when the file does not exist).

    Raises:
        SettingsError: The file is not valid YAML or not a mapping.

    """
    if not path.exists():
        return {}
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise SettingsError(f"{path} is not valid YAML: {exc}") from exc
    if not isinstance(loaded, dict):
        raise SettingsError(f"{path} must be a mapping of sections")
    return loaded


def _assign(target: dict[str, Any], path: list[str], value: Any) -> None:
    for part in path[:-1]:
        child = target.get(part)
        if not isinstance(child, dict):
            child = {}
            target[part] = child
        target = child
    target[path[-1]] = value


def _parse_env_value(raw: str) -> Any:
    # Scalars stay strings (pydantic coerces "8080" or "true" to the field's type, and a
    # secret such as "0123" keeps its leading zero); only lists and mappings are parsed.
    if raw.lstrip().startswith(("[", "{")):
        try:
            return yaml.safe_load(raw)
        except yaml.YAMLError:
            return raw
    return raw


def _explain(exc: ValidationError) -> str:
    lines = ["invalid configuration:"]
    for error in exc.errors():
        dotted = ".".join(str(part) for part in error["loc"])
        env = PREFIX + "__".join(str(part).upper() for part in error["loc"])
        lines.append(f"  {dotted} ({env}): {error['msg']}")
    lines.append(f"Fix the value in the environment or in {DEFAULTS_FILE.relative_to(ROOT)}.")
    return "\n".join(lines)

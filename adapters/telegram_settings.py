"""The ``telegram`` settings section, validated (every key can be set as ``HELPLINE_TELEGRAM__<KEY>``)."""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

# Telegram accepts 1-256 characters A-Z, a-z, 0-9, _ and - as a webhook secret token.
SECRET_CHARACTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
# What the Bot API lets a bot download (getFile); larger files cannot be fetched later.
BOT_API_DOWNLOAD_LIMIT = 20 * 1024 * 1024


class TelegramSettings(BaseModel):
    """The Telegram channel's settings.

    Attributes:
        token: The bot token from BotFather (environment only: ``HELPLINE_TELEGRAM__TOKEN``).
        mode: ``polling`` (Helpline asks Telegram for updates) or ``webhook`` (Telegram
            posts them to :attr:`webhook_url`, served by Helpline's HTTP server).
        webhook_url: The public HTTPS address Telegram posts to; its path is served.
        webhook_secret: Sent back by Telegram in ``X-Telegram-Bot-Api-Secret-Token``.
        api_base_url: The Bot API, as python-telegram-bot's ``base_url`` (a local Bot API
            server is a real deployment option).
        file_base_url: Where files are fetched from (``base_file_url``).
        poll_timeout_seconds: How long one long-polling request waits for updates.
        request_timeout_seconds: Connect/read/write timeout of every other Bot API call.
        max_attachment_bytes: Photos and documents above this are not taken.
        staff_chat_id: A Telegram group where new tickets are posted and agents answer them.
        staff_agents: Telegram user id → agent e-mail address: who may act in the staff group.
        staff_poll_seconds: How often the staff group is told about new tickets.
        max_webhook_body_bytes: Larger webhook bodies get 413.
        global_per_second: Messages per second across all chats (Telegram allows about 30).
        chat_per_second: Messages per second in one private chat.
        group_per_minute: Messages per minute in one group (Telegram allows about 20).
        max_pacing_wait_seconds: A send that would wait longer is handed back to the outbox
            to retry later, instead of holding the dispatcher.

    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    token: str = Field("", repr=False)
    mode: Literal["polling", "webhook"] = "polling"
    webhook_url: str = ""
    webhook_secret: str = Field("", repr=False)
    api_base_url: str = "https://api.telegram.org/bot"
    file_base_url: str = "https://api.telegram.org/file/bot"
    poll_timeout_seconds: int = Field(30, ge=0, le=60)
    request_timeout_seconds: float = Field(10.0, gt=0)
    max_attachment_bytes: int = Field(BOT_API_DOWNLOAD_LIMIT, ge=1)
    staff_chat_id: int | None = None
    staff_agents: dict[str, str] = Field(default_factory=dict)
    staff_poll_seconds: float = Field(5.0, gt=0)
    max_webhook_body_bytes: int = Field(1024 * 1024, ge=1024)
    global_per_second: float = Field(30.0, gt=0)
    chat_per_second: float = Field(1.0, gt=0)
    group_per_minute: float = Field(20.0, gt=0)
    max_pacing_wait_seconds: float = Field(5.0, ge=0)

    @field_validator("webhook_secret")
    @classmethod
    def _secret_shape(cls, value: str) -> str:
        if value and not _matches_secret(value):
            raise ValueError("use 1-256 characters from A-Z, a-z, 0-9, _ and - (Telegram's rule)")
        return value

    @field_validator("webhook_url")
    @classmethod
    def _url_shape(cls, value: str) -> str:
        if value and urlsplit(value).scheme not in ("http", "https"):
            raise ValueError("give an absolute https:// URL")
        return value

    @property
    def webhook_path(self) -> str:
        """The path of :attr:`webhook_url`, served by Helpline's HTTP server."""
        return urlsplit(self.webhook_url).path or "/"

    def missing(self) -> str | None:
        """Why the channel cannot run with these settings, or ``None``."""
        if not self.token:
            return "not configured (set HELPLINE_TELEGRAM__TOKEN)"
        if self.mode == "webhook" and not (self.webhook_url and self.webhook_secret):
            return (
                "webhook mode is not configured (set HELPLINE_TELEGRAM__WEBHOOK_URL and "
                "HELPLINE_TELEGRAM__WEBHOOK_SECRET, or HELPLINE_TELEGRAM__MODE=polling)"
            )
        return None


def _matches_secret(value: str) -> bool:
    return 1 <= len(value) <= 256 and set(value) <= SECRET_CHARACTERS

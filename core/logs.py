"""Logging set-up: readable lines for people, JSON lines for log collectors."""

from __future__ import annotations

import contextlib
import logging
import re
import sys
import threading
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, quote_plus

import orjson

# The conversation the current task works on: every log line it writes carries the id.
current_conversation: ContextVar[int | None] = ContextVar("current_conversation", default=None)


@contextlib.contextmanager
def conversation_context(conversation_id: int | None) -> Iterator[None]:
    """Tag every log line written inside the block with ``conversation_id``."""
    token = current_conversation.set(conversation_id)
    try:
        yield
    finally:
        current_conversation.reset(token)


# Shorter values are not masked: blanking every "1" or "test" in every line would ruin the logs,
# and a credential that short is no secret anyway.
MIN_SECRET_CHARS = 6
MASK = "***"


class SecretMask:
    """Replaces known secret values (tokens, passwords) in text with ``***``.

    Libraries log what they send: python-telegram-bot's base URL and httpx's request lines
    carry the bot token, tweepy's debug lines the OAuth header. Masking the finished line at
    the handler catches every such path, including exception text. Each secret is matched as
    written, URL-encoded and JSON-escaped (the forms it takes in URLs and JSON log lines).
    """

    def __init__(self) -> None:
        self._values: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self._lock = threading.Lock()

    def add(self, values: Iterable[str]) -> None:
        """Mask ``values`` from now on (empty and short ones are ignored)."""
        wanted = {v for v in values if len(v) >= MIN_SECRET_CHARS}
        with self._lock:
            if wanted <= self._values:
                return
            self._values |= wanted
            forms = {
                form
                for value in self._values
                for form in (
                    value,
                    quote(value, safe=""),
                    quote_plus(value),
                    orjson.dumps(value).decode()[1:-1],
                )
            }
            # Longest first, so a secret that contains another is masked whole.
            self._pattern = re.compile("|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True)))

    def __call__(self, text: str) -> str:
        """``text`` with every known secret replaced by ``***``."""
        pattern = self._pattern
        return text if pattern is None else pattern.sub(MASK, text)


# One per process: the settings loader registers every credential it reads (core.settings).
secret_mask = SecretMask()


def hide_secrets(values: Iterable[str]) -> None:
    """Never let ``values`` reach a log line written through :func:`configure_logging`'s handler."""
    secret_mask.add(values)


class ConversationFilter(logging.Filter):
    """Adds ``conversation_id`` to records written while a conversation is in hand."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Tag the record; never drops it."""
        if not hasattr(record, "conversation_id"):
            conversation_id = current_conversation.get()
            if conversation_id is not None:
                record.conversation_id = conversation_id
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line, with any ``extra`` context (e.g. ``conversation_id``)."""

    _STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        """Render the record as JSON."""
        data = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in self._STANDARD:
                data[key] = value
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(data, default=str).decode()


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at the time of each record, not at set-up.

    A handler bound to the stream of its day keeps writing to it after it is replaced (a
    test's captured stderr, a daemon's redirected one) and fails on a closed file.
    """

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self) -> Any:
        """The current standard error."""
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass  # always the current sys.stderr

    def format(self, record: logging.LogRecord) -> str:
        """The formatted line (message, extras and traceback) with known secrets masked."""
        return secret_mask(super().format(record))


def configure_logging(level: str = "INFO", json_format: bool = False) -> None:
    """Send logs to stderr at ``level``, as text or JSON lines."""
    handler = _StderrHandler()
    handler.addFilter(ConversationFilter())
    if json_format:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)

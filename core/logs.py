"""Logging set-up: readable lines for people, JSON lines for log collectors."""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

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

"""Small helpers every HTTP-facing channel shares: bounded bodies and JSON errors."""

from __future__ import annotations

from typing import Any, TypeVar

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from starlette.requests import Request
from starlette.responses import Response

M = TypeVar("M", bound=BaseModel)
# How long a client should wait before sending again what the store could not take.
RETRY_AFTER_SECONDS = 2
# Identifiers are stored and sent back as they are: control characters (NUL among them,
# which PostgreSQL refuses in text) have no place in them.
ID_PATTERN = r"^[^\x00-\x1f\x7f]+$"
# The external id of a message, "<thread>:<message id>", is kept in a 255-character column.
MAX_EXTERNAL_ID = 255


def check_external_id(thread: str, message_id: str, names: str) -> None:
    """Refuse a thread and message id whose combined external id the store cannot keep.

    Raises:
        ValueError: Naming the two fields (``names``) and the limit.

    """
    if len(thread) + 1 + len(message_id) > MAX_EXTERNAL_ID:
        raise ValueError(f"{names} together are limited to {MAX_EXTERNAL_ID - 1} characters")


class MessageBody(BaseModel):
    """Fields every inbound message body has: a text, or the action of a pressed button."""

    model_config = ConfigDict(extra="forbid")

    text: str | None = None
    action: str | None = Field(default=None, min_length=1, max_length=255, pattern=ID_PATTERN)

    @model_validator(mode="after")
    def _text_or_action(self) -> MessageBody:
        if (self.text is None) == (self.action is None):
            raise ValueError("give exactly one of 'text' or 'action'")
        return self


def parse_message(body: bytes, model: type[M], max_text_chars: int) -> M | Response:
    """Validate a JSON message body, or return the 4xx error response that says what is wrong."""
    try:
        post = model.model_validate(orjson.loads(body))
    except orjson.JSONDecodeError:
        return error(400, "invalid_json", "the body is not valid JSON")
    except ValidationError as exc:
        return error(422, "invalid_request", validation_message(exc))
    text = getattr(post, "text", None)
    if isinstance(text, str) and len(text) > max_text_chars:
        return error(413, "text_too_long", f"text is limited to {max_text_chars} characters")
    return post


async def read_limited(request: Request, limit: int) -> bytes | None:
    """Read the body, or ``None`` as soon as it exceeds ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def json_response(status: int, content: Any) -> Response:
    """A JSON response serialised with orjson."""
    return Response(orjson.dumps(content), status_code=status, media_type="application/json")


def error(status: int, code: str, message: str) -> Response:
    """A JSON error body: ``{"error": {"code", "message"}}``."""
    return json_response(status, {"error": {"code": code, "message": message}})


def unavailable(message: str) -> Response:
    """``503 unavailable`` with ``Retry-After``: nothing was stored, the client should send it again."""
    response = error(503, "unavailable", message)
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def validation_message(exc: ValidationError) -> str:
    """One line naming each invalid field and what is wrong with it."""
    parts = []
    for item in exc.errors():
        where = ".".join(str(p) for p in item["loc"]) or "body"
        parts.append(f"{where}: {item['msg']}")
    return "; ".join(parts)

"""Small helpers every HTTP-facing channel shares: bounded bodies and JSON errors."""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response


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


def validation_message(exc: ValidationError) -> str:
    """One line naming each invalid field and what is wrong with it."""
    parts = []
    for item in exc.errors():
        where = ".".join(str(p) for p in item["loc"]) or "body"
        parts.append(f"{where}: {item['msg']}")
    return "; ".join(parts)

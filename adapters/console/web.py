"""HTTP plumbing of the console: templates (always autoescaped), form bodies, redirects."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import jinja2
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.templating import Jinja2Templates

from adapters.http_helpers import read_limited

PREFIX = "/console"
TEMPLATES = Path(__file__).with_name("templates")
STATIC = Path(__file__).with_name("static")
FORM_TYPE = "application/x-www-form-urlencoded"
MAX_FIELDS = 100


def make_templates() -> Jinja2Templates:
    """The console's templates: every ``{{ value }}`` is HTML-escaped, undefined names are errors."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = when
    env.filters["duration"] = duration
    env.globals["prefix"] = PREFIX
    return Jinja2Templates(env=env)


def when(value: datetime | None) -> str:
    """A UTC timestamp to the minute, or a dash."""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if value is not None else "–"


def duration(seconds: float | None) -> str:
    """``95`` → ``"1m"``, ``7200`` → ``"2h 0m"``; a dash when unknown."""
    if seconds is None:
        return "–"
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes}m"
    if minutes < 48 * 60:
        return f"{minutes // 60}h {minutes % 60}m"
    return f"{minutes // 1440}d {minutes % 1440 // 60}h"


async def read_form(request: Request, limit: int) -> dict[str, str] | None:
    """The fields of a URL-encoded form body (the last value of a repeated field wins).

    Returns:
        The fields; empty when the body is not a form; ``None`` when it is too large or malformed.

    """
    body = await read_limited(request, limit)
    if body is None:
        return None
    kind = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if kind != FORM_TYPE:
        return {}
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_FIELDS)
    except (UnicodeDecodeError, ValueError):
        return None
    return dict(pairs)


def redirect(path: str, query: Mapping[str, str] | None = None) -> Response:
    """A 303 to a console path (after a POST the browser follows with a GET)."""
    target = PREFIX + path
    if query:
        target += "?" + urlencode(query)
    return RedirectResponse(target, status_code=303)


def safe_next(value: str | None) -> str:
    """Where to go after signing in: a console path, never another site."""
    if value and value.startswith(PREFIX + "/") and not value.startswith("//") and "\\" not in value:
        return value
    return PREFIX + "/"


def page(
    templates: Jinja2Templates, request: Request, name: str, context: dict[str, Any], status: int = 200
) -> Response:
    """Render a template."""
    return templates.TemplateResponse(request, name, context, status_code=status)

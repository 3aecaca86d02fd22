"""The inbox: every conversation with its ticket, filtered and searched, refreshed while open."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from adapters.console.auth import Form, Viewer, guarded
from adapters.console.context import Console
from conversations import agent_accounts as accounts
from conversations import console_queries as cq
from core.tickets.config import PRIORITIES
from core.tickets.transitions import ACTIVE, STATUSES

STATUS_CHOICES = ("active", *STATUSES, "bot", "human")
SURFACES = ("public", "private")
MAX_SEARCH = 200
MAX_ID = 2**31 - 1


def routes(console: Console) -> list[BaseRoute]:
    """``/inbox`` (the page) and ``/inbox/rows`` (its table body, polled for live refresh)."""

    async def inbox(request: Request, viewer: Viewer, form: Form) -> Response:
        context = await _rows_context(console, request.query_params, viewer)
        async with console.db.reader() as session:
            choices = await cq.filter_choices(session)
            agents = await accounts.agents(session, active_only=True)
        context.update(
            choices=choices,
            agents=agents,
            statuses=STATUS_CHOICES,
            priorities=PRIORITIES,
            surfaces=SURFACES,
        )
        return console.render(request, "inbox.html", context)

    async def rows(request: Request, viewer: Viewer, form: Form) -> Response:
        return console.render(
            request, "_inbox_rows.html", await _rows_context(console, request.query_params, viewer)
        )

    return [
        Route("/inbox", guarded(console, "read", inbox), methods=["GET"]),
        Route("/inbox/rows", guarded(console, "read", rows), methods=["GET"]),
    ]


async def _rows_context(console: Console, params: Mapping[str, str], viewer: Viewer) -> dict[str, Any]:
    wanted, chosen = parse_filter(params, viewer, console)
    async with console.db.reader() as session:
        found = await cq.inbox(session, wanted, viewer.id)
    query = urlencode({k: v for k, v in chosen.items() if v})
    return {
        "viewer": viewer,
        "rows": found,
        "now": console.clock(),
        "active": ACTIVE,
        "chosen": chosen,
        "query": query,
        "format_number": console.tickets.ticket_label,
    }


def parse_filter(
    params: Mapping[str, str], viewer: Viewer, console: Console
) -> tuple[cq.InboxFilter, dict[str, str]]:
    """The inbox filter from the query string; unknown values are ignored, not errors.

    Returns:
        The filter and the values kept (to show in the form and to poll with).

    """
    chosen: dict[str, str] = {}

    def pick(name: str, allowed: tuple[str, ...] | None = None, limit: int = 64) -> str | None:
        # Control characters (NUL above all: PostgreSQL refuses it in text) never mean anything here.
        value = "".join(c for c in params.get(name, "") if c.isprintable()).strip()[:limit]
        if not value or (allowed is not None and value not in allowed):
            return None
        chosen[name] = value
        return value

    status = pick("status", STATUS_CHOICES)
    ticket_statuses: tuple[str, ...] = ()
    conversation_status = None
    if status == "active":
        ticket_statuses = ACTIVE
    elif status in ("bot", "human"):
        conversation_status = status
    elif status is not None:
        ticket_statuses = (status,)
    channel = pick("channel", limit=32)
    priority = pick("priority", PRIORITIES)
    assignee = pick("assignee", limit=12)
    assignee_id = None
    if assignee == "me":
        assignee_id = viewer.id
    elif assignee == "none":
        assignee_id = 0
    elif assignee is not None and assignee.isdigit() and 0 < int(assignee) <= MAX_ID:
        assignee_id = int(assignee)
    else:
        chosen.pop("assignee", None)
    search = pick("q", limit=MAX_SEARCH)
    number = console.tickets.parse_ticket_number(search) if search else None
    order = pick("order", ("recent", "sla")) or "recent"
    wanted = cq.InboxFilter(
        channels=(channel,) if channel else (),
        ticket_statuses=ticket_statuses,
        conversation_status=conversation_status,
        priorities=(priority,) if priority else (),
        assignee_id=assignee_id,
        language=pick("language", limit=8),
        category=pick("category", limit=64),
        surface=pick("surface", SURFACES),
        search=search,
        ticket_number=number if number is not None and 0 < number <= MAX_ID else None,
        order=order,
    )
    return wanted, chosen

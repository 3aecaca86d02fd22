"""The conversation page: the customer's whole transcript, their details, the ticket and its trail."""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from adapters.console.auth import Form, Viewer, guarded, refuse
from adapters.console.context import Console
from conversations import agent_accounts as accounts
from conversations import console_queries as cq
from conversations import console_transcripts as transcripts
from core.tickets.config import PRIORITIES
from core.tickets.transitions import ACTIVE, ALLOWED, STATUSES

# Facts the ticket service keeps in ``details`` that are shown elsewhere on the page.
BOOKKEEPING = frozenset({"priority_reasons", "merged_into", "merged_from"})


def routes(console: Console) -> list[BaseRoute]:
    """``/conversations/{id}`` and its transcript fragment (polled for live refresh)."""

    async def view(request: Request, viewer: Viewer, form: Form) -> Response:
        conversation_id = int(request.path_params["conversation_id"])
        return await render_conversation(console, request, viewer, conversation_id)

    async def transcript(request: Request, viewer: Viewer, form: Form) -> Response:
        conversation_id = int(request.path_params["conversation_id"])
        context = await conversation_context(console, viewer, conversation_id)
        if context is None:
            return refuse(console, request, viewer, "No such conversation.", 404)
        return console.render(request, "_transcript.html", context)

    return [
        Route("/conversations/{conversation_id:int}", guarded(console, "read", view), methods=["GET"]),
        Route(
            "/conversations/{conversation_id:int}/transcript",
            guarded(console, "read", transcript),
            methods=["GET"],
        ),
    ]


async def render_conversation(
    console: Console,
    request: Request,
    viewer: Viewer,
    conversation_id: int,
    *,
    error: str | None = None,
    status: int = 200,
    draft: str = "",
) -> Response:
    """The whole page, optionally with an error from an action and the reply that was not sent."""
    context = await conversation_context(console, viewer, conversation_id)
    if context is None:
        return refuse(console, request, viewer, "No such conversation.", 404)
    # The first call reads the knowledge base from disk: off the event loop.
    canned = await asyncio.to_thread(console.canned.for_language, context["language"])
    chosen = request.query_params.get("canned")
    if not draft and chosen:
        draft = next((c.text for c in canned if c.id == chosen), "")
    context.update(
        error=error,
        draft=draft,
        canned=canned,
        priorities=PRIORITIES,
        statuses=STATUSES,
        allowed=ALLOWED,
    )
    return console.render(request, "conversation.html", context, status)


async def conversation_context(
    console: Console, viewer: Viewer, conversation_id: int
) -> dict[str, Any] | None:
    """Everything the page shows; marks what the agent now sees as read."""
    async with console.db.reader() as session:
        conversation = await transcripts.conversation_row(session, conversation_id)
        if conversation is None:
            return None
        contact, identities = await transcripts.contact_of(session, conversation.contact_id)
        conversations = await transcripts.conversations_of(session, conversation.contact_id)
        number = (
            await transcripts.ticket_number(session, conversation.ticket_id)
            if conversation.ticket_id
            else None
        )
        agents = await accounts.agents(session, active_only=True)
    detail = await console.tickets.get(number) if number is not None else None
    ids = {c.id for c in conversations}
    if detail is not None:
        ids |= {entry.conversation_id for entry in detail.transcript}
    async with console.db.reader() as session:
        lines = await transcripts.transcript(session, ids)
        marks = await cq.unread_marks(session, viewer.id, ids, console.clock())
    if marks:
        async with console.db.transaction() as session:
            await cq.record_reads(session, marks)
    others = await console.tickets.list(contact_id=conversation.contact_id, limit=20)
    ticket = detail.ticket if detail is not None else None
    return {
        "viewer": viewer,
        "conversation": conversation,
        "conversations": {c.id: c for c in conversations},
        "contact": contact,
        "identities": identities,
        "ticket": ticket,
        "events": detail.events if detail is not None else (),
        "facts": {k: v for k, v in (ticket.details if ticket else {}).items() if k not in BOOKKEEPING},
        "slots": dict(conversation.slots or {}),
        "other_tickets": [t for t in others if ticket is None or t.id != ticket.id],
        "lines": lines,
        "agents": agents,
        "active": ACTIVE,
        "now": console.clock(),
        "language": conversation.language or (contact.language if contact else None) or "en",
        "version": max((line.id for line in lines), default=0),
    }

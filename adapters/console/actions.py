"""What an agent does from the conversation page, each through the ticket service.

Replying or noting on a conversation without a workable ticket opens one first (the
subject is the customer's latest message), so every reply goes out through
``TicketService.reply``: stored with its outbox entry in the ticket's transaction and
delivered on the customer's own channel by the dispatcher.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from adapters.console.auth import Form, Viewer, guarded
from adapters.console.context import Console
from adapters.console.conversation import render_conversation
from adapters.console.web import redirect
from conversations import console_transcripts as transcripts
from core.tickets import (
    ConversationNotFound,
    InvalidTicketInput,
    InvalidTransition,
    TicketError,
    TicketNotFound,
    UnknownAgent,
)
from core.tickets.transitions import CLOSED

log = logging.getLogger(__name__)
SUBJECT_CHARS = 120
MAX_TEXT = 10_000

Action = Callable[[Console, Viewer, int, Form], Awaitable[None]]


async def _current_ticket(
    console: Console, conversation_id: int, *, open_if_missing: bool, viewer: Viewer
) -> int:
    """The number of the conversation's ticket; with ``open_if_missing``, a new one if it has none or it is closed."""
    async with console.db.reader() as session:
        conversation = await transcripts.conversation_row(session, conversation_id)
        if conversation is None:
            raise ConversationNotFound(f"no conversation {conversation_id}")
        state = (
            await transcripts.ticket_state(session, conversation.ticket_id)
            if conversation.ticket_id
            else None
        )
        subject = await transcripts.last_customer_text(session, conversation_id)
    if state is not None and (not open_if_missing or state[1] != CLOSED):
        return state[0]
    if not open_if_missing:
        raise TicketNotFound("this conversation has no ticket yet: open one first")
    title = " ".join((subject or "").split())[:SUBJECT_CHARS] or f"{conversation.channel} conversation"
    view = await console.tickets.open(conversation_id, title, None, actor=viewer.email)
    parsed = console.tickets.parse_ticket_number(view.number)
    assert parsed is not None
    return parsed


def _text(form: Form, name: str = "text") -> str:
    text = form.get(name, "")
    if len(text) > MAX_TEXT:
        raise InvalidTicketInput(f"the text is longer than {MAX_TEXT} characters")
    return text


def _written(form: Form, what: str) -> str:
    """The form's ``text``, which must not be blank (``what`` names it in the error)."""
    text = _text(form)
    if not text.strip():
        raise InvalidTicketInput(f"the {what} is empty")
    return text


async def reply(console: Console, viewer: Viewer, conversation_id: int, form: Form) -> None:
    """Send a reply to the customer (opening a ticket if needed)."""
    text = _written(form, "reply")
    number = await _current_ticket(console, conversation_id, open_if_missing=True, viewer=viewer)
    await console.tickets.reply(number, viewer.id, text)


async def note(console: Console, viewer: Viewer, conversation_id: int, form: Form) -> None:
    """Add an internal note (opening a ticket if needed)."""
    text = _written(form, "note")
    number = await _current_ticket(console, conversation_id, open_if_missing=True, viewer=viewer)
    await console.tickets.note(number, viewer.id, text)


async def open_ticket(console: Console, viewer: Viewer, conversation_id: int, form: Form) -> None:
    """Open a ticket with the subject, category and priority given."""
    priority = form.get("priority") or None
    category = form.get("category", "").strip()[:64] or None
    await console.tickets.open(
        conversation_id, form.get("subject", ""), category, priority, actor=viewer.email
    )


async def take(console: Console, viewer: Viewer, conversation_id: int, form: Form) -> None:
    """Take the ticket."""
    number = await _current_ticket(console, conversation_id, open_if_missing=False, viewer=viewer)
    await console.tickets.take(number, viewer.id)


async def assign(console: Console, viewer: Viewer, conversation_id: int, form: Form) -> None:
    """Give the ticket to an agent."""
    agent = form.get("agent_id", "")
    if not agent.isdigit() or int(agent) >= 2**31:
        raise UnknownAgent("choose an agent")
    number = await _current_ticket(console, conversation_id, open_if_missing=False, viewer=viewer)
    await console.tickets.assign(number, int(agent), actor=viewer.email)


async def priority(console: Console, viewer: Viewer, conversation_id: int, form: Form) -> None:
    """Change the ticket's priority."""
    number = await _current_ticket(console, conversation_id, open_if_missing=False, viewer=viewer)
    await console.tickets.set_priority(number, form.get("priority", ""), actor=viewer.email)


async def status(console: Console, viewer: Viewer, conversation_id: int, form: Form) -> None:
    """Move the ticket to another status."""
    number = await _current_ticket(console, conversation_id, open_if_missing=False, viewer=viewer)
    await console.tickets.set_status(number, form.get("status", ""), actor=viewer.email)


async def solve(console: Console, viewer: Viewer, conversation_id: int, form: Form) -> None:
    """Solve the ticket: the bot answers the customer again."""
    number = await _current_ticket(console, conversation_id, open_if_missing=False, viewer=viewer)
    await console.tickets.solve(number, actor=viewer.email)


async def reopen(console: Console, viewer: Viewer, conversation_id: int, form: Form) -> None:
    """Reopen the solved ticket."""
    number = await _current_ticket(console, conversation_id, open_if_missing=False, viewer=viewer)
    await console.tickets.reopen(number, actor=viewer.email)


async def merge(console: Console, viewer: Viewer, conversation_id: int, form: Form) -> None:
    """Merge the ticket into another (``target``: its number)."""
    number = await _current_ticket(console, conversation_id, open_if_missing=False, viewer=viewer)
    await console.tickets.merge(number, form.get("target", "").strip()[:32], actor=viewer.email)


ACTIONS: dict[str, Action] = {
    "reply": reply,
    "note": note,
    "open": open_ticket,
    "take": take,
    "assign": assign,
    "priority": priority,
    "status": status,
    "solve": solve,
    "reopen": reopen,
    "merge": merge,
}


def _status_of(error: TicketError) -> int:
    if isinstance(error, TicketNotFound | ConversationNotFound):
        return 404
    if isinstance(error, InvalidTransition):
        return 409
    return 422


def routes(console: Console) -> list[BaseRoute]:
    """``POST /conversations/{id}/<action>`` for every action in :data:`ACTIONS`."""

    def endpoint(name: str, action: Action) -> Callable[[Request, Viewer, Form], Awaitable[Response]]:
        async def handle(request: Request, viewer: Viewer, form: Form) -> Response:
            conversation_id = int(request.path_params["conversation_id"])
            try:
                await action(console, viewer, conversation_id, form)
            except TicketError as exc:
                draft = form.get("text", "") if name == "reply" else ""
                return await render_conversation(
                    console,
                    request,
                    viewer,
                    conversation_id,
                    error=str(exc),
                    status=_status_of(exc),
                    draft=draft,
                )
            log.info("console: %s did %s on conversation %s", viewer.email, name, conversation_id)
            return redirect(f"/conversations/{conversation_id}")

        return handle

    return [
        Route(
            f"/conversations/{{conversation_id:int}}/{name}",
            guarded(console, "work", endpoint(name, action)),
            methods=["POST"],
        )
        for name, action in ACTIONS.items()
    ]

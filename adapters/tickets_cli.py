"""``helpline tickets``: the ticket queue from a terminal.

``helpline tickets list [--json] [--status S]``   the queue, earliest response target first
``helpline tickets show NUMBER [--json]``         a ticket, its audit trail and its transcript
``helpline tickets reply NUMBER TEXT [--agent EMAIL]``  reply to the customer on their channel
``helpline tickets solve NUMBER``                 solve it; the bot answers the customer again

Replies are queued in the outbox; a running ``helpline run`` delivers them.
"""

from __future__ import annotations

import argparse
import sys
import unicodedata
from collections.abc import Awaitable, Callable, Coroutine
from datetime import datetime
from typing import Any, TextIO

import orjson

from conversations.database import Database
from core.pipeline import utcnow
from core.settings import Settings
from core.surveys.wiring import follow_up_scheduler
from core.tickets import TicketError, TicketService, TicketView, load_ticket_settings
from core.tickets.transitions import STATUSES

RunAsync = Callable[[Coroutine[Any, Any, None]], None]
Command = Callable[[TicketService, argparse.Namespace, TextIO], Awaitable[int]]
Handler = Callable[[Settings, argparse.Namespace], int]
OPERATOR = "operator@localhost"


def add_ticket_commands(subparsers: argparse._SubParsersAction[Any], run_async: RunAsync) -> None:
    """Add ``tickets list|show|reply|solve`` to the ``helpline`` parser.

    Args:
        subparsers: The ``helpline`` command's sub-command group.
        run_async: Runs a coroutine to completion (``asyncio.run`` or uvloop's).

    """
    tickets = subparsers.add_parser("tickets", help="support tickets")
    actions = tickets.add_subparsers(title="tickets commands", metavar="ACTION", required=True)

    listing = actions.add_parser("list", help="list tickets, earliest response target first")
    listing.add_argument(
        "--status", choices=[*STATUSES, "active"], help="only this status (active: not solved)"
    )
    listing.add_argument("--json", action="store_true", help="print one JSON array")
    listing.set_defaults(handler=handler(list_command, run_async))

    show = actions.add_parser("show", help="a ticket with its events and transcript")
    show.add_argument("number", help="e.g. HL-1001")
    show.add_argument("--json", action="store_true", help="print one JSON object")
    show.set_defaults(handler=handler(show_command, run_async))

    reply = actions.add_parser("reply", help="reply to the customer on their channel")
    reply.add_argument("number", help="e.g. HL-1001")
    reply.add_argument("text", help="the reply")
    reply.add_argument("--agent", metavar="EMAIL", help=f"reply as this agent (default: {OPERATOR})")
    reply.set_defaults(handler=handler(reply_command, run_async))

    solve = actions.add_parser("solve", help="mark a ticket solved; the bot answers the customer again")
    solve.add_argument("number", help="e.g. HL-1001")
    solve.set_defaults(handler=handler(solve_command, run_async))


def handler(
    command: Command, run_async: RunAsync, out: TextIO | None = None, err: TextIO | None = None
) -> Handler:
    """Bind a command to the configured database: the ``handler`` the ``helpline`` command calls."""

    def handle(settings: Settings, args: argparse.Namespace) -> int:
        status: list[int] = []

        async def go() -> None:
            db = Database(settings.database.url, **settings.database.options())
            try:
                service = TicketService(
                    db,
                    load_ticket_settings(settings.section("tickets")),
                    # Solving here owes the customer a survey, like solving in the console.
                    follow_ups=follow_up_scheduler(settings),
                )
                status.append(await command(service, args, out or sys.stdout))
            except TicketError as exc:
                print(f"helpline: {exc}", file=err or sys.stderr)
                status.append(1)
            finally:
                await db.dispose()

        run_async(go())
        return status[0] if status else 1

    return handle


async def list_command(service: TicketService, args: argparse.Namespace, out: TextIO) -> int:
    """Print the tickets (``args.status``, ``args.json``)."""
    tickets = await service.list(args.status)
    if args.json:
        out.write(orjson.dumps([t.as_json() for t in tickets]).decode() + "\n")
        return 0
    if not tickets:
        out.write("no tickets\n")
        return 0
    now = utcnow()
    rows = [["NUMBER", "STATUS", "PRIORITY", "RESPONSE", "ASSIGNEE", "SUBJECT"]]
    rows += [
        [t.number, t.status, t.priority, response_due(t, now), t.assignee or "-", clip(t.subject, 60)]
        for t in tickets
    ]
    widths = [max(width(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        cells = [cell + " " * (widths[i] - width(cell)) for i, cell in enumerate(row)]
        out.write("  ".join(cells).rstrip() + "\n")
    return 0


async def show_command(service: TicketService, args: argparse.Namespace, out: TextIO) -> int:
    """Print one ticket with its events and transcript (``args.number``, ``args.json``)."""
    detail = await service.get(args.number)
    t = detail.ticket
    if getattr(args, "json", False):
        data = {
            **t.as_json(),
            "events": [
                {"kind": e.kind, "actor": e.actor, "data": dict(e.data), "at": e.created_at.isoformat()}
                for e in detail.events
            ],
            "transcript": [
                {
                    "message_id": m.message_id,
                    "author": m.author,
                    "direction": m.direction,
                    "internal": m.internal,
                    "text": m.text,
                    "at": m.created_at.isoformat(),
                }
                for m in detail.transcript
            ],
        }
        out.write(orjson.dumps(data).decode() + "\n")
        return 0
    out.write(f"{t.number}  {t.subject}\n")
    out.write(f"status {t.status}, priority {t.priority}, category {t.category or '-'}, ")
    out.write(f"assignee {t.assignee or '-'}, response {response_due(t, utcnow())}\n")
    facts = {k: v for k, v in t.details.items() if k != "priority_reasons"}
    if facts:
        out.write("details: " + ", ".join(f"{k}={v}" for k, v in facts.items()) + "\n")
    out.write("\nevents:\n")
    for e in detail.events:
        extra = ", ".join(f"{k}={v}" for k, v in e.data.items() if v not in (None, [], ""))
        out.write(
            f"  {_time(e.created_at)}  {e.kind:<16} {e.actor}" + (f"  ({extra})" if extra else "") + "\n"
        )
    out.write("\ntranscript:\n")
    for m in detail.transcript:
        who = "internal note" if m.internal else m.author
        out.write(f"  {_time(m.created_at)}  [{who}] {m.text}\n")
    return 0


async def reply_command(service: TicketService, args: argparse.Namespace, out: TextIO) -> int:
    """Reply as ``args.agent`` (an existing agent) or as the operator (``args.number``, ``args.text``)."""
    agent_id = await service.agent_id(args.agent) if args.agent else await service.operator(OPERATOR)
    view = await service.reply(args.number, agent_id, args.text)
    out.write(f"{view.number}: reply queued for the customer (status {view.status})\n")
    return 0


async def solve_command(service: TicketService, args: argparse.Namespace, out: TextIO) -> int:
    """Solve ``args.number`` as the operator."""
    view = await service.solve(args.number, actor=OPERATOR)
    out.write(f"{view.number}: solved; the bot answers the customer again\n")
    return 0


def response_due(ticket: TicketView, now: datetime) -> str:
    """The first-response state in a few characters: ``done``, ``in 3h``, ``late 20m``."""
    if ticket.first_response_at is not None:
        return "done"
    if ticket.sla_due_at is None or ticket.status not in ("new", "open", "pending_customer", "on_hold"):
        return "-"
    seconds = (ticket.sla_due_at - now).total_seconds()
    span = _span(abs(seconds))
    return f"in {span}" if seconds >= 0 else f"late {span}"


def width(text: str) -> int:
    """Columns a string takes in a terminal (CJK characters take two)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def clip(text: str, limit: int) -> str:
    """Cut ``text`` to ``limit`` terminal columns, marking the cut."""
    if width(text) <= limit:
        return text
    kept = ""
    for char in text:
        if width(kept + char) > limit - 1:
            break
        kept += char
    return kept + "…"


def _span(seconds: float) -> str:
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes}m"
    if minutes < 48 * 60:
        return f"{minutes // 60}h"
    return f"{minutes // 1440}d"


def _time(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M")

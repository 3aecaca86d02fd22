"""``helpline mentions``: the social team's mention queue from a terminal.

``helpline mentions list [--json]``                        held public replies, oldest first
``helpline mentions approve ID [--text T] [--agent EMAIL]``  let one out (optionally edited)
``helpline mentions discard ID [--agent EMAIL]``             drop one; it is never posted

An approved reply is posted by a running ``helpline run`` (its dispatcher).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TextIO

import orjson

from conversations.database import Database
from core.mentions import MentionQueue, MentionQueueError
from core.settings import Settings
from core.tickets import TicketError, TicketService, load_ticket_settings

RunAsync = Callable[[Coroutine[Any, Any, None]], None]
Command = Callable[[MentionQueue, TicketService, argparse.Namespace, TextIO], Awaitable[int]]
OPERATOR = "operator@localhost"


def add_mention_commands(subparsers: argparse._SubParsersAction[Any], run_async: RunAsync) -> None:
    """Add ``mentions list|approve|discard`` to the ``helpline`` parser."""
    mentions = subparsers.add_parser("mentions", help="public replies (X) waiting for the social team")
    actions = mentions.add_subparsers(title="mentions commands", metavar="ACTION", required=True)

    listing = actions.add_parser("list", help="held replies, oldest first")
    listing.add_argument("--json", action="store_true", help="print one JSON array")
    listing.set_defaults(handler=handler(list_command, run_async))

    approve = actions.add_parser("approve", help="post a held reply, optionally edited")
    approve.add_argument("id", type=int, help="the draft's id (from `mentions list`)")
    approve.add_argument("--text", help="post this text instead of the draft")
    approve.add_argument("--agent", metavar="EMAIL", help=f"act as this agent (default: {OPERATOR})")
    approve.set_defaults(handler=handler(approve_command, run_async))

    discard = actions.add_parser("discard", help="drop a held reply for good")
    discard.add_argument("id", type=int, help="the draft's id (from `mentions list`)")
    discard.add_argument("--agent", metavar="EMAIL", help=f"act as this agent (default: {OPERATOR})")
    discard.set_defaults(handler=handler(discard_command, run_async))


def handler(command: Command, run_async: RunAsync, out: TextIO | None = None) -> Callable[..., int]:
    """Bind a command to the configured database."""

    def handle(settings: Settings, args: argparse.Namespace) -> int:
        status: list[int] = []

        async def go() -> None:
            db = Database(settings.database.url, **settings.database.options())
            try:
                tickets = TicketService(db, load_ticket_settings(settings.section("tickets")))
                status.append(await command(MentionQueue(db), tickets, args, out or sys.stdout))
            except (MentionQueueError, TicketError) as exc:
                print(f"helpline: {exc}", file=sys.stderr)
                status.append(1)
            finally:
                await db.dispose()

        run_async(go())
        return status[0] if status else 1

    return handle


async def list_command(
    queue: MentionQueue, tickets: TicketService, args: argparse.Namespace, out: TextIO
) -> int:
    """Print the held replies beside the posts they answer."""
    drafts = await queue.drafts(limit=1000)
    if args.json:
        rows = [
            {
                "id": d.outbox_id,
                "channel": d.channel,
                "topic": d.topic,
                "created_at": d.created_at.isoformat(),
                "mention": {"id": d.mention_external_id, "author": d.mention_author, "text": d.mention_text},
                "text": d.text,
            }
            for d in drafts
        ]
        out.write(orjson.dumps(rows).decode() + "\n")
        return 0
    if not drafts:
        out.write("no held replies\n")
        return 0
    for d in drafts:
        out.write(f"#{d.outbox_id}  {d.channel}  {d.created_at:%Y-%m-%d %H:%M}  topic: {d.topic or '-'}\n")
        out.write(f"  {d.mention_author or '?'}: {d.mention_text}\n")
        out.write(f"  reply: {d.text}\n\n")
    return 0


async def _agent(tickets: TicketService, args: argparse.Namespace) -> int:
    return await tickets.agent_id(args.agent) if args.agent else await tickets.operator(OPERATOR)


async def approve_command(
    queue: MentionQueue, tickets: TicketService, args: argparse.Namespace, out: TextIO
) -> int:
    """Approve draft ``args.id`` (with ``args.text`` instead, if given)."""
    await queue.approve(args.id, await _agent(tickets, args), text=args.text)
    out.write(f"#{args.id} approved: the running Helpline posts it\n")
    return 0


async def discard_command(
    queue: MentionQueue, tickets: TicketService, args: argparse.Namespace, out: TextIO
) -> int:
    """Discard draft ``args.id``."""
    await queue.discard(args.id, await _agent(tickets, args))
    out.write(f"#{args.id} discarded\n")
    return 0

"""``helpline agents``: the people who sign in to the console.

``helpline agents add EMAIL [--password P] --role agent|social|admin [--name NAME]``
    create an agent, or set the password and role of an existing one (and unlock it);
    without ``--password`` the password is asked for (or read from the first line of stdin)
``helpline agents list [--json]``
    every agent with their role and whether they can sign in
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TextIO

import orjson

from adapters.console.auth import ROLES
from adapters.console.passwords import Passwords, WeakPassword
from conversations import agent_accounts as accounts
from conversations.database import Database
from core.pipeline import utcnow
from core.settings import Settings

RunAsync = Callable[[Coroutine[Any, Any, None]], None]
Command = Callable[[Database, argparse.Namespace, TextIO, TextIO], Awaitable[int]]
MAX_EMAIL = 320


def add_agent_commands(subparsers: argparse._SubParsersAction[Any], run_async: RunAsync) -> None:
    """Add ``agents add|list`` to the ``helpline`` parser.

    Args:
        subparsers: The ``helpline`` command's sub-command group.
        run_async: Runs a coroutine to completion (``asyncio.run`` or uvloop's).

    """
    agents = subparsers.add_parser("agents", help="console sign-in accounts")
    actions = agents.add_subparsers(title="agents commands", metavar="ACTION", required=True)

    add = actions.add_parser("add", help="create an agent, or reset an existing one's password and role")
    add.add_argument("email", help="the address they sign in with")
    add.add_argument("--password", help="at least 10 characters (default: ask, or read a line from stdin)")
    add.add_argument("--role", choices=ROLES, default="agent", help="what they may do (default: agent)")
    add.add_argument("--name", help="the name shown to colleagues (default: the part before @)")
    add.set_defaults(handler=lambda settings, args: _run(run_async, settings, args, add_command))

    listing = actions.add_parser("list", help="every agent, their role and sign-in state")
    listing.add_argument("--json", action="store_true", help="print one JSON array")
    listing.set_defaults(handler=lambda settings, args: _run(run_async, settings, args, list_command))


def _run(run_async: RunAsync, settings: Settings, args: argparse.Namespace, command: Command) -> int:
    status: list[int] = []

    async def go() -> None:
        from adapters.runtime import open_database

        db = await open_database(settings)
        try:
            status.append(await command(db, args, sys.stdout, sys.stderr))
        finally:
            await db.dispose()

    run_async(go())
    return status[0] if status else 1


def read_password(args: argparse.Namespace, stdin: TextIO) -> str:
    """``--password``, else asked twice on a terminal, else the first line of stdin."""
    if args.password is not None:
        return str(args.password)
    if stdin.isatty():
        first = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != first:
            raise WeakPassword("the two passwords differ")
        return first
    return stdin.readline().rstrip("\r\n")


async def add_command(
    db: Database, args: argparse.Namespace, out: TextIO, err: TextIO, passwords: Passwords | None = None
) -> int:
    """Create or update an agent (``args.email``, ``args.password``, ``args.role``, ``args.name``)."""
    email = args.email.strip()
    if "@" not in email or len(email) > MAX_EMAIL or any(c.isspace() for c in email):
        print(f"helpline: {email!r} is not an e-mail address", file=err)
        return 2
    try:
        hashed = (passwords or Passwords()).hash(read_password(args, sys.stdin))
    except WeakPassword as exc:
        print(f"helpline: {exc}", file=err)
        return 2
    name = args.name.strip()[:200] if args.name else None
    async with db.transaction() as session:
        created = await accounts.save_agent(session, email, name, hashed, args.role, utcnow())
    verb = "created" if created else "updated (password and role set, unlocked)"
    out.write(f"agent {email} {verb}: role {args.role}; sign in at /console/login\n")
    return 0


async def list_command(db: Database, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Print every agent (``args.json``)."""
    async with db.reader() as session:
        agents = await accounts.agents(session)
    now = utcnow()
    rows = [
        {
            "email": a.email,
            "name": a.display_name,
            "role": a.role,
            "active": a.active,
            "can_sign_in": a.active and a.password_hash is not None,
            "locked_until": a.locked_until.isoformat() if a.locked_until and a.locked_until > now else None,
        }
        for a in agents
    ]
    if args.json:
        out.write(orjson.dumps(rows).decode() + "\n")
        return 0
    if not rows:
        out.write("no agents: add one with `helpline agents add EMAIL --role admin`\n")
        return 0
    for row in rows:
        state = "active" if row["active"] else "inactive"
        if not row["can_sign_in"]:
            state += ", no password"
        if row["locked_until"]:
            state += f", locked until {row['locked_until']}"
        out.write(f"{row['email']}  {row['role']}  {state}\n")
    return 0

"""The ``helpline`` command.

``helpline run``            start everything enabled in the configuration
``helpline db upgrade``     apply database migrations
``helpline db current``     show the database's schema revision
``helpline chat``           talk to the bot in the terminal
``helpline faq match``      match questions (one per line on stdin) against a knowledge base
``helpline tickets ...``    list, show, reply to and solve tickets
``helpline agents ...``     console sign-in accounts: add, list
``helpline mentions ...``   held public replies (X): list, approve, discard
``helpline report``         satisfaction, survey response, response times, deflection
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from conversations.database import UNAVAILABLE, safe_database_url
from conversations.errors import StoreError
from core.logs import configure_logging
from core.settings import ROOT, Settings, SettingsError, load_settings

log = logging.getLogger("helpline")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``helpline`` command; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "handler"):
        parser.print_help()
        return 2
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"helpline: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.logging.level, settings.logging.json_format)
    try:
        return int(args.handler(settings, args) or 0)
    except SettingsError as exc:
        print(f"helpline: {exc}", file=sys.stderr)
        return 2
    except StoreError as exc:
        print(f"helpline: {exc}", file=sys.stderr)
        return 1
    except UNAVAILABLE as exc:  # raised before the store could translate it (start-up, migrations)
        print(
            f"helpline: cannot reach the database at {safe_database_url(settings.database.url)} "
            f"({type(exc).__name__}: {exc}). Start it, or point HELPLINE_DATABASE__URL at a running one.",
            file=sys.stderr,
        )
        return 1
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="helpline", description="Customer support for crypto exchanges.")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    run = commands.add_parser("run", help="start the HTTP server, dispatcher and enabled channels")
    run.add_argument(
        "--role",
        choices=("all", "web", "worker", "dispatcher", "intake"),
        action="append",
        help="what this process does (repeatable; default all): several processes on one "
        "PostgreSQL database share the work",
    )
    run.set_defaults(handler=_run)

    db = commands.add_parser("db", help="database schema")
    db_commands = db.add_subparsers(title="db commands", metavar="ACTION", required=True)
    db_commands.add_parser("upgrade", help="apply every pending migration").set_defaults(handler=_db_upgrade)
    db_commands.add_parser("current", help="show the schema revision").set_defaults(handler=_db_current)

    chat = commands.add_parser("chat", help="talk to the bot in this terminal")
    chat.add_argument("--session", help="continue a web chat session id (default: a new one)")
    chat.set_defaults(handler=_chat)

    faq = commands.add_parser("faq", help="the knowledge base")
    faq_commands = faq.add_subparsers(title="faq commands", metavar="ACTION", required=True)
    match = faq_commands.add_parser("match", help="match questions read from stdin, one per line")
    match.add_argument(
        "--kb", type=Path, help="a knowledge-base directory or YAML file (default: the configured one)"
    )
    match.add_argument("--json", action="store_true", help="print one JSON object per question")
    match.add_argument(
        "--tune",
        action="store_true",
        default=None,
        help="tune the encoder on the knowledge base first (default: engine.tune_encoder; needs PyTorch)",
    )
    match.set_defaults(handler=_faq_match)

    from adapters.tickets_cli import add_ticket_commands

    add_ticket_commands(commands, _run_async)

    from adapters.agents_cli import add_agent_commands

    add_agent_commands(commands, _run_async)

    from adapters.x_cli import add_mention_commands

    add_mention_commands(commands, _run_async)

    from adapters.report_cli import add_report_command

    add_report_command(commands, _run_async)
    return parser


def _run(settings: Settings, args: argparse.Namespace) -> int:
    from adapters.runtime import ROLES, serve

    chosen = set(args.role or ["all"])
    roles = set(ROLES) if "all" in chosen else chosen
    if settings.database.url.startswith("sqlite") and roles != set(ROLES):
        print("helpline: --role needs PostgreSQL (SQLite is one process: run all roles)", file=sys.stderr)
        return 2
    _run_async(serve(settings, roles))
    return 0


def _db_upgrade(settings: Settings, args: argparse.Namespace) -> int:
    from conversations.database import Database
    from conversations.migrate import current_revision, head_revision, upgrade

    async def go() -> None:
        # A migration may rewrite a large table: no statement timeout.
        db = Database(settings.database.url, **{**settings.database.options(), "command_timeout": None})
        try:
            before = await current_revision(db)
            await upgrade(db)
            print(f"database {db.safe_url}: {before or 'empty'} -> {head_revision()}")
        finally:
            await db.dispose()

    _run_async(go())
    return 0


def _db_current(settings: Settings, args: argparse.Namespace) -> int:
    from conversations.database import Database
    from conversations.migrate import current_revision, head_revision

    async def go() -> None:
        db = Database(settings.database.url, **settings.database.options())
        try:
            current = await current_revision(db)
            state = "up to date" if current == head_revision() else f"needs upgrade to {head_revision()}"
            print(f"database {db.safe_url}: {current or 'empty'} ({state})")
        finally:
            await db.dispose()

    _run_async(go())
    return 0


def _chat(settings: Settings, args: argparse.Namespace) -> int:
    from adapters.terminal_chat import chat

    _run_async(chat(settings, args.session))
    return 0


def _faq_match(settings: Settings, args: argparse.Namespace) -> int:
    from core.faq.cli import faq_match_command

    kb = args.kb
    if kb is None:
        configured = Path(settings.engine.knowledge_base)
        kb = configured if configured.is_absolute() or configured.exists() else ROOT / configured
    cache = Path(settings.data_dir) / "cache" / "faq"
    tune = settings.engine.tune_encoder if args.tune is None else args.tune
    from core.faq.tuning import TuningPlan

    plan = TuningPlan(steps=settings.engine.tune_steps)
    return faq_match_command(kb, args.json, sys.stdin, sys.stdout, cache_dir=cache, tune=tune, tuning=plan)


def _run_async(coro: object) -> None:
    try:
        import uvloop
    except ImportError:  # uvloop is optional (not on every platform)
        asyncio.run(coro)  # type: ignore[arg-type]
    else:
        uvloop.run(coro)  # type: ignore[arg-type]


if __name__ == "__main__":
    sys.exit(main())

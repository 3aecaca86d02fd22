"""Assembles the console: its pages, static files and security headers, as an app mounted at ``/console``."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from adapters.console import actions, conversation, inbox, login, mentions_page, reports
from adapters.console.canned import CannedResponses
from adapters.console.context import Console
from adapters.console.passwords import Passwords
from adapters.console.security import SecurityHeaders
from adapters.console.sessions import SessionCodec, load_secret
from adapters.console.settings import ConsoleSettings
from adapters.console.web import PREFIX, STATIC, make_templates
from adapters.http_helpers import validation_message
from conversations import agent_accounts as accounts
from conversations.database import Database
from core.mentions import MentionQueue
from core.pipeline import utcnow
from core.settings import Settings, SettingsError
from core.tickets import TicketService

log = logging.getLogger(__name__)


def console_settings(settings: Settings) -> ConsoleSettings:
    """The ``console`` settings section, validated.

    Raises:
        SettingsError: A value is invalid; the message names it.

    """
    try:
        return ConsoleSettings.model_validate(settings.section("console"))
    except ValidationError as exc:
        raise SettingsError(f"invalid console settings: {validation_message(exc)}") from None


def console_secret(settings: Settings) -> str:
    """The console's signing secret (configured, else kept in ``<data_dir>/console-secret``).

    The web chat signs its browser sessions' cookies with it too (with its own salt).

    Raises:
        SettingsError: The ``console`` section is invalid.

    """
    config = console_settings(settings)
    return load_secret(config.secret.get_secret_value() if config.secret else None, Path(settings.data_dir))


def build_console(
    settings: Settings,
    db: Database,
    tickets: TicketService,
    mentions: MentionQueue,
    *,
    passwords: Passwords | None = None,
    canned: CannedResponses | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> Starlette:
    """The console application, to mount at ``/console``.

    Args:
        settings: Helpline's settings (the ``console`` section, the public URL, the brand).
        db: The store.
        tickets: The ticket service every action goes through.
        mentions: The social team's queue of held public replies.
        passwords: Password hashing (tests pass cheaper argon2 parameters).
        canned: Canned responses; by default the configured knowledge base's answers.
        clock: The current time (tests move it).

    Raises:
        SettingsError: The ``console`` section is invalid.

    """
    config = console_settings(settings)
    secret = console_secret(settings)
    console = Console(
        db=db,
        tickets=tickets,
        mentions=mentions,
        settings=config,
        sessions=SessionCodec(
            secret,
            timedelta(hours=config.session_hours),
            secure=settings.http.public_url.lower().startswith("https://"),
        ),
        passwords=passwords or Passwords(),
        templates=make_templates(),
        canned=canned or CannedResponses.from_settings(settings),
        clock=clock,
        max_body=settings.http.max_body_bytes,
        public_host=urlsplit(settings.http.public_url).netloc,
    )
    routes: list[BaseRoute] = [
        *login.routes(console),
        *inbox.routes(console),
        *conversation.routes(console),
        *actions.routes(console),
        *mentions_page.routes(console),
        *reports.routes(console),
        Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
    ]
    return Starlette(routes=routes, middleware=[Middleware(SecurityHeaders)])


async def log_sign_in_hint(db: Database, public_url: str) -> None:
    """Say at start where the console is, and how to create a sign-in when nobody can sign in yet."""
    async with db.reader() as session:
        ready = await accounts.has_sign_in(session)
    url = public_url.rstrip("/") + PREFIX
    if ready:
        log.info("console: %s", url)
    else:
        log.info(
            "console: %s — nobody can sign in yet: create an account with "
            "`helpline agents add you@example.com --role admin` (it asks for a password)",
            url,
        )

"""What every console page works with: the store, the services, the session keys, the templates."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from adapters.console.canned import CannedResponses
from adapters.console.passwords import Passwords
from adapters.console.sessions import SessionCodec
from adapters.console.settings import ConsoleSettings
from adapters.console.web import page
from conversations.database import Database
from core.locks import KeyedLocks
from core.mentions import MentionQueue
from core.tickets import TicketService


@dataclass(frozen=True, slots=True)
class Console:
    """The console's dependencies, built once by :func:`adapters.console.app.build_console`."""

    db: Database
    tickets: TicketService
    mentions: MentionQueue
    settings: ConsoleSettings
    sessions: SessionCodec
    passwords: Passwords
    templates: Jinja2Templates
    canned: CannedResponses
    clock: Callable[[], datetime]
    max_body: int = 65536
    # The host (and port) of the public URL, an accepted ``Origin`` of forms.
    public_host: str = ""
    # Sign-in attempts for one address, one at a time: parallel guesses must not all be
    # checked before the first failure is counted (the lock-out would be outrun).
    sign_in_locks: KeyedLocks = field(default_factory=KeyedLocks)

    def render(self, request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
        """Render a template with the values every page uses."""
        values = {"refresh_seconds": self.settings.refresh_seconds, "error": None, "viewer": None}
        values.update(context)
        return page(self.templates, request, name, values, status)

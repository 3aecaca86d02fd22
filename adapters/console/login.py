"""Signing in and out of the console."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from adapters.console.auth import (
    Form,
    Outcome,
    Viewer,
    csrf_ok,
    current_viewer,
    guarded,
    same_origin,
    sign_in,
)
from adapters.console.context import Console
from adapters.console.sessions import SessionData
from adapters.console.web import PREFIX, read_form, redirect, safe_next

MAX_EMAIL = 320
MAX_PASSWORD = 1024


def routes(console: Console) -> list[BaseRoute]:
    """``/``, ``/login`` and ``/logout``."""

    async def home(request: Request, viewer: Viewer, form: Form) -> Response:
        return redirect("/inbox" if viewer.role != "social" else "/mentions")

    async def login_page(request: Request) -> Response:
        session = console.sessions.read(request)
        if await current_viewer(console, session) is not None:
            return RedirectResponse(safe_next(request.query_params.get("next")), status_code=303)
        if session is None or session.agent_id is not None:
            session = console.sessions.new()
        return _form(request, session.csrf, request.query_params.get("next"), None, 200, session)

    async def login(request: Request) -> Response:
        session = console.sessions.read(request)
        form = await read_form(request, console.max_body)
        if (
            form is None
            or session is None
            or not same_origin(request, console.public_host)
            or not csrf_ok(session, form.get("csrf"))
        ):
            fresh = console.sessions.new()
            message = "The sign-in form expired: please try again."
            return _form(request, fresh.csrf, form.get("next") if form else None, message, 403, fresh)
        email = form.get("email", "").strip()[:MAX_EMAIL]
        password = form.get("password", "")[:MAX_PASSWORD]
        result = await sign_in(console, email, password)
        if result.outcome is Outcome.SIGNED_IN:
            assert result.session is not None
            response = RedirectResponse(safe_next(form.get("next")), status_code=303)
            return console.sessions.write(response, result.session)
        if result.outcome is Outcome.LOCKED:
            message = "Too many failed sign-ins: this account is locked for a while. Try again later."
            return _form(request, session.csrf, form.get("next"), message, 429, session, email)
        return _form(
            request, session.csrf, form.get("next"), "Wrong e-mail address or password.", 401, session, email
        )

    async def logout(request: Request, viewer: Viewer, form: Form) -> Response:
        return console.sessions.clear(RedirectResponse(f"{PREFIX}/login", status_code=303))

    def _form(
        request: Request,
        csrf: str,
        next_path: str | None,
        error: str | None,
        status: int,
        session: SessionData,
        email: str = "",
    ) -> Response:
        response = console.render(
            request,
            "login.html",
            {"csrf": csrf, "next": safe_next(next_path), "error": error, "email": email},
            status,
        )
        return console.sessions.write(response, session)

    return [
        Route("/", guarded(console, "read", home), methods=["GET"]),
        Route("/login", login_page, methods=["GET"]),
        Route("/login", login, methods=["POST"]),
        Route("/logout", guarded(console, "read", logout), methods=["POST"]),
    ]

"""The mention queue for the social team: public replies held for review, beside the post they answer."""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from adapters.console.auth import Form, Viewer, guarded
from adapters.console.context import Console
from adapters.console.web import redirect
from core.mentions import DraftAlreadyHandled, DraftNotFound, MentionQueueError

log = logging.getLogger(__name__)


def routes(console: Console) -> list[BaseRoute]:
    """``/mentions`` and the approve / discard actions."""

    async def queue(request: Request, viewer: Viewer, form: Form) -> Response:
        return await _page(request, viewer)

    async def _page(
        request: Request, viewer: Viewer, error: str | None = None, status: int = 200
    ) -> Response:
        drafts = await console.mentions.drafts()
        return console.render(
            request, "mentions.html", {"viewer": viewer, "drafts": drafts, "error": error}, status
        )

    async def approve(request: Request, viewer: Viewer, form: Form) -> Response:
        outbox_id = int(request.path_params["outbox_id"])
        original = form.get("original")
        text = form.get("text")
        edited = text if text is not None and text.strip() != (original or "").strip() else None
        try:
            await console.mentions.approve(outbox_id, viewer.id, edited)
        except MentionQueueError as exc:
            return await _page(request, viewer, str(exc), _status(exc))
        log.info("console: %s approved draft %s%s", viewer.email, outbox_id, " (edited)" if edited else "")
        return redirect("/mentions")

    async def discard(request: Request, viewer: Viewer, form: Form) -> Response:
        outbox_id = int(request.path_params["outbox_id"])
        try:
            await console.mentions.discard(outbox_id, viewer.id)
        except MentionQueueError as exc:
            return await _page(request, viewer, str(exc), _status(exc))
        log.info("console: %s discarded draft %s", viewer.email, outbox_id)
        return redirect("/mentions")

    return [
        Route("/mentions", guarded(console, "mentions", queue), methods=["GET"]),
        Route("/mentions/{outbox_id:int}/approve", guarded(console, "mentions", approve), methods=["POST"]),
        Route("/mentions/{outbox_id:int}/discard", guarded(console, "mentions", discard), methods=["POST"]),
    ]


def _status(error: MentionQueueError) -> int:
    if isinstance(error, DraftNotFound):
        return 404
    if isinstance(error, DraftAlreadyHandled):
        return 409
    return 422

"""The HTTP application: channel routes (web chat, webhooks), health, metrics, and the landing redirect."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp

from adapters.http_helpers import json_response
from conversations import outbox
from conversations.database import Database
from core.metrics import exposition, refresh_store_gauges


def build_app(
    db: Database, channel_routes: Sequence[BaseRoute], channels: Sequence[str], console: ASGIApp | None = None
) -> Starlette:
    """Assemble the Starlette application from the running channels' routes and the agent console."""

    async def healthz(request: Request) -> Response:
        report: dict[str, object] = {"channels": sorted(channels)}
        try:
            async with asyncio.timeout(2):
                async with db.reader() as session:
                    await session.execute(text("SELECT 1"))
                    backlog = await outbox.backlog(session)
        except Exception as exc:  # any failure of the store makes us degraded, never a 500
            report.update(status="degraded", database=f"unavailable: {type(exc).__name__}")
            return json_response(503, report)
        oldest = backlog.oldest_created_at
        age = (datetime.now(UTC) - oldest).total_seconds() if oldest else 0.0
        report.update(
            status="ok",
            database="ok",
            outbox={
                "pending": backlog.pending,
                "failed": backlog.failed,
                "oldest_age_seconds": round(age, 3),
            },
        )
        return json_response(200, report)

    async def home(request: Request) -> Response:
        return RedirectResponse("/chat")

    async def metrics(request: Request) -> Response:
        try:
            async with asyncio.timeout(2):
                await refresh_store_gauges(db)
        except Exception:  # the process counters are still worth serving without the store's figures
            pass
        body, content_type = exposition()
        return Response(body, media_type=content_type)

    routes: list[BaseRoute] = [
        Route("/", home, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
        *channel_routes,
    ]
    if console is not None:
        routes.append(Mount("/console", app=console))
    return Starlette(routes=routes)

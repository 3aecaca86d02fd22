"""When the database is unreachable: health says degraded, the web chat asks to resend, nothing crashes."""

from __future__ import annotations

import httpx

from adapters.http_app import build_app
from adapters.webchat_channel import WebchatChannel
from conversations.database import Database
from core.engine.basic import BasicEngine
from core.pipeline import Pipeline
from core.settings import WebchatSettings
from tests.web.conftest import free_port


async def test_health_and_chat_report_an_unreachable_database() -> None:
    # A real driver against a port where nothing listens: every connection is refused.
    db = Database(f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/nowhere")
    channel = WebchatChannel(db, WebchatSettings())
    await channel.start(Pipeline(db, BasicEngine("Acme")))
    app = build_app(db, channel.routes(), ["webchat"])
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://helpline"
        ) as client:
            health = await client.get("/healthz")
            assert health.status_code == 503
            assert health.json()["status"] == "degraded"
            assert health.json()["database"].startswith("unavailable")

            chat = await client.post(
                "/api/chat/messages", json={"session_id": "s", "message_id": "1", "text": "hello"}
            )
            assert chat.status_code == 503
            assert chat.json()["error"] == {
                "code": "unavailable",
                "message": "we could not store your message; please send it again",
            }
    finally:
        await channel.stop()
        await db.dispose()

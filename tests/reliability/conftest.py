"""Fixtures of the reliability tests: the fork server, the fake integrator, a webhook Helpline's settings."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import uvicorn

from tests.e2e.test_crash_recovery import SECRET, FakePlatform, platform
from tests.reliability.processes import Launcher
from tests.web.conftest import free_port

__all__ = ["platform"]


@pytest.fixture
async def launcher() -> AsyncIterator[Launcher]:
    server = await Launcher.open()
    yield server
    await server.close()


@contextlib.asynccontextmanager
async def serving_platform(fake: FakePlatform) -> AsyncIterator[FakePlatform]:
    """Serve a fake integrator on its port for the duration of the block."""
    server = uvicorn.Server(uvicorn.Config(fake.app, host="127.0.0.1", port=fake.port, log_config=None))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield fake
    finally:
        server.should_exit = True
        await task


def webhook_env(database_url: str, platform: FakePlatform, data_dir: Path) -> dict[str, str]:
    """Settings of a fast-starting Helpline (basic engine) whose only channel is the signed webhook."""
    return {
        "HELPLINE_DATABASE__URL": database_url,
        "HELPLINE_HTTP__PORT": str(free_port()),
        "HELPLINE_ENGINE__KIND": "basic",
        "HELPLINE_WEBCHAT__ENABLED": "false",
        "HELPLINE_WEBHOOK__ENABLED": "true",
        "HELPLINE_WEBHOOK__SECRET": SECRET,
        "HELPLINE_WEBHOOK__DELIVER_URL": f"http://127.0.0.1:{platform.port}/deliver",
        "HELPLINE_DISPATCHER__LEASE_SECONDS": "1",
        "HELPLINE_DISPATCHER__POLL_INTERVAL_SECONDS": "0.1",
        "HELPLINE_DATA_DIR": str(data_dir),
        # Customers here write faster than any person: the flood limit is tested in tests/security.
        "HELPLINE_ABUSE__MAX_MESSAGES_PER_MINUTE": "0",
    }

"""A live Helpline server on a free port, on the test's event loop, over real sockets."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn

from adapters.runtime import Runtime, open_runtime
from conversations.database import Database
from core.engine.base import Engine
from core.settings import load_settings


@dataclass
class LiveServer:
    url: str
    runtime: Runtime
    client: httpx.AsyncClient


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.asynccontextmanager
async def serving(
    database_url: str, engine: Engine, data_dir: Path, **extra_env: str
) -> AsyncIterator[LiveServer]:
    """A running Helpline: HTTP server, dispatcher and job runner, with ``extra_env`` settings."""
    port = free_port()
    settings = load_settings(
        {
            "HELPLINE_DATABASE__URL": database_url,
            "HELPLINE_HTTP__PORT": str(port),
            "HELPLINE_HTTP__PUBLIC_URL": f"http://127.0.0.1:{port}",
            "HELPLINE_DISPATCHER__POLL_INTERVAL_SECONDS": "0.05",
            "HELPLINE_DATA_DIR": str(data_dir),
            **extra_env,
        }
    )
    async with open_runtime(settings, engine=engine) as runtime:
        server = uvicorn.Server(
            uvicorn.Config(
                runtime.app,
                host="127.0.0.1",
                port=port,
                log_config=None,
                lifespan="off",
                timeout_graceful_shutdown=1,
            )
        )
        tasks = [
            asyncio.create_task(server.serve()),
            asyncio.create_task(runtime.dispatcher.run()),
            asyncio.create_task(runtime.jobs.run()),
        ]
        while not server.started:
            await asyncio.sleep(0.01)
        url = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=url, timeout=10) as client:
            yield LiveServer(url, runtime, client)
        server.should_exit = True
        runtime.dispatcher.stop()
        runtime.jobs.stop()
        await asyncio.gather(*tasks)


@pytest.fixture
async def live(
    database_url: str, db: Database, faq_engine: Engine, data_dir: Path
) -> AsyncIterator[LiveServer]:
    """A running server; ``db`` empties PostgreSQL after the test."""
    async with serving(database_url, faq_engine, data_dir) as server:
        yield server

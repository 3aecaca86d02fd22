"""Fixtures shared by the whole suite: the stores every storage test runs on.

``db`` is parametrised over SQLite (a fresh file per test) and PostgreSQL (a database
created for this test run at ``HELPLINE_TEST_POSTGRES``, default the local server's
``test`` database, emptied between tests). When PostgreSQL cannot be reached its cases
skip with the reason, except under CI (``CI=true``), where that is a failure.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy import text

from adapters.runtime import build_engine
from conversations.database import Database
from conversations.migrate import upgrade
from conversations.tables import Base
from core.engine.base import Engine
from core.settings import load_settings

ROOT = Path(__file__).resolve().parents[1]
# The knowledge base's embeddings are built once (about a minute on two cores) and reused by
# every test and every `helpline` process the tests start, through HELPLINE_DATA_DIR.
DATA_DIR = ROOT / "var" / "test-data"
POSTGRES_ADMIN = os.environ.get("HELPLINE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() == "true"
REDIS_URL = os.environ.get("HELPLINE_TEST_REDIS", "redis://127.0.0.1:6379/0")


def _raw(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL database created (and migrated) for this test run, dropped at the end."""
    name = f"helpline_test_{uuid.uuid4().hex[:8]}"
    base = POSTGRES_ADMIN.rsplit("/", 1)[0]

    async def create() -> None:
        admin = await asyncpg.connect(_raw(POSTGRES_ADMIN), timeout=5)
        try:
            await admin.execute(f'CREATE DATABASE "{name}"')
        finally:
            await admin.close()
        db = Database(f"{base.replace('postgresql://', 'postgresql+asyncpg://')}/{name}")
        await upgrade(db)
        await db.dispose()

    async def drop() -> None:
        admin = await asyncpg.connect(_raw(POSTGRES_ADMIN), timeout=5)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()

    try:
        asyncio.run(create())
    except (OSError, asyncpg.PostgresError) as exc:
        reason = f"PostgreSQL at {POSTGRES_ADMIN} is unreachable ({exc}); set HELPLINE_TEST_POSTGRES"
        if IN_CI:
            pytest.fail(reason)
        pytest.skip(reason)
    yield f"{base.replace('postgresql://', 'postgresql+asyncpg://')}/{name}"
    asyncio.run(drop())


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite file migrated once, copied for each test."""
    path = tmp_path_factory.mktemp("template") / "helpline.db"

    async def create() -> None:
        db = Database(f"sqlite+aiosqlite:///{path}")
        await upgrade(db)
        await db.dispose()

    asyncio.run(create())
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    """The URL of an empty, migrated database of each kind."""
    if request.param == "sqlite":
        target = tmp_path / "helpline.db"
        shutil.copy(sqlite_template, target)
        return f"sqlite+aiosqlite:///{target}"
    url: str = request.getfixturevalue("postgres_url")
    asyncio.run(_empty(url))
    return url


async def _empty(url: str) -> None:
    """Empty every table, so each test starts from the same state as on SQLite."""
    database = Database(url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    try:
        async with database.engine.begin() as connection:
            await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    finally:
        await database.dispose()


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    """An open :class:`Database` on an empty schema."""
    database = Database(database_url)
    yield database
    await database.dispose()


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The data directory (knowledge-base cache) shared by the tests and their subprocesses."""
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    return DATA_DIR


@pytest.fixture(scope="session")
def faq_engine(data_dir: Path) -> Engine:
    """The real knowledge-base engine, built once per test run."""
    return build_engine(load_settings({"HELPLINE_DATA_DIR": str(data_dir)}))


@pytest.fixture
async def redis_url() -> str:
    """The test Redis (shared rate limits); skipped where it is not running, failed under CI."""
    client: Redis = Redis.from_url(REDIS_URL)
    try:
        await client.ping()
    except (RedisError, OSError) as exc:
        reason = f"Redis at {REDIS_URL} is unreachable ({exc}); set HELPLINE_TEST_REDIS"
        if IN_CI:
            pytest.fail(reason)
        pytest.skip(reason)
    finally:
        await client.aclose()
    return REDIS_URL

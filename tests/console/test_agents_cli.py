"""``helpline agents add|list`` against each database, through the real ``helpline`` entry point."""

from __future__ import annotations

import asyncio
import io

import orjson
import pytest

from adapters.cli import main
from conversations.database import Database
from conversations.tables import Agent


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def stored(url: str) -> list[tuple[str, str, bool, str | None]]:
    async def read() -> list[tuple[str, str, bool, str | None]]:
        from sqlalchemy import select

        db = Database(url)
        try:
            async with db.reader() as session:
                rows = (await session.scalars(select(Agent).order_by(Agent.email))).all()
                return [(a.email, a.role, a.active, a.password_hash) for a in rows]
        finally:
            await db.dispose()

    return asyncio.run(read())


def test_add_and_list_agents(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HELPLINE_DATABASE__URL", database_url)
    status, out, _ = run(capsys, "agents", "list")
    assert status == 0 and "no agents" in out

    status, out, _ = run(
        capsys, "agents", "add", "sam@example.com", "--password", "long enough pw", "--role", "admin"
    )
    assert status == 0 and "created" in out
    [(email, role, active, hashed)] = stored(database_url)
    assert (email, role, active) == ("sam@example.com", "admin", True)
    assert hashed is not None and hashed.startswith("$argon2id$") and "long enough pw" not in hashed

    # Adding again resets the password and role of the same agent; the password may come from stdin.
    monkeypatch.setattr("sys.stdin", io.StringIO("another password\n"))
    status, out, _ = run(capsys, "agents", "add", "SAM@example.com", "--role", "social")
    assert status == 0 and "updated" in out
    [(email, role, _, rehashed)] = stored(database_url)
    assert (email, role) == ("sam@example.com", "social") and rehashed != hashed

    status, _, err = run(capsys, "agents", "add", "kim@example.com", "--password", "short")
    assert status == 2 and "at least 10 characters" in err
    status, _, err = run(capsys, "agents", "add", "not-an-address", "--password", "long enough pw")
    assert status == 2 and "not an e-mail address" in err
    with pytest.raises(SystemExit):
        main(["agents", "add", "kim@example.com", "--password", "long enough pw", "--role", "root"])
    capsys.readouterr()

    status, out, _ = run(capsys, "agents", "list", "--json")
    assert status == 0
    assert orjson.loads(out) == [
        {
            "email": "sam@example.com",
            "name": "sam",
            "role": "social",
            "active": True,
            "can_sign_in": True,
            "locked_until": None,
        }
    ]

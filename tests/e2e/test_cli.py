"""The ``helpline`` command as a user runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest

from tests.conftest import POSTGRES_ADMIN
from tests.e2e.helpline_process import ROOT


def helpline(*args: str, env: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "adapters.cli", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_chat_in_the_terminal(tmp_path: Path, faq_engine: object, data_dir: Path) -> None:
    env = {
        "HELPLINE_DATABASE__URL": f"sqlite+aiosqlite:///{tmp_path}/chat.db",
        "HELPLINE_DATA_DIR": str(data_dir),
    }
    result = helpline(
        "chat", "--session", "term-1", env=env, stdin="hello\nmy deposit has not arrived yet\n2\n/quit\n"
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "session term-1" in out
    assert "bot> Hello! I'm the Acme Exchange support assistant" in out
    assert "[1] Talk to a human" in out
    assert "confirmations" in out  # the knowledge base's answer about deposits
    assert "[1] Report it to support" in out and "[2] Talk to a human" in out
    assert "bot> I've asked a support agent to join" in out  # "2" pressed the button


def test_bad_configuration_names_the_setting(tmp_path: Path) -> None:
    result = helpline("db", "current", env={"HELPLINE_HTTP__PORT": "not-a-port"})
    assert result.returncode == 2
    assert "http.port (HELPLINE_HTTP__PORT)" in result.stderr
    assert "Traceback" not in result.stderr


def test_no_command_prints_help() -> None:
    result = helpline(env={})
    assert result.returncode == 2
    assert "run" in result.stdout and "chat" in result.stdout


def test_postgres_must_be_upgraded_explicitly_and_then_runs(tmp_path: Path) -> None:
    name = f"helpline_cli_{os.getpid()}"
    base = POSTGRES_ADMIN.replace("postgresql://", "postgresql+asyncpg://").rsplit("/", 1)[0]
    url = f"{base}/{name}"

    async def admin(sql: str) -> None:
        connection = await asyncpg.connect(POSTGRES_ADMIN, timeout=5)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    import asyncio

    try:
        asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    except OSError as exc:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip(f"PostgreSQL unreachable: {exc}")
    try:
        env = {"HELPLINE_DATABASE__URL": url, "HELPLINE_HTTP__PORT": "0"}
        refused = helpline("run", env=env)
        assert refused.returncode == 1
        assert "run `helpline db upgrade` first" in refused.stderr
        current = helpline("db", "current", env=env)
        assert "empty (needs upgrade" in current.stdout
        upgraded = helpline("db", "upgrade", env=env)
        assert upgraded.returncode == 0 and "empty -> " in upgraded.stdout
        assert "up to date" in helpline("db", "current", env=env).stdout
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_faq_match_reads_stdin_and_prints_json_lines(
    tmp_path: Path, faq_engine: object, data_dir: Path
) -> None:
    kb = tmp_path / "intents.yaml"
    kb.write_text(
        "topics:\n"
        "  - id: card.lost\n    category: card\n    answer: {en: Call us.}\n"
        "    examples: {en: [I lost my card, my card is gone, cannot find my debit card, card missing]}\n"
        "  - id: transfer.fee\n    category: transfer\n    answer: {en: It is free.}\n"
        "    examples: {en: [how much is a transfer, transfer fee, do transfers cost money, price of sending money]}\n"
    )
    result = helpline(
        "faq",
        "match",
        "--kb",
        str(kb),
        "--json",
        env={"HELPLINE_DATA_DIR": str(data_dir)},
        stdin="i lost my card yesterday\n",
    )
    assert result.returncode == 0, result.stderr
    import json

    [line] = [json.loads(row) for row in result.stdout.splitlines()]
    assert set(line) == {"question", "topic", "score", "lang", "outcome", "suggestions"}
    assert line["question"] == "i lost my card yesterday"
    assert line["lang"] == "en"
    assert line["outcome"] in {"answer", "suggest", "fallback"}
    assert line["topic"] in {"card.lost", None}


def test_tickets_commands_are_wired(tmp_path: Path) -> None:
    env = {"HELPLINE_DATABASE__URL": f"sqlite+aiosqlite:///{tmp_path}/t.db"}
    assert helpline("db", "upgrade", env=env).returncode == 0
    listed = helpline("tickets", "list", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.strip() == "[]"
    missing = helpline("tickets", "show", "HL-9999", env=env)
    assert missing.returncode != 0
    assert "HL-9999" in missing.stderr + missing.stdout

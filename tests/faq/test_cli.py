"""``faq_match_command``: JSON and text output, errors."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from core.faq.cli import DEFAULT_KB, faq_match_command
from tests.faq.conftest import FIXTURE_KB


def run(kb: Path | None, as_json: bool, text: str, cache: Path) -> tuple[int, list[str]]:
    stdout = io.StringIO()
    code = faq_match_command(kb, as_json, io.StringIO(text), stdout, cache_dir=cache)
    return code, stdout.getvalue().splitlines()


def test_json_lines_have_exactly_the_documented_shape(faq_cache_dir: Path) -> None:
    questions = ["my deposit has not arrived", "忘記密碼了", "", "what's the weather tomorrow"]
    code, lines = run(FIXTURE_KB, True, "\n".join(questions) + "\n", faq_cache_dir)
    assert code == 0
    assert len(lines) == len(questions)
    for question, line in zip(questions, lines, strict=True):
        record = json.loads(line)
        assert list(record) == ["question", "topic", "score", "lang", "outcome", "suggestions"]
        assert record["question"] == question
        assert record["topic"] is None or isinstance(record["topic"], str)
        assert isinstance(record["score"], float)
        assert record["lang"] in {"zh", "en"}
        assert record["outcome"] in {"answer", "suggest", "fallback"}
        assert isinstance(record["suggestions"], list) and len(record["suggestions"]) <= 3
        assert all(isinstance(s, str) for s in record["suggestions"])
    first, second, empty = (json.loads(line) for line in lines[:3])
    assert first["topic"] == "deposit.not_credited" and first["outcome"] == "answer" and first["lang"] == "en"
    assert second["topic"] == "account.password_reset" and second["lang"] == "zh"
    assert empty["outcome"] == "fallback" and empty["topic"] is None


def test_text_output_is_one_readable_line(faq_cache_dir: Path) -> None:
    code, lines = run(FIXTURE_KB / "money.yaml", False, "withdrawal pending\r\n", faq_cache_dir)
    assert code == 0
    assert len(lines) == 1
    assert "withdrawal.pending" in lines[0]
    assert "withdrawal pending" in lines[0]
    assert "score=" in lines[0] and "lang=en" in lines[0]


def test_bad_kb_is_reported_on_stderr(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "kb.yaml"
    broken.write_text("topics:\n  - id: nope\n", encoding="utf-8")
    code, lines = run(broken, True, "hello\n", tmp_path)
    assert code == 2
    assert lines == []
    assert str(broken) in capsys.readouterr().err


def test_default_kb_is_the_repository_config() -> None:
    assert DEFAULT_KB.parts[-2:] == ("config", "knowledge")
    assert (DEFAULT_KB.parent.parent / "core" / "faq" / "cli.py").is_file()


def test_tune_without_pytorch_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)
    stdout = io.StringIO()

    code = faq_match_command(
        FIXTURE_KB, True, io.StringIO("my deposit has not arrived\n"), stdout, cache_dir=tmp_path, tune=True
    )

    assert code == 2
    assert stdout.getvalue() == ""
    assert "pip install torch" in capsys.readouterr().err

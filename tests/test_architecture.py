"""The layering rules, enforced: adapters -> core -> conversations, no SDK in core."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_hold() -> None:
    result = subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports")), "--config", "pyproject.toml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_no_module_shadows_a_library() -> None:
    shadowing = {"telegram", "discord", "tweepy", "email", "logging", "json", "asyncio", "typing", "types"}
    for package in ("adapters", "core", "conversations"):
        names = {p.stem for p in (ROOT / package).rglob("*.py")} | {
            p.name for p in (ROOT / package).rglob("*") if p.is_dir()
        }
        assert not names & shadowing, f"{package} has modules named like a library: {names & shadowing}"


def test_adapters_package_imports_no_channel_eagerly() -> None:
    assert (ROOT / "adapters" / "__init__.py").read_text().strip() == ""

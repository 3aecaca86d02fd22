"""Shared fixtures of the FAQ tests: the small fixture KB and one index cache for the session."""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURE_KB = Path(__file__).parent / "fixtures" / "kb"


@pytest.fixture(scope="session")
def faq_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache directory, so that modules building the same KB reuse each other's index."""
    return tmp_path_factory.mktemp("faq-cache")

"""Shared fixtures of the FAQ tests: the small fixture KB and one index cache for the session."""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURE_KB = Path(__file__).parent / "fixtures" / "kb"

# Questions as customers type them: zh and en, mixed, full-width, typos, emoji, odd spaces.
SAMPLE_QUESTIONS = [
    "my deposit has not arrived",
    "I sent USDT to my deposit address two hours ago and my balance is still empty",
    "充值还没到账",
    "我的提幣一直在處理中",
    "how do I 重置密码",
    "ＡＰＩ ｋｅｙ for my trading bot",
    "widthdrawl still pendng 😡😡",
    "naïve café   double  spaces",
]


@pytest.fixture(scope="session")
def faq_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache directory, so that modules building the same KB reuse each other's index."""
    return tmp_path_factory.mktemp("faq-cache")

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from core.forms import FormRunner, load_forms
from core.validation import load_asset_catalog

SHANGHAI = timezone(timedelta(hours=8))
TRON_TXID = "3f5e" + "9" * 56 + "1234"
EVM_TXID = "0x" + "ab" * 32
TRON_ADDRESS = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"
EVM_ADDRESS = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"


@pytest.fixture(scope="session")
def runner() -> FormRunner:
    return FormRunner(load_forms(), load_asset_catalog())


@pytest.fixture
def now() -> datetime:
    return datetime(2026, 11, 21, 10, 0, tzinfo=SHANGHAI)

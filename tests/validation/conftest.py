from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from core.validation import AssetCatalog, load_asset_catalog

SHANGHAI = timezone(timedelta(hours=8))


@pytest.fixture(scope="session")
def catalog() -> AssetCatalog:
    return load_asset_catalog()


@pytest.fixture
def now() -> datetime:
    """A frozen 'now': Saturday 2026-11-21 10:00 in UTC+8."""
    return datetime(2026, 11, 21, 10, 0, tzinfo=SHANGHAI)

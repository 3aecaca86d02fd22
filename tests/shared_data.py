"""Access to the real-world material in ``../shared/data`` beside the checkout.

A user's clone has no ``../shared``: tests that need it skip with a clear reason.
Under CI (``CI=true``) its absence is a failure, never a silent skip.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def shared_path(*parts: str) -> Path:
    """Return a path inside ``../shared/data``, skipping (or failing under CI) if absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        reason = f"{path} is absent: the shared test material lives beside the checkout as ../shared"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return path

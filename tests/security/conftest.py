"""Fixtures of the security tests: those of ``tests/console`` and ``tests/web`` are reused as they are."""

from __future__ import annotations

from tests.console.conftest import console
from tests.web.conftest import live

__all__ = ["console", "live"]

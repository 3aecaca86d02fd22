"""Fixtures of the security tests: the console fixtures of ``tests/console`` are reused as they are."""

from __future__ import annotations

from tests.console.conftest import console

__all__ = ["console"]

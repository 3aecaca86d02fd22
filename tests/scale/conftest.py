"""Fixtures of the scale-out tests: the fake platform of the crash tests."""

from tests.e2e.test_crash_recovery import platform

__all__ = ["platform"]

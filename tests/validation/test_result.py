from __future__ import annotations

import pytest

from core.validation import Reason, ValidationResult
from core.validation.result import accept, reject


def test_reason_picks_language() -> None:
    reason = Reason(en="Hello", zh="你好")
    assert reason.text("zh-CN") == "你好"
    assert reason.text("en") == "Hello"
    assert reason.text("fr") == "Hello"
    assert reason.as_dict() == {"en": "Hello", "zh": "你好"}


def test_results_are_frozen_and_consistent() -> None:
    ok = accept("x")
    assert ok.ok and ok.value == "x" and ok.reason is None
    bad: ValidationResult[str] = reject("code", "en", "zh")
    assert not bad.ok and bad.value is None and bad.reason_code == "code"
    with pytest.raises(AttributeError):
        ok.ok = False  # type: ignore[misc]
    with pytest.raises(ValueError):
        ValidationResult(ok=True, value=None)
    with pytest.raises(ValueError):
        ValidationResult(ok=False)

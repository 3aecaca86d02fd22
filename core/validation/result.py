"""The value every validator returns: a verdict, a normalised value and a bilingual reason."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Reason:
    """A customer-facing explanation in every language the support desk answers in.

    Attributes:
        en: English text.
        zh: Simplified Chinese text.

    """

    en: str
    zh: str

    def text(self, language: str) -> str:
        """Return the text for ``language`` ("en", "zh", "zh-CN", ...), falling back to English."""
        return self.zh if language.lower().startswith("zh") else self.en

    def as_dict(self) -> dict[str, str]:
        """Return ``{"en": ..., "zh": ...}``."""
        return {"en": self.en, "zh": self.zh}


@dataclass(frozen=True, slots=True)
class ValidationResult(Generic[T]):
    """Outcome of checking one customer answer.

    Attributes:
        ok: Whether the answer is acceptable.
        value: The normalised value when ``ok``; otherwise ``None``.
        reason_code: A stable machine-readable code when not ``ok`` (e.g. ``"bad_checksum"``).
        reason: What is wrong, in words a customer understands, when not ``ok``.

    """

    ok: bool
    value: T | None = None
    reason_code: str | None = None
    reason: Reason | None = None

    def __post_init__(self) -> None:
        if self.ok and (self.value is None or self.reason_code is not None):
            raise ValueError("an accepted result carries a value and no reason code")
        if not self.ok and (self.reason_code is None or self.reason is None):
            raise ValueError("a rejected result carries a reason code and a reason")


def accept(value: T) -> ValidationResult[T]:
    """Build an accepting result."""
    return ValidationResult(ok=True, value=value)


def reject(code: str, en: str, zh: str) -> ValidationResult[T]:
    """Build a rejecting result with its reason in English and Chinese."""
    return ValidationResult(ok=False, reason_code=code, reason=Reason(en=en, zh=zh))


def relabel(result: ValidationResult[object], code: str | None = None) -> ValidationResult[T]:
    """Carry a rejection over to a result of another value type (optionally with a new code)."""
    if result.ok or result.reason is None or result.reason_code is None:
        raise ValueError("only a rejection can be relabelled")
    return ValidationResult(ok=False, reason_code=code or result.reason_code, reason=result.reason)

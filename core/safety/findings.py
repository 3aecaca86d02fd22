"""Value types shared by the secret detectors and :func:`core.safety.redaction.redact`."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class SecretKind(StrEnum):
    """What sort of secret a customer pasted; the value is used in the redaction marker."""

    SEED_PHRASE = "seed_phrase"
    PRIVATE_KEY = "private_key"
    EXTENDED_PRIVATE_KEY = "extended_private_key"
    PASSWORD = "password"
    OTP_CODE = "otp_code"


# When two detectors claim overlapping text the merged finding takes the kind listed first here:
# the most dangerous secret decides which warning the customer gets.
SEVERITY: tuple[SecretKind, ...] = (
    SecretKind.SEED_PHRASE,
    SecretKind.EXTENDED_PRIVATE_KEY,
    SecretKind.PRIVATE_KEY,
    SecretKind.PASSWORD,
    SecretKind.OTP_CODE,
)


@dataclass(frozen=True, slots=True)
class Finding:
    """One secret found in a message.

    Attributes:
        kind: What the secret is.
        start: Offset of its first character in the original text.
        end: Offset one past its last character in the original text (``text[start:end]`` is the secret).

    """

    kind: SecretKind
    start: int
    end: int

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.end:
            raise ValueError(f"invalid finding span {self.start}..{self.end}")


@dataclass(frozen=True, slots=True)
class Redaction:
    """The outcome of redacting one message.

    Attributes:
        text: The message with every secret replaced by a marker such as ``[REDACTED:seed_phrase]``.
        findings: What was removed, ordered by position, with offsets into the original message.

    """

    text: str
    findings: tuple[Finding, ...]

    @property
    def redacted(self) -> bool:
        """Whether anything was removed."""
        return bool(self.findings)

    @property
    def kinds(self) -> frozenset[SecretKind]:
        """The distinct kinds of secret that were removed."""
        return frozenset(finding.kind for finding in self.findings)


def marker(kind: SecretKind) -> str:
    """Return the language-neutral marker that replaces a secret of ``kind`` in redacted text."""
    return f"[REDACTED:{kind.value}]"

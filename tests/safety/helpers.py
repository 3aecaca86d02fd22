"""Assertions shared by the safety tests."""

from __future__ import annotations

import re
from collections.abc import Iterable

from core.safety import Redaction, SecretKind, marker


def assert_removed(original: str, redaction: Redaction, secrets: Iterable[str]) -> None:
    """Every secret is gone from the output, the output is the original with markers spliced in."""
    for secret in secrets:
        assert secret not in redaction.text, f"{secret!r} survived in {redaction.text!r}"
    rebuilt: list[str] = []
    cursor = 0
    for finding in redaction.findings:
        assert cursor <= finding.start < finding.end <= len(original)
        rebuilt.append(original[cursor : finding.start])
        rebuilt.append(marker(finding.kind))
        cursor = finding.end
    rebuilt.append(original[cursor:])
    assert "".join(rebuilt) == redaction.text


def assert_words_removed(redaction: Redaction, words: Iterable[str], chatter: str = "") -> None:
    """No seed word survives as a whole word, except words the surrounding ``chatter`` uses itself."""
    said = {word.lower() for word in re.findall(r"[A-Za-z]+", chatter)}
    for word in words:
        if word.lower() in said:
            continue
        assert not re.search(rf"(?<![A-Za-z]){re.escape(word)}(?![A-Za-z])", redaction.text), word


def only(redaction: Redaction, kind: SecretKind) -> None:
    """Exactly one finding, of ``kind``."""
    assert [finding.kind for finding in redaction.findings] == [kind], redaction

"""Remove secrets from a customer's message before it is stored, logged or shown to an agent."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from core.safety import credentials, keys, seed_chinese, seed_english
from core.safety.findings import SEVERITY, Finding, Redaction, marker

logger = logging.getLogger(__name__)

ALLOW_TXID = keys.ALLOW_TXID
"""Pass in ``allowed`` when the customer was asked for a transaction id: a bare 64-hex value is kept."""


def redact(text: str, *, allowed: frozenset[str] = frozenset()) -> Redaction:
    """Replace every secret in ``text`` with a marker such as ``[REDACTED:seed_phrase]``.

    Detects BIP39 seed phrases (English and Chinese, whole or partial, numbered, mistyped), WIF and
    extended private keys, 64-hex keys that the message calls a key, and passwords and 2FA codes named as
    such. Overlapping detections are merged into one finding of the most severe kind, so no part of a
    secret survives. The function is pure: it neither logs nor stores the secrets it finds.

    Args:
        text: The customer's message.
        allowed: Kinds of public value the conversation asked for. ``"txid"`` (:data:`ALLOW_TXID`): a
            64-hex value is a transaction id unless the message names it a private key outright.

    Returns:
        The redacted text and the findings, with offsets into ``text``.

    """
    found = [
        *seed_english.find(text),
        *seed_chinese.find(text),
        *keys.find(text, allowed),
        *credentials.find_passwords(text),
        *credentials.find_otp_codes(text),
    ]
    findings = merge(found)
    if not findings:
        return Redaction(text=text, findings=())
    pieces: list[str] = []
    cursor = 0
    for finding in findings:
        pieces.append(text[cursor : finding.start])
        pieces.append(marker(finding.kind))
        cursor = finding.end
    pieces.append(text[cursor:])
    logger.info("redacted %d secret(s): %s", len(findings), ", ".join(f.kind.value for f in findings))
    return Redaction(text="".join(pieces), findings=findings)


def merge(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    """Merge overlapping findings into one per region, keeping the most severe kind, ordered by start."""
    merged: list[Finding] = []
    for finding in sorted(findings, key=lambda item: (item.start, -item.end)):
        if merged and finding.start < merged[-1].end:
            last = merged[-1]
            kind = min(last.kind, finding.kind, key=SEVERITY.index)
            merged[-1] = Finding(kind, last.start, max(last.end, finding.end))
        else:
            merged.append(finding)
    return tuple(merged)

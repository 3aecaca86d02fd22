"""Detect private keys: WIF, BIP32 extended private keys, and 64-hex / base58 keys named as keys."""

from __future__ import annotations

import re

import base58

from core.safety import context
from core.safety.findings import Finding, SecretKind

ALLOW_TXID = "txid"

_ALNUM = re.compile(r"[0-9A-Za-z]+")
_HEX64 = re.compile(r"(?:0[xX])?[0-9a-fA-F]{64}")
_BASE58 = re.compile(r"[1-9A-HJ-NP-Za-km-z]+")

_WIF_VERSIONS = frozenset({0x80, 0xEF})
_WIF_LENGTHS = frozenset({51, 52})
# First characters a WIF string can have: 5 (mainnet uncompressed), K/L (mainnet compressed),
# 9 (testnet uncompressed), c (testnet compressed).
_WIF_FIRST = frozenset("5KL9c")

# BIP32 / SLIP-132 private versions: xprv yprv zprv Yprv Zprv (mainnet), tprv uprv vprv Uprv Vprv (testnet),
# and Litecoin's.
_EXTENDED_VERSIONS = frozenset(
    bytes.fromhex(version)
    for version in (
        "0488ade4", "049d7878", "04b2430c", "0295b005", "02aa7a99",
        "04358394", "044a4e28", "045f18bc", "024285b5", "02575048",
        "019d9cfe", "01b26792",  # Litecoin Ltpv, Mtpv
    )
)  # fmt: skip
_EXTENDED_PREFIXES = (
    "xprv", "yprv", "zprv", "Yprv", "Zprv", "tprv", "uprv", "vprv", "Uprv", "Vprv", "Ltpv", "Mtpv",
)  # fmt: skip
_EXTENDED_LENGTH = 111
_EXTENDED_PAYLOAD = 78

# A 64-byte value in base58 (Solana-style secret keys, but also transaction signatures).
_BASE58_64_BYTES = range(86, 89)

# "<value> is my private key", "<value> 是私钥"
_NAMED_AFTER = re.compile(
    r"[\s\"'`”)）]*(?:(?:,\s*)?(?:is|was|=|是|为|為|:|-|—)\s*(?:my|the|our|a|your|我的|你的)?\s*(?:wallet'?s?\s*)?"
    r"|[(（]\s*)",
    re.IGNORECASE,
)


def find(text: str, allowed: frozenset[str] = frozenset()) -> list[Finding]:
    """Return the private keys in ``text``.

    WIF and extended private keys are recognised by their base58check encoding alone. A 64-character hex
    value (or a 64-byte base58 value) is a transaction hash as often as a key, so it only counts when the
    message calls it a key; with ``"txid"`` in ``allowed`` only a label naming it directly counts.
    """
    findings: list[Finding] = []
    for match in _ALNUM.finditer(text):
        kind = _classify(text, match.group(), match.start(), match.end(), allowed)
        if kind is not None:
            findings.append(Finding(kind, match.start(), match.end()))
    return findings


def _classify(text: str, token: str, start: int, end: int, allowed: frozenset[str]) -> SecretKind | None:
    size = len(token)
    if size in (64, 66) and _HEX64.fullmatch(token):
        return SecretKind.PRIVATE_KEY if _called_a_key(text, start, end, allowed) else None
    if not _BASE58.fullmatch(token):
        return None
    if abs(size - _EXTENDED_LENGTH) <= 2 and (
        is_extended_private_key(token)
        # A mistyped extended key (bad checksum) is still a secret: its prefix and length are unmistakable.
        or token.startswith(_EXTENDED_PREFIXES)
    ):
        return SecretKind.EXTENDED_PRIVATE_KEY
    if size in _WIF_LENGTHS and token[0] in _WIF_FIRST:
        if is_wif(token) or _called_a_key(text, start, end, allowed):
            return SecretKind.PRIVATE_KEY
        return None
    if size in _BASE58_64_BYTES and len(base58.b58decode(token)) == 64:
        return SecretKind.PRIVATE_KEY if _called_a_key(text, start, end, allowed) else None
    return None


def is_wif(token: str) -> bool:
    """Whether ``token`` is a Wallet Import Format private key with a valid base58check checksum."""
    payload = _decode_check(token)
    if payload is None or payload[0] not in _WIF_VERSIONS:
        return False
    return len(payload) == 33 or (len(payload) == 34 and payload[-1] == 0x01)


def is_extended_private_key(token: str) -> bool:
    """Whether ``token`` is a BIP32 extended private key with a valid checksum and a known version."""
    payload = _decode_check(token)
    return payload is not None and len(payload) == _EXTENDED_PAYLOAD and payload[:4] in _EXTENDED_VERSIONS


def _decode_check(token: str) -> bytes | None:
    try:
        return base58.b58decode_check(token)
    except ValueError:
        return None


def _called_a_key(text: str, start: int, end: int, allowed: frozenset[str]) -> bool:
    if ALLOW_TXID in allowed:
        return _named_directly(text, start, end)
    before_key = context.nearest_before(context.KEY_LABEL, text, start)
    before_hash = context.nearest_before(context.PUBLIC_HASH_LABEL, text, start)
    if before_key is not None and (before_hash is None or before_key.distance < before_hash.distance):
        return True
    if _named_directly(text, start, end):
        return True
    if before_hash is not None:
        return False
    after_key = context.nearest_after(context.KEY_LABEL, text, end)
    after_hash = context.nearest_after(context.PUBLIC_HASH_LABEL, text, end)
    return after_key is not None and (after_hash is None or after_key.distance < after_hash.distance)


def _named_directly(text: str, start: int, end: int) -> bool:
    before = context.nearest_before(context.KEY_LABEL, text, start)
    if before is not None and context.names_directly(text, before.end, start):
        return True
    after = context.nearest_after(context.KEY_LABEL, text, end, reach=32)
    if after is None:
        return False
    match = _NAMED_AFTER.match(text, end, after.start)
    return match is not None and match.end() == after.start

"""EVM addresses (Ethereum, BNB Smart Chain, Arbitrum, …) with EIP-55 mixed-case checksums."""

from __future__ import annotations

import re

from Crypto.Hash import keccak

from core.validation.catalog import Network
from core.validation.result import ValidationResult, accept, reject
from core.validation.textnorm import a_or_an, describe_char, describe_char_zh

_HEX = frozenset("0123456789abcdefABCDEF")
_BARE_HEX40 = re.compile(r"[0-9a-fA-F]{40}")


def keccak256(data: bytes) -> bytes:
    """Return the Keccak-256 digest (Ethereum's hash, not NIST SHA3-256)."""
    return keccak.new(digest_bits=256, data=data).digest()


def to_checksum_address(hex40: str) -> str:
    """Return ``0x`` + the EIP-55 mixed-case form of a 40-hex-digit address (with or without 0x)."""
    body = hex40[2:] if hex40[:2] in ("0x", "0X") else hex40
    lowered = body.lower()
    digest = keccak256(lowered.encode("ascii")).hex()
    return "0x" + "".join(c.upper() if int(digest[i], 16) >= 8 else c for i, c in enumerate(lowered))


def check_evm(text: str, net: Network) -> ValidationResult[str]:
    """Validate an EVM address; a mixed-case address must match its EIP-55 checksum.

    All-lower-case and all-upper-case addresses carry no checksum and are valid by definition.
    The accepted value is the EIP-55 checksummed form.
    """
    if text[:2] not in ("0x", "0X"):
        if _BARE_HEX40.fullmatch(text):
            return reject(
                "missing_prefix",
                f"{a_or_an(net.label, capital=True)} address is 0x followed by 40 hex characters; "
                "yours has no 0x at the start. "
                "Please copy the whole address.",
                f"{net.label} 地址由 0x 加 40 个十六进制字符组成；您提供的开头缺少 0x，请复制完整地址。",
            )
        return reject(
            "wrong_prefix",
            f"{a_or_an(net.label, capital=True)} address starts with 0x; yours starts with {text[:2]!r}.",
            f"{net.label} 地址以 0x 开头；您提供的以 “{text[:2]}” 开头。",
        )
    body = text[2:]
    for position, char in enumerate(body, start=3):
        if char not in _HEX:
            return reject(
                "bad_character",
                f"{a_or_an(net.label, capital=True)} address contains only 0-9 and a-f after 0x; yours "
                f"has {describe_char(char)} "
                f"(character {position}).",
                f"{net.label} 地址在 0x 之后只包含 0-9 和 a-f；您提供的第 {position} 个字符是"
                f"{describe_char_zh(char)}。",
            )
    if len(body) != 40:
        return reject(
            "wrong_length",
            f"{a_or_an(net.label, capital=True)} address has 40 hex characters after 0x; yours has "
            f"{len(body)}. "
            f"A character is probably {'missing' if len(body) < 40 else 'extra'}.",
            f"{net.label} 地址在 0x 之后有 40 个十六进制字符；您提供的有 {len(body)} 个，"
            f"可能{'少了' if len(body) < 40 else '多了'}字符。",
        )
    checksummed = to_checksum_address(body)
    if body.lower() != body and body.upper() != body and "0x" + body != checksummed:
        return reject(
            "bad_checksum",
            "The checksum does not match: the capital letters in this address do not fit its EIP-55 "
            "checksum, so a character is probably mistyped. Please copy and paste the address.",
            "地址校验和不匹配：该地址的大小写不符合 EIP-55 校验规则，很可能有字符输错了。请直接复制粘"
            "贴地址。",
        )
    return accept(checksummed)

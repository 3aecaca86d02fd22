"""Segwit addresses: bech32 (BIP-173, witness v0) and bech32m (BIP-350, witness v1+).

The checksum polynomial, HRP expansion and bit regrouping come from the ``bech32`` reference package
(Pieter Wuille's implementation); that package predates BIP-350, so the bech32m constant is applied here.
"""

from __future__ import annotations

from enum import Enum

import bech32

from core.validation.catalog import Network
from core.validation.result import ValidationResult, accept, reject
from core.validation.textnorm import a_or_an, describe_char, describe_char_zh

BECH32_CONST = 1
BECH32M_CONST = 0x2BC830A3
_MAX_LENGTH = 90
_CHECKSUM_CHARS = 6


class Variant(Enum):
    """The two segwit checksum variants."""

    BECH32 = BECH32_CONST
    BECH32M = BECH32M_CONST


def encode_segwit(hrp: str, witness_version: int, program: bytes) -> str:
    """Encode a segwit address (bech32 for v0, bech32m for v1+); used by tests and tooling."""
    variant = Variant.BECH32 if witness_version == 0 else Variant.BECH32M
    five_bit = bech32.convertbits(list(program), 8, 5)
    if five_bit is None:
        raise ValueError("program does not regroup into 5-bit values")
    data = [witness_version, *five_bit]
    polymod = bech32.bech32_polymod(bech32.bech32_hrp_expand(hrp) + data + [0] * 6) ^ variant.value
    checksum = [(polymod >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(bech32.CHARSET[d] for d in data + checksum)


def check_segwit(text: str, hrp: str, net: Network) -> ValidationResult[str]:
    """Validate a segwit address whose human-readable part must be ``hrp`` ("bc", "ltc")."""
    if text.lower() != text and text.upper() != text:
        return reject(
            "bad_case",
            f"{a_or_an(net.label, capital=True)} address starting with {hrp}1 is written all in lower "
            "case (or all in upper case); "
            "yours mixes both. Please copy it again.",
            f"以 {hrp}1 开头的 {net.label} 地址要么全部小写、要么全部大写；您提供的大小写混用，请重新复制。",
        )
    lowered = text.lower()
    if not lowered.startswith(hrp + "1"):
        return reject(
            "wrong_prefix",
            f"{a_or_an(net.label, capital=True)} segwit address starts with {hrp}1.",
            f"{net.label} 隔离见证地址以 {hrp}1 开头。",
        )
    separator = len(hrp)
    data_part = lowered[separator + 1 :]
    for position, char in enumerate(data_part, start=separator + 2):
        if char not in bech32.CHARSET:
            return reject(
                "bad_character",
                f"{a_or_an(net.label, capital=True)} address starting with {hrp}1 cannot contain "
                f"{describe_char(char)} after the "
                f"prefix (character {position}): bech32 never uses 1, b, i or o there. Please check it.",
                f"以 {hrp}1 开头的 {net.label} 地址在前缀之后不可能出现{describe_char_zh(char)}"
                f"（第 {position} 个字符）：bech32 编码不使用 1、b、i、o。请核对。",
            )
    if len(lowered) > _MAX_LENGTH or len(data_part) < _CHECKSUM_CHARS + 1:
        return _length(text, hrp, net)
    values = [bech32.CHARSET.find(c) for c in data_part]
    constant = bech32.bech32_polymod(bech32.bech32_hrp_expand(hrp) + values)
    if constant not in (BECH32_CONST, BECH32M_CONST):
        return reject(
            "bad_checksum",
            "The checksum does not match: a character is probably mistyped. "
            "Please copy and paste the address instead of typing it.",
            "地址校验和不匹配：很可能有字符输错了。请直接复制粘贴地址，不要手动输入。",
        )
    witness_version, program_5bit = values[0], values[1:-_CHECKSUM_CHARS]
    expected = BECH32_CONST if witness_version == 0 else BECH32M_CONST
    program = bech32.convertbits(program_5bit, 5, 8, False)
    if witness_version > 16 or constant != expected or program is None:
        return reject(
            "bad_format",
            f"This {hrp}1… address is not well formed (wrong witness version or checksum variant). "
            "Please copy the address again from the wallet that gave it to you.",
            f"该 {hrp}1… 地址格式不正确（见证版本或校验类型有误）。请从提供地址的钱包重新复制。",
        )
    if not 2 <= len(program) <= 40 or (witness_version == 0 and len(program) not in (20, 32)):
        return _length(text, hrp, net)
    return accept(lowered)


def _length(text: str, hrp: str, net: Network) -> ValidationResult[str]:
    short, long = len(hrp) + 40, len(hrp) + 60
    return reject(
        "wrong_length",
        f"That is not the length of {a_or_an(net.label)} segwit address: a {hrp}1… address has {short} "
        f"or {long} "
        f"characters; yours has {len(text)}. A character is probably missing or extra.",
        f"这不是 {net.label} 隔离见证地址的长度：{hrp}1… 地址为 {short} 或 {long} 个字符，"
        f"您提供的有 {len(text)} 个，"
        "可能少了或多了字符。",
    )

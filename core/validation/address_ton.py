"""TON addresses: user-friendly base64 form (with CRC16 checksum) and raw ``workchain:hex`` form."""

from __future__ import annotations

import base64
import binascii
import re

from core.validation.catalog import Network
from core.validation.result import ValidationResult, accept, reject
from core.validation.textnorm import describe_char, describe_char_zh

_RAW = re.compile(r"(-1|0):([0-9a-fA-F]{64})")
_URL_SAFE = frozenset("-_")
_STANDARD = frozenset("+/")
_BASE64_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_+/")
_FRIENDLY_LENGTH = 48
_BOUNCEABLE = 0x11
_NON_BOUNCEABLE = 0x51
_TESTNET_FLAG = 0x80
_WORKCHAINS = (0x00, 0xFF)


def crc16_xmodem(data: bytes) -> int:
    """CRC-16/XMODEM, the checksum of TON user-friendly addresses."""
    return binascii.crc_hqx(data, 0)


def encode_ton_address(
    workchain: int, account: bytes, *, bounceable: bool = True, url_safe: bool = True
) -> str:
    """Encode a user-friendly mainnet TON address; used by tests and tooling."""
    if len(account) != 32 or workchain not in (0, -1):
        raise ValueError("a TON address is a 32-byte account id on workchain 0 or -1")
    body = bytes([_BOUNCEABLE if bounceable else _NON_BOUNCEABLE, workchain & 0xFF]) + account
    full = body + crc16_xmodem(body).to_bytes(2, "big")
    return (base64.urlsafe_b64encode(full) if url_safe else base64.b64encode(full)).decode("ascii")


def check_ton(text: str, net: Network) -> ValidationResult[str]:
    """Validate a TON address. Raw addresses carry no checksum; friendly ones carry a CRC16."""
    raw = _RAW.fullmatch(text)
    if raw is not None:
        return accept(f"{raw.group(1)}:{raw.group(2).lower()}")
    for position, char in enumerate(text, start=1):
        if char not in _BASE64_CHARS:
            return reject(
                "bad_character",
                f"A TON address contains only letters, digits, '-' and '_'; yours has {describe_char(char)} "
                f"(character {position}).",
                f"TON 地址只包含字母、数字、“-”和“_”；您提供的第 {position} 个字符是"
                f"{describe_char_zh(char)}。",
            )
    if len(text) != _FRIENDLY_LENGTH:
        return reject(
            "wrong_length",
            f"A TON address has 48 characters; yours has {len(text)}. "
            f"A character is probably {'missing' if len(text) < 48 else 'extra'}.",
            f"TON 地址有 48 个字符；您提供的有 {len(text)} 个，可能"
            f"{'少了' if len(text) < 48 else '多了'}字符。",
        )
    chars = set(text)
    if chars & _URL_SAFE and chars & _STANDARD:
        return reject(
            "bad_character",
            "This TON address mixes '-'/'_' with '+'/'/', which never happens in a real address: "
            "a character is probably mistyped.",
            "该 TON 地址同时含有“-”/“_”和“+”/“/”，真实地址不会这样：很可能有字符输错了。",
        )
    data = base64.b64decode(text.replace("-", "+").replace("_", "/"))
    if crc16_xmodem(data[:34]) != int.from_bytes(data[34:], "big"):
        return reject(
            "bad_checksum",
            "The checksum does not match: a character is probably mistyped. "
            "Please copy and paste the address instead of typing it.",
            "地址校验和不匹配：很可能有字符输错了。请直接复制粘贴地址，不要手动输入。",
        )
    flags, workchain = data[0], data[1]
    if flags & _TESTNET_FLAG:
        return reject(
            "testnet_address",
            "This is a TON TESTNET address; a deposit needs a real (mainnet) TON address.",
            "这是 TON 测试网地址；充值需要正式网（主网）的 TON 地址。",
        )
    if flags not in (_BOUNCEABLE, _NON_BOUNCEABLE) or workchain not in _WORKCHAINS:
        return reject(
            "bad_format",
            "This TON address is not well formed. Please copy it again from your wallet.",
            "该 TON 地址格式不正确，请从钱包重新复制。",
        )
    return accept(text)

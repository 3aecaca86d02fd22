"""Independent reference encoders for the tests, written from the specifications.

They share no code with core.validation, so a bug in the validators' decoding cannot hide behind the
same bug in the encoding used to generate test addresses.
"""

from __future__ import annotations

import base64
import hashlib

from Crypto.Hash import keccak

BTC_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
XRP_ALPHABET = "rpshnaf39wBUDNEGHJKLM4PQRST7VWXYZ2bcdeCg65jkm8oFqi1tuvAxyz"
BECH32_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
HEX_LOWER = "0123456789abcdef"


def b58encode(data: bytes, alphabet: str = BTC_ALPHABET) -> str:
    number = int.from_bytes(data, "big")
    out = ""
    while number:
        number, rem = divmod(number, 58)
        out = alphabet[rem] + out
    zeros = len(data) - len(data.lstrip(b"\0"))
    return alphabet[0] * zeros + out


def b58check(payload: bytes, alphabet: str = BTC_ALPHABET) -> str:
    checksum = hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4]
    return b58encode(payload + checksum, alphabet)


def _polymod(values: list[int]) -> int:
    generators = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
    chk = 1
    for value in values:
        top = chk >> 25
        chk = ((chk & 0x1FFFFFF) << 5) ^ value
        for i, gen in enumerate(generators):
            if (top >> i) & 1:
                chk ^= gen
    return chk


def _to_5bit(data: bytes) -> list[int]:
    acc, bits, out = 0, 0, []
    for byte in data:
        acc = (acc << 8) | byte
        bits += 8
        while bits >= 5:
            bits -= 5
            out.append((acc >> bits) & 31)
    if bits:
        out.append((acc << (5 - bits)) & 31)
    return out


def segwit_address(hrp: str, version: int, program: bytes) -> str:
    """BIP-173 (v0, constant 1) / BIP-350 (v1+, constant 0x2bc830a3) segwit address."""
    const = 1 if version == 0 else 0x2BC830A3
    data = [version, *_to_5bit(program)]
    expanded = [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]
    poly = _polymod(expanded + data + [0] * 6) ^ const
    checksum = [(poly >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(BECH32_CHARSET[d] for d in data + checksum)


def eip55(address20: bytes) -> str:
    lower = address20.hex()
    digest = keccak.new(digest_bits=256, data=lower.encode()).hexdigest()
    return "0x" + "".join(c.upper() if int(digest[i], 16) >= 8 else c for i, c in enumerate(lower))


def crc16_xmodem(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
            crc &= 0xFFFF
    return crc


def ton_address(
    workchain: int, account: bytes, *, bounceable: bool, url_safe: bool, testnet: bool = False
) -> str:
    flags = (0x11 if bounceable else 0x51) | (0x80 if testnet else 0)
    body = bytes([flags, workchain & 0xFF]) + account
    raw = body + crc16_xmodem(body).to_bytes(2, "big")
    return (base64.urlsafe_b64encode(raw) if url_safe else base64.b64encode(raw)).decode()


def xrp_classic(account_id: bytes) -> str:
    return b58check(b"\x00" + account_id, XRP_ALPHABET)


def xrp_x_address(account_id: bytes, tag: int | None) -> str:
    flag = b"\x00" if tag is None else b"\x01"
    tag_bytes = (tag or 0).to_bytes(4, "little") + bytes(4)
    return b58check(b"\x05\x44" + account_id + flag + tag_bytes, XRP_ALPHABET)

"""Base58check addresses: Bitcoin/Litecoin/Dogecoin legacy, TRON, and XRP (classic and X-address)."""

from __future__ import annotations

from functools import lru_cache

import base58

from core.validation.catalog import Network
from core.validation.result import ValidationResult, accept, reject
from core.validation.textnorm import a_or_an, describe_char, describe_char_zh

BITCOIN_ALPHABET = base58.BITCOIN_ALPHABET.decode("ascii")
RIPPLE_ALPHABET = base58.RIPPLE_ALPHABET.decode("ascii")
_CHECKSUM_BYTES = 4
_XRP_ACCOUNT_VERSION = 0x00
_X_ADDRESS_MAINNET = b"\x05\x44"
_X_ADDRESS_TESTNET = b"\x04\x93"


def bad_character(text: str, alphabet: str, net: Network) -> ValidationResult[str] | None:
    """Reject the first character outside ``alphabet``, naming it; ``None`` if all are allowed."""
    for position, char in enumerate(text, start=1):
        if char not in alphabet:
            return reject(
                "bad_character",
                f"{a_or_an(net.label, capital=True)} address cannot contain {describe_char(char)} "
                f"(character {position}): "
                "base58 leaves out 0, O, I and l because they look alike. Please check that character.",
                f"{net.label} 地址中不可能出现{describe_char_zh(char)}（第 {position} 个字符）："
                "base58 编码不使用 0、O、I、l 这几个易混淆的字符，请核对该字符。",
            )
    return None


@lru_cache(maxsize=64)
def _length_bounds(versions: tuple[int, ...], payload_length: int) -> tuple[int, int]:
    """Shortest and longest possible encodings of ``version + payload + checksum`` for the versions."""
    lows, highs = [], []
    for version in versions:
        lows.append(len(base58.b58encode(bytes([version]) + bytes(payload_length + 3) + b"\x01")))
        highs.append(len(base58.b58encode(bytes([version]) + b"\xff" * (payload_length + 4))))
    return min(lows), max(highs)


def _decode(text: str, alphabet: str, net: Network, body_length: int) -> bytes | ValidationResult[str]:
    """Decode and verify a base58check string of ``body_length`` bytes (without the checksum)."""
    raw = base58.b58decode(text, alphabet=alphabet.encode())
    if len(raw) != body_length + _CHECKSUM_BYTES:
        return reject(
            "wrong_length",
            f"That is not the length of {a_or_an(net.label)} address (yours has {len(text)} characters): "
            "a character is probably missing or extra. Please copy the address again.",
            f"这不是 {net.label} 地址的长度（您提供的有 {len(text)} 个字符）：可能少了或多了字符，请重"
            "新复制地址。",
        )
    try:
        return base58.b58decode_check(text, alphabet=alphabet.encode())
    except ValueError:
        return reject(
            "bad_checksum",
            "The checksum does not match: a character is probably mistyped. "
            "Please copy and paste the address instead of typing it.",
            "地址校验和不匹配：很可能有字符输错了。请直接复制粘贴地址，不要手动输入。",
        )


def check_base58check(text: str, net: Network) -> ValidationResult[str]:
    """Validate a Bitcoin-style or TRON address (version byte + 20-byte hash + 4-byte checksum)."""
    spec = net.address
    failed = bad_character(text, BITCOIN_ALPHABET, net)
    if failed is not None:
        return failed
    low, high = _length_bounds(spec.versions, spec.payload_length)
    decoded = _decode(text, BITCOIN_ALPHABET, net, 1 + spec.payload_length)
    if not low <= len(text) <= high or (
        isinstance(decoded, ValidationResult) and decoded.reason_code == "wrong_length"
    ):
        if low != high:
            return reject(
                "wrong_length",
                f"That is not the length of {a_or_an(net.label)} address (yours has {len(text)} characters): "
                "a character is probably missing or extra. Please copy the address again.",
                f"这不是 {net.label} 地址的长度（您提供的有 {len(text)} 个字符）：可能少了或多了字符，"
                "请重新复制地址。",
            )
        return reject(
            "wrong_length",
            f"{a_or_an(net.label, capital=True)} address is {low} characters long; "
            f"yours has {len(text)}. A character is probably {'missing' if len(text) < low else 'extra'}.",
            f"{net.label} 地址长度为 {low} 个字符，您提供的有 {len(text)} 个，"
            f"可能{'少了' if len(text) < low else '多了'}字符。",
        )
    if isinstance(decoded, ValidationResult):
        return decoded
    version = decoded[0]
    if version in spec.versions:
        return accept(text)
    if version in spec.testnet_versions:
        return _testnet(net)
    return reject(
        "wrong_version",
        f"This is a valid base58 address, but not {a_or_an(net.label)} address ({a_or_an(net.label)} "
        "address starts "
        f"with {spec.example}).",
        f"这是一个有效的 base58 地址，但不是 {net.label} 地址（{net.label} 地址以 {spec.example} 开头）。",
    )


def _testnet(net: Network) -> ValidationResult[str]:
    return reject(
        "testnet_address",
        f"This is {a_or_an(net.family.name.en)} TESTNET address; a deposit needs a real (mainnet) "
        f"{net.label} "
        "address.",
        f"这是{net.family.name.zh}测试网地址；充值需要正式网（主网）的 {net.label} 地址。",
    )


def check_xrp(text: str, net: Network) -> ValidationResult[str]:
    """Validate an XRP classic address ("r…") or X-address ("X…", destination tag included)."""
    failed = bad_character(text, RIPPLE_ALPHABET, net)
    if failed is not None:
        return failed
    is_x_address = text[:1] in ("X", "T") and len(text) > 40
    decoded = _decode(text, RIPPLE_ALPHABET, net, 31 if is_x_address else 21)
    if isinstance(decoded, ValidationResult):
        if decoded.reason_code == "wrong_length":
            return reject(
                "wrong_length",
                f"An XRP address starts with r and is 25–35 characters long (an X-address has 47); yours has "
                f"{len(text)}. A character is probably missing or extra.",
                f"XRP 地址以 r 开头，长度为 25–35 个字符（X 地址为 47 个），您提供的有 {len(text)} 个，"
                "可能少了或多了字符。",
            )
        return decoded
    if not is_x_address:
        if decoded[0] != _XRP_ACCOUNT_VERSION:
            return reject(
                "wrong_version",
                "This is a valid XRP Ledger string, but not an account address (an account address starts "
                "with r). Perhaps it is a seed or public key: never share your secret seed.",
                "这是一个有效的 XRP Ledger 字符串，但不是账户地址（账户地址以 r 开头）。它可能是种子或公钥："
                "请勿泄露您的私钥种子。",
            )
        return accept(text)
    prefix, flags, tag_bytes = decoded[:2], decoded[22], decoded[23:31]
    if prefix == _X_ADDRESS_TESTNET:
        return _testnet(net)
    tag_too_big = any(tag_bytes[4:])
    if prefix != _X_ADDRESS_MAINNET or flags > 1 or tag_too_big or (flags == 0 and any(tag_bytes)):
        return reject(
            "bad_format",
            "This X-address is not well formed. Please copy your classic address (it starts with r) "
            "and the destination tag instead.",
            "该 X 地址格式不正确。请改为复制以 r 开头的经典地址和目标标签 (Destination Tag)。",
        )
    return accept(text)


def decode_x_address(text: str) -> tuple[str, int | None]:
    """Split a valid mainnet X-address into its classic address and destination tag.

    Raises:
        ValueError: ``text`` is not a valid X-address.

    """
    decoded = base58.b58decode_check(text, alphabet=base58.RIPPLE_ALPHABET)
    if len(decoded) != 31 or decoded[:2] not in (_X_ADDRESS_MAINNET, _X_ADDRESS_TESTNET):
        raise ValueError("not an X-address")
    account = base58.b58encode_check(
        bytes([_XRP_ACCOUNT_VERSION]) + decoded[2:22], alphabet=base58.RIPPLE_ALPHABET
    )
    tag = int.from_bytes(decoded[23:27], "little") if decoded[22] == 1 else None
    return account.decode("ascii"), tag


def check_solana(text: str, net: Network) -> ValidationResult[str]:
    """Validate a Solana address: base58 of a 32-byte public key (Solana addresses carry no checksum)."""
    failed = bad_character(text, BITCOIN_ALPHABET, net)
    if failed is not None:
        return failed
    size = len(base58.b58decode(text))
    if size != 32 or not 32 <= len(text) <= 44:
        return reject(
            "wrong_length",
            f"A Solana address is 32–44 base58 characters and encodes 32 bytes; yours has {len(text)} "
            f"characters ({size} bytes). A character is probably missing or extra.",
            f"Solana 地址由 32–44 个 base58 字符组成（32 字节）；您提供的有 {len(text)} 个字符（{size} "
            "字节），"
            "可能少了或多了字符。",
        )
    return accept(text)

"""Transaction id (TXID / hash / signature) validation per network."""

from __future__ import annotations

import base64
import binascii
import re

import base58

from core.validation.address_base58 import BITCOIN_ALPHABET
from core.validation.addresses import networks_for_address, wrong_network_reason
from core.validation.catalog import Asset, AssetCatalog, Network, TxidKind, TxidSpec
from core.validation.result import ValidationResult, accept, reject
from core.validation.textnorm import a_or_an, compact, describe_char, describe_char_zh, strip_label

TXID_LABELS = (
    "transaction hash",
    "transaction id",
    "tx hash",
    "txhash",
    "tx id",
    "txid",
    "hash",
    "tx",
    "交易哈希",
    "交易id",
    "交易号",
    "哈希值",
    "哈希",
)
_HEX = frozenset("0123456789abcdefABCDEF")
_URL = re.compile(r"(?i)^(?:https?://)?[a-z0-9.-]+\.[a-z]{2,}/")
_SIGNATURE_BYTES = 64
_MIN_SIGNATURE_CHARS = 80


def clean_txid(text: str) -> str:
    """Strip labels, whitespace and an explorer link around a TXID ("https://…/tx/<id>?x=y")."""
    clean = compact(strip_label(text, TXID_LABELS))
    if _URL.match(clean):
        path = re.split(r"[?#]", clean.split("://", 1)[-1], maxsplit=1)[0]
        fragment = clean.split("#", 1)[1] if "#" in clean else ""
        segments = [s for s in (path + "/" + fragment.split("?", 1)[0]).split("/") if s]
        clean = max(segments, key=len) if segments else clean
    return clean


def check_txid(text: str, net: Network) -> ValidationResult[str]:
    """Check an already cleaned TXID against one network's format (no cross-network hints)."""
    spec = net.txid
    if spec.kind is TxidKind.HEX64:
        return _hex(text, net, spec, prefixed=False)
    if spec.kind is TxidKind.EVM:
        return _hex(text, net, spec, prefixed=True)
    if spec.kind is TxidKind.BASE58_SIGNATURE:
        return _signature(text, net)
    return _ton(text, net)


def networks_for_txid(text: str, catalog: AssetCatalog) -> tuple[Network, ...]:
    """Return every catalogued network whose TXID format ``text`` fits (hex TXIDs fit several)."""
    clean = clean_txid(text)
    verdicts: dict[TxidSpec, bool] = {}
    matches: list[Network] = []
    for net in catalog.networks:
        if net.txid not in verdicts:
            verdicts[net.txid] = check_txid(clean, net).ok
        if verdicts[net.txid]:
            matches.append(net)
    return tuple(matches)


def validate_txid(
    text: str, network: str | Network, catalog: AssetCatalog, asset: str | Asset | None = None
) -> ValidationResult[str]:
    """Validate a transaction id for the chosen network.

    Args:
        text: The customer's answer; labels ("TXID:"), whitespace and explorer links are removed.
        network: The chosen network (id, alias or :class:`Network`).
        catalog: The asset catalogue.
        asset: The asset, if known, to narrow a wrong-network hint.

    Returns:
        The normalised TXID (lower-case hex; upper-case for XRP; ``0x…`` for EVM; hex for TON), or a
        reason: ``empty``, ``bad_character``, ``wrong_length``, ``missing_prefix``, ``address_not_txid``
        or ``wrong_network``.

    """
    net = catalog.network(network)
    clean = clean_txid(text)
    if not clean:
        return reject("empty", f"Please send the {net.label} TXID.", f"请提供 {net.label} 交易哈希 (TXID)。")
    result = check_txid(clean, net)
    if result.ok:
        return result
    if networks_for_address(clean, catalog):
        return reject(
            "address_not_txid",
            "That is a wallet address, not a transaction ID. The TXID (transaction hash) is shown in the "
            "details of the transfer in your wallet or withdrawal history.",
            "这是钱包地址，不是交易哈希 (TXID)。TXID 可以在钱包或提现记录的转账详情中找到。",
        )
    others = tuple(n for n in networks_for_txid(clean, catalog) if n.txid != net.txid)
    if not others:
        return result
    if result.reason_code == "missing_prefix":
        return result
    return wrong_network_reason("txid", net, others, catalog, asset)


def _hex(text: str, net: Network, spec: TxidSpec, *, prefixed: bool) -> ValidationResult[str]:
    has_prefix = text[:2] in ("0x", "0X")
    body = text[2:] if has_prefix else text
    shape_en = "0x followed by 64 hex characters" if prefixed else "64 hex characters (0-9, a-f)"
    shape_zh = "0x 加 64 个十六进制字符" if prefixed else "64 个十六进制字符（0-9、a-f）"
    subject_en, subject_zh = f"{a_or_an(net.label, capital=True)} TXID", f"{net.label} 交易哈希 (TXID)"
    offset = 3 if has_prefix else 1
    for position, char in enumerate(body, start=offset):
        if char not in _HEX:
            return reject(
                "bad_character",
                f"{subject_en} is {shape_en}; yours has {describe_char(char)} (character {position}).",
                f"{subject_zh}由{shape_zh}组成；您提供的第 {position} 个字符是{describe_char_zh(char)}。",
            )
    if len(body) != 64:
        return reject(
            "wrong_length",
            f"{subject_en} is {shape_en}; yours has {len(body)}. "
            f"A character is probably {'missing' if len(body) < 64 else 'extra'}.",
            f"{subject_zh}由{shape_zh}组成；您提供的有 {len(body)} 个，可能"
            f"{'少了' if len(body) < 64 else '多了'}字符。",
        )
    if prefixed and not has_prefix:
        return reject(
            "missing_prefix",
            f"{subject_en} is {shape_en}; yours has no 0x at the start. If it comes from another network "
            "(such as TRC20), please check which network you used.",
            f"{subject_zh}由{shape_zh}组成；您提供的开头缺少 0x。如果它来自其他网络（例如 TRC20），请核"
            "对您使用的网络。",
        )
    if has_prefix and not prefixed:
        return reject(
            "unexpected_prefix",
            f"{subject_en} is {shape_en}, without 0x.",
            f"{subject_zh}由{shape_zh}组成，不带 0x。",
        )
    value = body.upper() if spec.uppercase else body.lower()
    return accept("0x" + value if prefixed else value)


def _signature(text: str, net: Network) -> ValidationResult[str]:
    for position, char in enumerate(text, start=1):
        if char not in BITCOIN_ALPHABET:
            return reject(
                "bad_character",
                "A Solana transaction signature is written in base58, which never uses "
                f"{describe_char(char)} "
                f"(character {position}): base58 leaves out 0, O, I and l.",
                f"Solana 交易签名使用 base58 编码，不可能出现{describe_char_zh(char)}（第 {position} 个"
                "字符）："
                "base58 不使用 0、O、I、l。",
            )
    size = len(base58.b58decode(text))
    # 64 random bytes take 87-88 base58 characters; far fewer means runs of zero bytes, not a signature.
    if size != _SIGNATURE_BYTES or len(text) < _MIN_SIGNATURE_CHARS:
        return reject(
            "wrong_length",
            f"A Solana transaction signature is 87–88 base58 characters (64 bytes); yours has {len(text)} "
            f"characters ({size} bytes). A character is probably missing or extra.",
            f"Solana 交易签名由 87–88 个 base58 字符组成（64 字节）；您提供的有 {len(text)} 个字符（"
            f"{size} 字节），"
            "可能少了或多了字符。",
        )
    return accept(text)


def _ton(text: str, net: Network) -> ValidationResult[str]:
    if len(text) == 64 and set(text) <= _HEX:
        return accept(text.lower())
    if len(text) in (43, 44) and re.fullmatch(r"[A-Za-z0-9+/_-]{43}=?", text):
        try:
            raw = base64.b64decode(text.replace("-", "+").replace("_", "/").rstrip("=") + "=", validate=True)
        except binascii.Error:
            raw = b""
        if len(raw) == 32:
            return accept(raw.hex())
    return reject(
        "wrong_length" if set(text) <= _HEX else "bad_format",
        f"A TON transaction hash is 64 hex characters (or 44 base64 characters); yours has {len(text)} "
        "characters. Please copy it again from Tonviewer or your wallet.",
        f"TON 交易哈希为 64 个十六进制字符（或 44 个 base64 字符）；您提供的有 {len(text)} 个字符，"
        "请从 Tonviewer 或钱包重新复制。",
    )

"""Address validation for any catalogued network, and recognition of which networks an address fits."""

from __future__ import annotations

import logging

from core.validation.address_base58 import check_base58check, check_solana, check_xrp
from core.validation.address_evm import check_evm
from core.validation.address_segwit import check_segwit
from core.validation.address_ton import check_ton
from core.validation.catalog import AddressKind, AddressSpec, Asset, AssetCatalog, Network
from core.validation.result import ValidationResult, reject
from core.validation.textnorm import a_or_an, compact, strip_label

logger = logging.getLogger(__name__)

ADDRESS_LABELS = (
    "deposit address",
    "wallet address",
    "address",
    "addr",
    "充值地址",
    "收款地址",
    "钱包地址",
    "地址",
)


def check_address(text: str, net: Network) -> ValidationResult[str]:
    """Check an already cleaned address against one network's format (no cross-network hints)."""
    spec = net.address
    if spec.kind is AddressKind.BASE58CHECK:
        lowered = text.lower()
        if spec.segwit_hrp and lowered.startswith(spec.segwit_hrp + "1"):
            return check_segwit(text, spec.segwit_hrp, net)
        if spec.testnet_hrp and lowered.startswith(spec.testnet_hrp + "1"):
            return reject(
                "testnet_address",
                f"This is {a_or_an(net.family.name.en)} TESTNET address; a deposit needs a real "
                f"(mainnet) {net.label} "
                "address.",
                f"这是{net.family.name.zh}测试网地址；充值需要正式网（主网）的 {net.label} 地址。",
            )
        return check_base58check(text, net)
    if spec.kind is AddressKind.EVM:
        return check_evm(text, net)
    if spec.kind is AddressKind.SOLANA:
        return check_solana(text, net)
    if spec.kind is AddressKind.XRP:
        return check_xrp(text, net)
    return check_ton(text, net)


def networks_for_address(text: str, catalog: AssetCatalog) -> tuple[Network, ...]:
    """Return every catalogued network on which ``text`` is a valid address (checksums included)."""
    clean = compact(text)
    verdicts: dict[AddressSpec, bool] = {}
    matches: list[Network] = []
    for net in catalog.networks:
        if net.address not in verdicts:
            verdicts[net.address] = check_address(clean, net).ok
        if verdicts[net.address]:
            matches.append(net)
    return tuple(matches)


def validate_address(
    text: str, network: str | Network, catalog: AssetCatalog, asset: str | Asset | None = None
) -> ValidationResult[str]:
    """Validate a deposit or withdrawal address for the chosen network.

    Args:
        text: The customer's answer; a leading label ("address:", "地址：") and whitespace are ignored.
        network: The network the customer chose (id, alias or :class:`Network`).
        catalog: The asset catalogue.
        asset: The asset, if known, so that a wrong-network hint names networks that carry it.

    Returns:
        The normalised address (EIP-55 form for EVM, lower case for segwit), or a specific reason:
        ``empty``, ``bad_character``, ``wrong_length``, ``bad_checksum``, ``bad_case``, ``testnet_address``,
        ``wrong_version``, ``missing_prefix``, ``wrong_prefix``, ``bad_format`` or ``wrong_network``.

    """
    net = catalog.network(network)
    clean = compact(strip_label(text, ADDRESS_LABELS))
    if not clean:
        return reject(
            "empty",
            f"Please send the {net.label} address.",
            f"请提供 {net.label} 地址。",
        )
    result = check_address(clean, net)
    if result.ok or result.reason_code == "testnet_address":
        return result
    others = networks_for_address(clean, catalog)
    if others:
        logger.debug("address for %s fits %s instead", net.id, [n.id for n in others])
        return wrong_network_reason("address", net, others, catalog, asset)
    return result


def wrong_network_reason(
    what: str, chosen: Network, fits: tuple[Network, ...], catalog: AssetCatalog, asset: str | Asset | None
) -> ValidationResult[str]:
    """Explain that an address or TXID belongs to other networks than the chosen one.

    Args:
        what: ``"address"`` or ``"txid"``.
        chosen: The network the customer chose.
        fits: Networks on which the value is valid.
        catalog: The asset catalogue.
        asset: The asset, to narrow the suggestion to networks that carry it.

    """
    candidates = fits
    if asset is not None:
        carried = set(catalog.asset(asset).networks)
        candidates = tuple(n for n in fits if n.id in carried) or fits
    families = list(dict.fromkeys(n.family for n in candidates))
    family_en = _join_en([f.name.en for f in families])
    family_zh = "、".join(f.name.zh for f in families)
    labels = [n.label for n in candidates]
    listed_en = _join_en(labels)
    listed_zh = "、".join(labels)
    noun_en = "address" if what == "address" else "transaction ID"
    noun_zh = "地址" if what == "address" else "交易哈希 (TXID)"
    return reject(
        "wrong_network",
        f"That looks like {_article(family_en)} {family_en} {noun_en}, but you chose {chosen.label}. "
        f"Did you mean {listed_en}?",
        f"这看起来是{family_zh}的{noun_zh}，但您选择的是 {chosen.label}。您是不是指 {listed_zh}？",
    )


def _join_en(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def _article(word: str) -> str:
    # "an EVM", "an XRP Ledger" (ex-), "a TRON": letter names, not spelling, decide here.
    return "an" if word[:1] in "AEIOX" else "a"

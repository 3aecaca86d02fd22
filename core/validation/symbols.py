"""Which coin and which network: symbols, aliases ("tether", "泰达币", "trc-20", "波场") and support."""

from __future__ import annotations

import difflib

from core.validation.catalog import Asset, AssetCatalog, Network
from core.validation.result import ValidationResult, accept, reject
from core.validation.textnorm import alias_key, fold, strip_label

ASSET_LABELS = ("coin", "asset", "token", "currency", "币种", "币")
NETWORK_LABELS = ("network", "chain", "网络", "链")


def validate_asset(text: str, catalog: AssetCatalog) -> ValidationResult[Asset]:
    """Resolve the coin a customer names.

    Returns:
        The :class:`Asset`, or a reason: ``empty``, ``network_not_asset`` (they named a network such as
        TRC20) or ``unknown_asset`` (with a "did you mean" when a symbol is close).

    """
    clean = strip_label(text, ASSET_LABELS).strip().rstrip("。.!！")
    if not clean:
        return reject("empty", "Which coin did you send?", "您转的是哪种币？")
    asset = catalog.find_asset(clean)
    if asset is not None:
        return accept(asset)
    network = catalog.find_network(clean)
    if network is not None:
        examples = ", ".join(a.symbol for a in catalog.assets if network.id in a.networks)
        return reject(
            "network_not_asset",
            f"{network.label} is a network, not a coin. Which coin did you send on it ({examples})?",
            f"{network.label} 是网络，不是币种。您在该网络上转的是哪种币（{examples}）？",
        )
    supported = ", ".join(a.symbol for a in catalog.assets)
    guess = _closest(clean, {alias_key(a.symbol): a.symbol for a in catalog.assets})
    hint_en = f" Did you mean {guess}?" if guess else ""
    hint_zh = f"您是不是指 {guess}？" if guess else ""
    return reject(
        "unknown_asset",
        f"“{fold(clean)}” is not a coin we support.{hint_en} We support: {supported}.",
        f"我们不支持“{fold(clean)}”。{hint_zh}支持的币种：{supported}。",
    )


def validate_network(text: str, asset: str | Asset, catalog: AssetCatalog) -> ValidationResult[Network]:
    """Resolve the network a customer names and check the asset can travel on it.

    Returns:
        The :class:`Network`, or a reason: ``empty``, ``asset_not_network`` (they named the coin),
        ``unsupported_network`` (listing the networks the asset supports) or ``unknown_network``.

    """
    chosen = catalog.asset(asset)
    options = catalog.networks_of(chosen)
    listed = ", ".join(n.label for n in options)
    clean = strip_label(text, NETWORK_LABELS).strip().rstrip("。.!！")
    if not clean:
        return reject(
            "empty",
            f"Which network did you send the {chosen.symbol} on? {chosen.symbol} can be sent on: {listed}.",
            f"您是通过哪个网络转的 {chosen.symbol}？{chosen.symbol} 支持：{listed}。",
        )
    network = catalog.find_network(clean)
    if network is None:
        named_asset = catalog.find_asset(clean)
        if named_asset is not None:
            return reject(
                "asset_not_network",
                f"{named_asset.symbol} is the coin; which network did you send it on? "
                f"{chosen.symbol} can be sent on: {listed}.",
                f"{named_asset.symbol} 是币种；请问您是通过哪个网络转的？{chosen.symbol} 支持：{listed}。",
            )
        keys = {alias_key(n.label): n.label for n in options} | {alias_key(n.id): n.label for n in options}
        guess = _closest(clean, keys)
        hint_en = f" Did you mean {guess}?" if guess else ""
        hint_zh = f"您是不是指 {guess}？" if guess else ""
        return reject(
            "unknown_network",
            f"I don't recognise the network “{fold(clean)}”.{hint_en} {chosen.symbol} can be sent on: "
            f"{listed}.",
            f"无法识别网络“{fold(clean)}”。{hint_zh}{chosen.symbol} 支持：{listed}。",
        )
    if network.id not in chosen.networks:
        return reject(
            "unsupported_network",
            f"We don't support {chosen.symbol} on {network.label}. {chosen.symbol} can be sent on: {listed}.",
            f"我们不支持通过 {network.label} 充值 {chosen.symbol}。{chosen.symbol} 支持：{listed}。",
        )
    return accept(network)


def _closest(text: str, keys: dict[str, str]) -> str | None:
    found = difflib.get_close_matches(alias_key(text), list(keys), n=1, cutoff=0.6)
    return keys[found[0]] if found else None

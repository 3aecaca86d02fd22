"""Cross-check of asset, network, address and TXID: do they all point at the same network."""

from __future__ import annotations

from dataclasses import dataclass

from core.validation.addresses import networks_for_address, validate_address, wrong_network_reason
from core.validation.catalog import Asset, AssetCatalog, Network
from core.validation.result import Reason
from core.validation.txids import networks_for_txid, validate_txid


@dataclass(frozen=True, slots=True)
class ConsistencyResult:
    """Verdict of :func:`check_consistency`.

    Attributes:
        ok: Asset, network, address and TXID agree.
        reason_code: ``unsupported_network``, ``wrong_network``, ``not_on_asset_networks`` or the code of
            the address/TXID validator when the value fits no network at all.
        reason: Explanation for the customer.
        suggested_networks: Network ids the address/TXID does fit (and the asset travels on), best first.

    """

    ok: bool
    reason_code: str | None = None
    reason: Reason | None = None
    suggested_networks: tuple[str, ...] = ()


def check_consistency(
    asset: str | Asset,
    network: str | Network,
    address: str | None = None,
    txid: str | None = None,
    *,
    catalog: AssetCatalog,
) -> ConsistencyResult:
    """Say whether the address or TXID fits another network better than the chosen one.

    Example: USDT, TRC20 and an ``0x…`` address give ``wrong_network`` with "That looks like an EVM
    address, but you chose TRC20. Did you mean ERC20, BEP20, …?" and the EVM networks as suggestions.

    Args:
        asset: The coin (symbol, alias or :class:`Asset`).
        network: The chosen network (id, alias or :class:`Network`).
        address: The deposit/withdrawal address, if known.
        txid: The transaction id, if known.
        catalog: The asset catalogue.

    """
    coin, net = catalog.asset(asset), catalog.network(network)
    carried = set(coin.networks)
    fits: list[tuple[str, str, tuple[Network, ...]]] = []
    if address:
        fits.append(("address", address, networks_for_address(address, catalog)))
    if txid:
        fits.append(("txid", txid, networks_for_txid(txid, catalog)))
    common = _common([f[2] for f in fits if f[2]])
    suggestions = tuple(n.id for n in common if n.id in carried)
    if net.id not in carried:
        listed = ", ".join(n.label for n in catalog.networks_of(coin))
        return ConsistencyResult(
            ok=False,
            reason_code="unsupported_network",
            reason=Reason(
                en=f"We don't support {coin.symbol} on {net.label}. {coin.symbol} can be sent on: {listed}.",
                zh=f"我们不支持通过 {net.label} 充值 {coin.symbol}。{coin.symbol} 支持：{listed}。",
            ),
            suggested_networks=suggestions or coin.networks,
        )
    for what, value, networks in fits:
        if net in networks:
            continue
        if not networks:
            check = validate_address if what == "address" else validate_txid
            failed = check(value, net, catalog, coin)
            return ConsistencyResult(False, failed.reason_code, failed.reason, suggestions)
        on_asset = tuple(n for n in networks if n.id in carried)
        if not on_asset:
            labels = ", ".join(n.label for n in networks)
            noun_en, noun_zh = ("address", "地址") if what == "address" else ("transaction ID", "交易哈希")
            return ConsistencyResult(
                ok=False,
                reason_code="not_on_asset_networks",
                reason=Reason(
                    en=f"This {noun_en} belongs to {labels}, but you chose {net.label}, and we don't support "
                    f"{coin.symbol} on {labels}. Please check the {noun_en} and the network.",
                    zh=f"该{noun_zh}属于 {labels}，但您选择的是 {net.label}，"
                    f"而且我们不支持通过 {labels} 充值 {coin.symbol}。请核对{noun_zh}和网络。",
                ),
            )
        wrong = wrong_network_reason(what, net, on_asset, catalog, coin)
        return ConsistencyResult(
            ok=False,
            reason_code=wrong.reason_code,
            reason=wrong.reason,
            suggested_networks=suggestions or tuple(n.id for n in on_asset),
        )
    return ConsistencyResult(ok=True)


def _common(groups: list[tuple[Network, ...]]) -> tuple[Network, ...]:
    """Networks present in every group, in the order of the first group."""
    if not groups:
        return ()
    rest = [set(g) for g in groups[1:]]
    return tuple(n for n in groups[0] if all(n in g for g in rest))

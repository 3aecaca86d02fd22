from __future__ import annotations

from pathlib import Path

import pytest

from core.validation import (
    DEFAULT_CATALOG_PATH,
    AddressKind,
    AssetCatalog,
    CatalogError,
    MemoPolicy,
    TxidKind,
    load_asset_catalog,
)

MINIMAL = """
version: 1
families:
  tron: {en: TRON, zh: 波场}
networks:
  - id: TRON
    label: TRC20
    name: {en: TRON, zh: 波场}
    aliases: [trc20, 波场]
    family: tron
    address: {kind: base58check, versions: [0x41]}
    txid: {kind: hex64}
    memo: {policy: none}
    explorers: [Tronscan]
assets:
  - symbol: USDT
    name: {en: Tether, zh: 泰达币}
    aliases: [tether]
    decimals: 6
    networks: [TRON]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "assets.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_catalogue_has_the_required_assets(catalog: AssetCatalog) -> None:
    symbols = {a.symbol for a in catalog.assets}
    assert {"BTC", "ETH", "USDT", "USDC", "BNB", "TRX", "SOL", "XRP", "LTC", "DOGE", "TON"} <= symbols
    networks = {n.id for n in catalog.networks}
    assert {
        "BTC",
        "ETH",
        "BSC",
        "TRON",
        "SOL",
        "XRP",
        "LTC",
        "DOGE",
        "TON",
        "ARBITRUM",
        "POLYGON",
    } <= networks
    assert catalog.network("XRP").memo.policy is MemoPolicy.REQUIRED
    assert catalog.network("TON").memo.policy is MemoPolicy.REQUIRED
    assert catalog.network("TRC20").memo.policy is MemoPolicy.NONE
    assert catalog.network("ERC20").txid.kind is TxidKind.EVM
    assert catalog.network("波场").address.kind is AddressKind.BASE58CHECK
    assert "Tronscan" in catalog.network("TRON").explorers
    assert DEFAULT_CATALOG_PATH.name == "assets.yaml"


def test_every_asset_network_exists(catalog: AssetCatalog) -> None:
    for asset in catalog.assets:
        assert catalog.networks_of(asset)


def test_catalogue_values_are_frozen(catalog: AssetCatalog) -> None:
    with pytest.raises(AttributeError):
        catalog.assets[0].decimals = 2  # type: ignore[misc]


def test_minimal_file_loads(tmp_path: Path) -> None:
    loaded = load_asset_catalog(write(tmp_path, MINIMAL))
    assert loaded.find_asset("TETHER") is not None
    assert loaded.find_network("TRC-20") is not None
    assert loaded.find_network("ERC20") is None
    with pytest.raises(KeyError, match="unknown network"):
        loaded.network("ERC20")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("networks: [TRON]", "networks: [TRON, ETH]"), r"asset USDT lists unknown networks \['ETH'\]"),
        (("kind: hex64", "kind: hex65"), r"networks\[0\] \(TRON\)\.txid: field 'kind' must be one of"),
        (("family: tron", "family: tronn"), r"networks\[0\] \(TRON\): unknown family 'tronn'"),
        (
            ("decimals: 6", "decimals: -1"),
            r"assets\[0\] \(USDT\): field 'decimals' must be a non-negative integer",
        ),
        (("aliases: [tether]", "aliases: [trc20]"), None),
        (("aliases: [trc20, 波场]", "aliases: [trc20, TRC-20]"), None),
        (("version: 1", "version: 2"), r"unsupported catalogue version 2"),
        (("    label: TRC20\n", ""), r"networks\[0\] \(TRON\): field 'label' must be a non-empty string"),
        (("versions: [0x41]", "versions: [300]"), r"field 'versions' must be a list of byte values"),
        (("versions: [0x41]", "versions: []"), r"needs at least one version byte"),
    ],
)
def test_malformed_entries_name_file_and_entry(
    tmp_path: Path, change: tuple[str, str], message: str | None
) -> None:
    path = write(tmp_path, MINIMAL.replace(*change))
    if message is None:
        # An alias shared between an asset and a network is fine (customers say "TRC20 USDT").
        load_asset_catalog(path)
        return
    with pytest.raises(CatalogError, match=message) as caught:
        load_asset_catalog(path)
    assert str(path) in str(caught.value)


def test_duplicate_alias_between_two_networks(tmp_path: Path) -> None:
    second = MINIMAL.split("assets:")[0].split("networks:\n")[1].replace("id: TRON", "id: TRON2")
    text = MINIMAL.replace("networks:\n", "networks:\n" + second, 1)
    with pytest.raises(CatalogError, match="alias 'TRC20' of network TRON is already used by network TRON2"):
        load_asset_catalog(write(tmp_path, text))


def test_unreadable_and_invalid_files(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="cannot read"):
        load_asset_catalog(tmp_path / "missing.yaml")
    with pytest.raises(CatalogError, match="not valid YAML"):
        load_asset_catalog(write(tmp_path, "networks: [unclosed"))
    with pytest.raises(CatalogError, match="expected a mapping"):
        load_asset_catalog(write(tmp_path, "- just a list"))

from __future__ import annotations

import pytest

from core.validation import AssetCatalog, validate_asset, validate_network


@pytest.mark.parametrize(
    ("text", "symbol"),
    [
        ("USDT", "USDT"),
        ("usdt", "USDT"),
        ("tether", "USDT"),
        ("泰达币", "USDT"),
        ("Ｕｓｄｔ", "USDT"),
        ("比特币", "BTC"),
        ("Bitcoin", "BTC"),
        ("以太坊", "ETH"),
        ("ether", "ETH"),
        ("usd coin", "USDC"),
        ("币安币", "BNB"),
        ("trx", "TRX"),
        ("波场币", "TRX"),
        ("solana", "SOL"),
        ("ripple", "XRP"),
        ("莱特币", "LTC"),
        ("狗狗币", "DOGE"),
        ("toncoin", "TON"),
        ("TON", "TON"),
        ("coin: usdt", "USDT"),
    ],
)
def test_asset_aliases(catalog: AssetCatalog, text: str, symbol: str) -> None:
    result = validate_asset(text, catalog)
    assert result.ok and result.value is not None
    assert result.value.symbol == symbol


def test_unknown_asset_suggests_a_close_symbol(catalog: AssetCatalog) -> None:
    result = validate_asset("UDST", catalog)
    assert result.reason_code == "unknown_asset"
    assert result.reason is not None
    assert "Did you mean USDT?" in result.reason.en
    assert "USDT" in result.reason.zh


def test_network_given_as_asset(catalog: AssetCatalog) -> None:
    result = validate_asset("TRC20", catalog)
    assert result.reason_code == "network_not_asset"
    assert result.reason is not None
    assert "USDT" in result.reason.en and "TRX" in result.reason.en


@pytest.mark.parametrize(
    ("text", "asset", "network"),
    [
        ("TRC20", "USDT", "TRON"),
        ("trc-20", "USDT", "TRON"),
        ("TRC 20", "USDT", "TRON"),
        ("tron", "USDT", "TRON"),
        ("波场", "USDT", "TRON"),
        ("ERC20", "USDT", "ETH"),
        ("erc-20", "USDC", "ETH"),
        ("以太坊", "ETH", "ETH"),
        ("BEP20", "USDT", "BSC"),
        ("bsc", "BNB", "BSC"),
        ("币安智能链", "USDT", "BSC"),
        ("BNB Smart Chain", "USDT", "BSC"),
        ("Solana", "USDC", "SOL"),
        ("SPL", "USDT", "SOL"),
        ("Arbitrum One", "ETH", "ARBITRUM"),
        ("matic", "USDT", "POLYGON"),
        ("马蹄链", "USDC", "POLYGON"),
        ("base", "USDC", "BASE"),
        ("network: ton", "USDT", "TON"),
        ("BTC", "BTC", "BTC"),
        ("狗狗币", "DOGE", "DOGE"),
    ],
)
def test_network_aliases(catalog: AssetCatalog, text: str, asset: str, network: str) -> None:
    result = validate_network(text, asset, catalog)
    assert result.ok, result.reason
    assert result.value is not None and result.value.id == network


def test_unsupported_network_lists_the_supported_ones(catalog: AssetCatalog) -> None:
    result = validate_network("BEP20", "TRX", catalog)
    assert result.reason_code == "unsupported_network"
    assert result.reason is not None
    assert result.reason.en == "We don't support TRX on BEP20. TRX can be sent on: TRC20."
    assert "TRC20" in result.reason.zh


def test_unsupported_network_for_usdt(catalog: AssetCatalog) -> None:
    result = validate_network("Dogecoin", "USDT", catalog)
    assert result.reason is not None
    for label in ("ERC20", "TRC20", "BEP20", "Solana"):
        assert label in result.reason.en


def test_typo_in_network_gets_a_suggestion(catalog: AssetCatalog) -> None:
    result = validate_network("TRC2O", "USDT", catalog)
    assert result.reason_code == "unknown_network"
    assert result.reason is not None
    assert "Did you mean TRC20?" in result.reason.en


def test_asset_named_instead_of_network(catalog: AssetCatalog) -> None:
    result = validate_network("USDT", "USDT", catalog)
    assert result.reason_code == "asset_not_network"


def test_empty_network_lists_options(catalog: AssetCatalog) -> None:
    result = validate_network(" ", "USDC", catalog)
    assert result.reason_code == "empty"
    assert result.reason is not None and "Base" in result.reason.en

from __future__ import annotations

from core.validation import AssetCatalog, check_consistency

EVM_ADDRESS = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
TRON_ADDRESS = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"
HEX_TXID = "3f5e" + "ab" * 30


def test_evm_address_on_trc20_suggests_evm_networks(catalog: AssetCatalog) -> None:
    result = check_consistency("USDT", "TRC20", address=EVM_ADDRESS, catalog=catalog)
    assert not result.ok
    assert result.reason_code == "wrong_network"
    assert result.suggested_networks[:2] == ("ETH", "BSC")
    assert "BASE" not in result.suggested_networks  # USDT is not on Base in the catalogue
    assert result.reason is not None
    assert "EVM" in result.reason.en and "Did you mean ERC20, BEP20" in result.reason.en
    assert "您是不是指 ERC20、BEP20" in result.reason.zh


def test_matching_details_are_consistent(catalog: AssetCatalog) -> None:
    result = check_consistency("USDT", "波场", address=TRON_ADDRESS, txid=HEX_TXID, catalog=catalog)
    assert result.ok and result.reason is None and result.suggested_networks == ()


def test_evm_address_and_hash_agree_on_evm(catalog: AssetCatalog) -> None:
    assert check_consistency("USDC", "Base", address=EVM_ADDRESS, txid="0x" + "1" * 64, catalog=catalog).ok


def test_hex_txid_on_erc20_points_to_hex_networks_of_the_asset(catalog: AssetCatalog) -> None:
    result = check_consistency("USDT", "ERC20", txid=HEX_TXID, catalog=catalog)
    assert result.reason_code == "wrong_network"
    assert set(result.suggested_networks) == {"TRON", "TON"}


def test_address_and_txid_narrow_the_suggestion_together(catalog: AssetCatalog) -> None:
    result = check_consistency("USDT", "ERC20", address=TRON_ADDRESS, txid=HEX_TXID, catalog=catalog)
    assert result.suggested_networks == ("TRON",)


def test_network_that_does_not_carry_the_asset(catalog: AssetCatalog) -> None:
    result = check_consistency("TRX", "BEP20", address=TRON_ADDRESS, catalog=catalog)
    assert result.reason_code == "unsupported_network"
    assert result.suggested_networks == ("TRON",)


def test_address_of_a_network_the_asset_does_not_use(catalog: AssetCatalog) -> None:
    result = check_consistency("BTC", "BTC", address=TRON_ADDRESS, catalog=catalog)
    assert result.reason_code == "not_on_asset_networks"
    assert result.reason is not None and "TRC20" in result.reason.en


def test_invalid_address_reports_the_validator_reason(catalog: AssetCatalog) -> None:
    result = check_consistency("USDT", "TRC20", address=TRON_ADDRESS[:-1] + "u", catalog=catalog)
    assert result.reason_code == "bad_checksum"

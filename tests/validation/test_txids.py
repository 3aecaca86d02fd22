"""TXID formats per network: generated valid ids are accepted, malformed ones explained."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.validation import AssetCatalog, load_asset_catalog, networks_for_txid, validate_txid
from tests.validation.encoders import b58encode

CATALOG = load_asset_catalog()
PROPERTY = settings(max_examples=200, deadline=None)
digest = st.binary(min_size=32, max_size=32)
HEX_NETWORKS = ["BTC", "TRC20", "LTC", "DOGE", "XRP", "TON"]
EVM_NETWORKS = ["ERC20", "BEP20", "Arbitrum", "Polygon", "Optimism", "Base", "AVAXC"]


@PROPERTY
@given(digest, st.sampled_from(HEX_NETWORKS), st.booleans())
def test_hex_txids_are_accepted_and_normalised(raw: bytes, network: str, upper: bool) -> None:
    text = raw.hex().upper() if upper else raw.hex()
    result = validate_txid(text, network, CATALOG)
    assert result.ok, result.reason
    assert result.value == (raw.hex().upper() if network == "XRP" else raw.hex())


@PROPERTY
@given(digest, st.sampled_from(EVM_NETWORKS))
def test_evm_txids_are_accepted(raw: bytes, network: str) -> None:
    assert validate_txid("0x" + raw.hex().upper(), network, CATALOG).value == "0x" + raw.hex()


@PROPERTY
@given(st.integers(min_value=1, max_value=255), st.binary(min_size=63, max_size=63))
def test_solana_signatures_are_accepted(first: int, rest: bytes) -> None:
    text = b58encode(bytes([first]) + rest)
    assert validate_txid(text, "SOL", CATALOG).value == text


@PROPERTY
@given(st.binary(min_size=40, max_size=63) | st.binary(min_size=65, max_size=80))
def test_solana_signatures_of_the_wrong_size_are_rejected(signature: bytes) -> None:
    result = validate_txid(b58encode(b"\x01" + signature[1:]), "SOL", CATALOG)
    assert result.reason_code == "wrong_length"


@PROPERTY
@given(digest)
def test_ton_base64_hashes_become_hex(raw: bytes) -> None:
    for text in (base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode().rstrip("=")):
        assert validate_txid(text, "TON", CATALOG).value == raw.hex()


@PROPERTY
@given(digest, st.integers(min_value=1, max_value=63), st.sampled_from(HEX_NETWORKS[:4]))
def test_truncated_hex_txids_report_both_lengths(raw: bytes, keep: int, network: str) -> None:
    text = raw.hex()[:keep]
    result = validate_txid(text, network, CATALOG)
    assert not result.ok
    assert result.reason is not None
    if result.reason_code == "wrong_length":
        assert f"yours has {keep}" in result.reason.en
        assert "64" in result.reason.en


def test_tron_txid_with_63_characters(catalog: AssetCatalog) -> None:
    result = validate_txid("a" * 63, "TRC20", catalog)
    assert result.reason_code == "wrong_length"
    assert result.reason is not None
    assert result.reason.en.startswith("A TRC20 TXID is 64 hex characters (0-9, a-f); yours has 63.")
    assert "63" in result.reason.zh


def test_non_hex_character_is_named(catalog: AssetCatalog) -> None:
    result = validate_txid("a" * 20 + "g" + "a" * 43, "BTC", catalog)
    assert result.reason_code == "bad_character"
    assert result.reason is not None
    assert "'g' (character 21)" in result.reason.en


def test_evm_hash_on_tron_points_to_evm_networks(catalog: AssetCatalog) -> None:
    result = validate_txid("0x" + "ab" * 32, "TRC20", catalog, asset="USDT")
    assert result.reason_code == "wrong_network"
    assert result.reason is not None
    assert "ERC20" in result.reason.en and "BEP20" in result.reason.en


def test_evm_txid_without_0x_is_explained(catalog: AssetCatalog) -> None:
    result = validate_txid("ab" * 32, "ERC20", catalog)
    assert result.reason_code == "missing_prefix"


def test_address_pasted_as_txid(catalog: AssetCatalog) -> None:
    result = validate_txid("TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", "TRC20", catalog)
    assert result.reason_code == "address_not_txid"
    assert result.reason is not None
    assert "not a transaction ID" in result.reason.en


@pytest.mark.parametrize(
    ("text", "network", "expected"),
    [
        ("https://tronscan.org/#/transaction/" + "c" * 64, "TRC20", "c" * 64),
        ("https://etherscan.io/tx/0x" + "d" * 64 + "?utm=1", "ERC20", "0x" + "d" * 64),
        ("https://mempool.space/tx/" + "e" * 64, "BTC", "e" * 64),
        ("TXID: " + "f" * 64, "LTC", "f" * 64),
        ("交易哈希：" + "0" * 64, "DOGE", "0" * 64),
    ],
)
def test_labels_and_explorer_links_are_stripped(
    catalog: AssetCatalog, text: str, network: str, expected: str
) -> None:
    assert validate_txid(text, network, catalog).value == expected


def test_networks_for_txid(catalog: AssetCatalog) -> None:
    hex_ids = {n.id for n in networks_for_txid("1" * 64, catalog)}
    assert hex_ids == {"BTC", "TRON", "LTC", "DOGE", "XRP", "TON"}
    evm_ids = {n.id for n in networks_for_txid("0x" + "1" * 64, catalog)}
    assert evm_ids == {"ETH", "BSC", "ARBITRUM", "POLYGON", "OPTIMISM", "BASE", "AVAXC"}


def test_degenerate_solana_signature_is_rejected(catalog: AssetCatalog) -> None:
    assert validate_txid("1" * 64, "SOL", catalog).reason_code == "wrong_network"


def test_empty_txid(catalog: AssetCatalog) -> None:
    assert validate_txid("txid:", "BTC", catalog).reason_code == "empty"

"""Addresses from the specifications (BIP-173/350, EIP-55, X-address) and well-known public addresses."""

from __future__ import annotations

import pytest

from core.validation import AssetCatalog, networks_for_address, validate_address
from core.validation.address_evm import to_checksum_address

# BIP-350 "valid segwit addresses" that are on Bitcoin mainnet (hrp "bc"): (address, scriptPubKey).
BIP350_MAINNET_VALID = [
    ("BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4", "0014751e76e8199196d454941c45d1b3a323f1433bd6"),
    (
        "bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kt5nd6y",
        "5128751e76e8199196d454941c45d1b3a323f1433bd6751e76e8199196d454941c45d1b3a323f1433bd6",
    ),
    ("BC1SW50QGDZ25J", "6002751e"),
    ("bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs", "5210751e76e8199196d454941c45d1b3a323"),
    (
        "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0",
        "512079be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798",
    ),
]
BIP350_TESTNET_VALID = [
    "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7",
    "tb1qqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvsesrxh6hy",
    "tb1pqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvsesf3hn0c",
]
# BIP-173 and BIP-350 "invalid segwit addresses".
SEGWIT_INVALID = [
    "tc1qw508d6qejxtdg4y5r3zarvary0c5xw7kg3g4ty",
    "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5",
    "BC13W508D6QEJXTDG4Y5R3ZARVARY0C5XW7KN40WF2",
    "bc1rw5uspcuh",
    "bc10w508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kw5rljs90",
    "BC1QR508D6QEJXTDG4Y5R3ZARVARYV98GJ9P",
    "bc1zw508d6qejxtdg4y5r3zarvaryvqyzf3du",
    "tc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq5zuyut",
    "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd",
    "BC1S0XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ54WELL",
    "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh",
    "bc1p38j9r5y49hruaue7wxjce0updqjuyyx0kh56v8s25huc6995vvpql3jow4",
    "BC130XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ7ZWS8R",
    "bc1pw5dgrnzv",
    "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7v8n0nx0muaewav253zgeav",
    "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7v07qwwzcrf",
    "bc1gmk9yu",
]
# EIP-55 specification examples.
EIP55_MIXED = [
    "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
    "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
    "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
    "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
]
EIP55_ALL_CAPS = ["0x52908400098527886E0F7030069857D2E4169EE7", "0x8617E340B3D01FA5F11F306F4090FD50E238070D"]
EIP55_ALL_LOWER = ["0xde709f2102306220921060314715629080e2fb77", "0x27b1fdb04752bbc536007a920d24acb045561c26"]

# Well-known public addresses.
KNOWN = [
    ("BTC", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"),  # genesis block coinbase
    ("BTC", "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy"),  # P2SH example from the Bitcoin wiki
    ("TRC20", "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"),  # USDT contract on TRON
    ("SOL", "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"),  # USDC mint on Solana
    ("SOL", "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"),  # SPL token program
    ("SOL", "11111111111111111111111111111111"),  # system program
    ("XRP", "rHb9CJAWyB4rj91VRWn96DkukG4bwdtyTh"),  # XRP Ledger genesis account
    ("XRP", "rrrrrrrrrrrrrrrrrrrrrhoLvTp"),  # ACCOUNT_ZERO
    ("XRP", "X7AcgcsBL6XDcUb289X4mJ8djcdyKaB5hJDWMArnXr61cqZ"),  # X-address spec vector, no tag
    ("XRP", "X7AcgcsBL6XDcUb289X4mJ8djcdyKaGZMhc9YTE92ehJ2Fu"),  # same account, tag 1
    ("TON", "EQAKtVj024T9MfYaJzU1xnDAkf_GGbHNu-V2mgvyjTuP6rvC"),
    ("TON", "0:0ab558f4db84fd31f61a273535c670c091ffc619b1cdbbe5769a0bf28d3b8fea"),
    ("ERC20", "0xdAC17F958D2ee523a2206206994597C13D831ec7"),  # USDT contract on Ethereum
    ("BEP20", "0x55d398326f99059fF775485246999027B3197955"),  # USDT contract on BSC
]


@pytest.mark.parametrize(("address", "script"), BIP350_MAINNET_VALID)
def test_bip350_mainnet_vectors_are_accepted_and_lower_cased(
    catalog: AssetCatalog, address: str, script: str
) -> None:
    result = validate_address(address, "BTC", catalog)
    assert result.ok, result.reason
    assert result.value == address.lower()


@pytest.mark.parametrize("address", BIP350_TESTNET_VALID)
def test_testnet_segwit_addresses_are_refused_as_testnet(catalog: AssetCatalog, address: str) -> None:
    result = validate_address(address, "BTC", catalog)
    assert result.reason_code == "testnet_address"
    assert result.reason is not None
    assert "TESTNET" in result.reason.en
    assert "测试网" in result.reason.zh


@pytest.mark.parametrize("address", SEGWIT_INVALID)
def test_bip173_and_bip350_invalid_vectors_are_rejected(catalog: AssetCatalog, address: str) -> None:
    result = validate_address(address, "BTC", catalog)
    assert not result.ok
    assert result.value is None


def test_bech32_where_bech32m_is_required_is_rejected(catalog: AssetCatalog) -> None:
    result = validate_address(
        "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd", "BTC", catalog
    )
    assert result.reason_code == "bad_format"


def test_mixed_case_bech32_is_rejected_with_a_case_reason(catalog: AssetCatalog) -> None:
    result = validate_address("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kV8F3T4", "BTC", catalog)
    assert result.reason_code == "bad_case"


@pytest.mark.parametrize("address", EIP55_MIXED)
def test_eip55_spec_examples_are_accepted(catalog: AssetCatalog, address: str) -> None:
    result = validate_address(address, "ERC20", catalog)
    assert result.ok and result.value == address
    assert to_checksum_address(address.lower()) == address


@pytest.mark.parametrize("address", EIP55_ALL_CAPS + EIP55_ALL_LOWER)
def test_single_case_evm_addresses_are_valid_by_definition(catalog: AssetCatalog, address: str) -> None:
    result = validate_address(address, "BEP20", catalog)
    assert result.ok
    assert result.value == to_checksum_address(address)


@pytest.mark.parametrize("address", EIP55_MIXED)
def test_eip55_case_flip_is_a_checksum_error(catalog: AssetCatalog, address: str) -> None:
    index = next(i for i, c in enumerate(address) if i > 1 and c.isalpha())
    flipped = address[:index] + address[index].swapcase() + address[index + 1 :]
    result = validate_address(flipped, "ERC20", catalog)
    assert result.reason_code == "bad_checksum"
    assert result.reason is not None
    assert "checksum does not match" in result.reason.en
    assert "校验和不匹配" in result.reason.zh


@pytest.mark.parametrize(("network", "address"), KNOWN)
def test_well_known_public_addresses_are_accepted(catalog: AssetCatalog, network: str, address: str) -> None:
    result = validate_address(address, network, catalog)
    assert result.ok, result.reason


def test_bitcoin_genesis_address_with_a_typo_fails_the_checksum(catalog: AssetCatalog) -> None:
    result = validate_address("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb", "BTC", catalog)
    assert result.reason_code == "bad_checksum"


def test_ethereum_address_on_trc20_names_the_evm_networks(catalog: AssetCatalog) -> None:
    result = validate_address(EIP55_MIXED[0], "TRC20", catalog, asset="USDT")
    assert result.reason_code == "wrong_network"
    assert result.reason is not None
    assert "EVM" in result.reason.en and "but you chose TRC20" in result.reason.en
    assert "ERC20" in result.reason.en and "BEP20" in result.reason.en
    assert "Base" not in result.reason.en  # USDT is not carried on Base in the catalogue
    assert "TRC20" in result.reason.zh


def test_tron_address_on_erc20_points_to_trc20(catalog: AssetCatalog) -> None:
    result = validate_address("TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", "ERC20", catalog)
    assert result.reason_code == "wrong_network"
    assert result.reason is not None
    assert result.reason.en.endswith("Did you mean TRC20?")


def test_base58_character_outside_the_alphabet_is_named(catalog: AssetCatalog) -> None:
    result = validate_address("TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj60", "TRC20", catalog)
    assert result.reason_code == "bad_character"
    assert result.reason is not None
    assert "'0' (zero)" in result.reason.en and "character 34" in result.reason.en


def test_tron_address_missing_a_character_reports_the_length(catalog: AssetCatalog) -> None:
    result = validate_address("TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6", "TRC20", catalog)
    assert result.reason_code == "wrong_length"
    assert result.reason is not None
    assert "34 characters" in result.reason.en and "yours has 33" in result.reason.en


def test_evm_address_without_0x_is_explained(catalog: AssetCatalog) -> None:
    result = validate_address(EIP55_MIXED[0][2:], "ERC20", catalog)
    assert result.reason_code == "missing_prefix"


def test_evm_address_too_short(catalog: AssetCatalog) -> None:
    result = validate_address(EIP55_MIXED[0][:-1], "ERC20", catalog)
    assert result.reason_code == "wrong_length"
    assert result.reason is not None
    assert "yours has 39" in result.reason.en


def test_label_whitespace_and_full_width_are_ignored(catalog: AssetCatalog) -> None:
    messy = "地址：ＴＲ7NHqjeKQxGTCi8q8ZY4pL8otSzgj\u200bLj6t \n"
    assert validate_address(messy, "波场", catalog).value == "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"


def test_empty_address(catalog: AssetCatalog) -> None:
    assert validate_address("  ", "TRC20", catalog).reason_code == "empty"


def test_dogecoin_address_on_bitcoin_points_to_dogecoin(catalog: AssetCatalog) -> None:
    result = validate_address("DH5yaieqoZN36fDVciNyRueRGvGLR3mr7L", "BTC", catalog)
    assert result.reason_code == "wrong_network"
    assert result.reason is not None
    assert "Dogecoin" in result.reason.en


def test_xrp_seed_like_string_is_not_an_account(catalog: AssetCatalog) -> None:
    assert not validate_address("rHb9CJAWyB4rj91VRWn96DkukG4bwdtyTi", "XRP", catalog).ok


def test_networks_for_address_lists_every_evm_chain(catalog: AssetCatalog) -> None:
    ids = {n.id for n in networks_for_address(EIP55_MIXED[1], catalog)}
    assert ids == {"ETH", "BSC", "ARBITRUM", "POLYGON", "OPTIMISM", "BASE", "AVAXC"}
    assert [n.id for n in networks_for_address("TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", catalog)] == ["TRON"]
    assert networks_for_address("hello", catalog) == ()


def test_ton_testnet_and_bad_crc(catalog: AssetCatalog) -> None:
    good = "EQAKtVj024T9MfYaJzU1xnDAkf_GGbHNu-V2mgvyjTuP6rvC"
    assert validate_address(good[:-1] + "D", "TON", catalog).reason_code == "bad_checksum"
    mixed = good.replace("_", "/", 1)
    assert validate_address(mixed, "TON", catalog).reason_code == "bad_character"

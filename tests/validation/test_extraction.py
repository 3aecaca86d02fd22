from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from core.validation import AssetCatalog, UidRule, extract_values
from tests.validation.conftest import SHANGHAI

TXID = "3f5e" + "9" * 56 + "1234"
TRON_ADDRESS = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"
EVM_ADDRESS = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"


def test_english_message_with_every_deposit_detail(catalog: AssetCatalog, now: datetime) -> None:
    found = extract_values(f"sent 50 USDT on TRC20, txid {TXID} to {TRON_ADDRESS}", catalog, now=now)
    assert found.asset is not None and found.asset.symbol == "USDT"
    assert found.network is not None and found.network.id == "TRON"
    assert found.amount == Decimal("50")
    assert found.txid == TXID
    assert found.address == TRON_ADDRESS
    assert not found.ambiguous and not found.unvalidated


def test_chinese_message(catalog: AssetCatalog, now: datetime) -> None:
    found = extract_values(f"我昨天用波场转了100 USDT，哈希是{TXID}", catalog, now=now)
    assert found.asset is not None and found.asset.symbol == "USDT"
    assert found.network is not None and found.network.id == "TRON"
    assert found.amount == Decimal("100")
    assert found.txid == TXID
    assert found.address is None
    assert found.deposit_time is not None
    assert found.deposit_time.moment == datetime(2026, 11, 20, tzinfo=SHANGHAI)
    assert not found.deposit_time.has_time


def test_chinese_shorthand_u_and_time(catalog: AssetCatalog, now: datetime) -> None:
    found = extract_values(f"我昨天下午三点用波场转了100u到{TRON_ADDRESS}，还没到账", catalog, now=now)
    assert found.asset is not None and found.asset.symbol == "USDT"
    assert found.amount == Decimal("100")
    assert found.address == TRON_ADDRESS
    assert found.deposit_time is not None
    assert found.deposit_time.moment == datetime(2026, 11, 20, 15, tzinfo=SHANGHAI)


def test_digits_inside_a_hash_are_not_an_amount(catalog: AssetCatalog, now: datetime) -> None:
    found = extract_values(f"sent USDT, txid {'12' * 32}", catalog, now=now)
    assert found.amount is None
    assert found.txid == "12" * 32


def test_txid_is_not_taken_for_an_address_and_vice_versa(catalog: AssetCatalog, now: datetime) -> None:
    found = extract_values(f"to {EVM_ADDRESS} hash 0x{'ab' * 32}", catalog, now=now)
    assert found.address == EVM_ADDRESS
    assert found.txid == "0x" + "ab" * 32


def test_contact_and_identifiers(catalog: AssetCatalog, now: datetime) -> None:
    text = (
        f"I deposited 0.5 ETH yesterday 3pm to {EVM_ADDRESS}, my UID is 12345678, "
        "order id 2024112012345, email John@Example.com"
    )
    found = extract_values(text, catalog, now=now, uid_rule=UidRule(8, 8))
    assert found.asset is not None and found.asset.symbol == "ETH"
    assert found.network is None  # "ETH" names the coin here, the network is not said
    assert found.amount == Decimal("0.5")
    assert found.uid == "12345678"
    assert found.order_id == "2024112012345"
    assert found.email == "John@example.com"
    assert found.deposit_time is not None
    assert found.deposit_time.moment == datetime(2026, 11, 20, 15, tzinfo=SHANGHAI)
    assert set(found.found()) == {"asset", "amount", "address", "uid", "order_id", "email", "deposit_time"}


def test_xrp_tag_and_amount_cue(catalog: AssetCatalog, now: datetime) -> None:
    found = extract_values(
        "sent xrp to rHb9CJAWyB4rj91VRWn96DkukG4bwdtyTh tag 12345 amount 250", catalog, now=now
    )
    assert found.asset is not None and found.asset.symbol == "XRP"
    assert found.memo == "12345"
    assert found.amount == Decimal("250")
    assert found.address == "rHb9CJAWyB4rj91VRWn96DkukG4bwdtyTh"


def test_broken_txid_after_a_label_is_kept_for_the_validator(catalog: AssetCatalog, now: datetime) -> None:
    found = extract_values(f"txid {TXID[:-1]} please check", catalog, now=now)
    assert found.txid is None
    assert found.unvalidated["txid"] == TXID[:-1]


def test_future_time_is_kept_for_the_validator(catalog: AssetCatalog, now: datetime) -> None:
    found = extract_values("充值了 0.01 BTC，今天下午3点", catalog, now=now)
    assert found.deposit_time is None
    assert found.unvalidated["deposit_time"] == "今天下午3点"
    assert found.amount == Decimal("0.01")


def test_grouped_amount_network_cue_and_clock_time(catalog: AssetCatalog, now: datetime) -> None:
    found = extract_values("I sent 1,000.25 USDT via BEP20 at 14:00", catalog, now=now)
    assert found.amount == Decimal("1000.25")
    assert found.network is not None and found.network.id == "BSC"
    assert found.deposit_time is not None and found.deposit_time.moment.hour == 14


def test_ordinary_words_are_not_coins(catalog: AssetCatalog, now: datetime) -> None:
    found = extract_values("hi, I need help with a ton of problems in my database", catalog, now=now)
    assert found.found() == {}


def test_weak_alias_counts_when_attached_to_an_amount(catalog: AssetCatalog, now: datetime) -> None:
    found = extract_values(
        "Sent 5 ton to EQAKtVj024T9MfYaJzU1xnDAkf_GGbHNu-V2mgvyjTuP6rvC memo 998877", catalog, now=now
    )
    assert found.asset is not None and found.asset.symbol == "TON"
    assert found.amount == Decimal("5")
    assert found.memo == "998877"


def test_explorer_link(catalog: AssetCatalog, now: datetime) -> None:
    found = extract_values(f"see https://tronscan.org/#/transaction/{TXID}", catalog, now=now)
    assert found.txid == TXID


def test_two_different_addresses_are_ambiguous(catalog: AssetCatalog, now: datetime) -> None:
    found = extract_values(f"from {TRON_ADDRESS} to {EVM_ADDRESS}", catalog, now=now)
    assert found.address == TRON_ADDRESS
    assert "address" in found.ambiguous


def test_too_precise_amount_is_kept_for_the_validator(catalog: AssetCatalog, now: datetime) -> None:
    found = extract_values("sent 0.1234567 USDT", catalog, now=now)
    assert found.amount is None
    assert found.unvalidated["amount"] == "0.1234567 USDT"


def test_network_words_next_to_coin(catalog: AssetCatalog, now: datetime) -> None:
    found = extract_values("USDT-TRC20 充值 200", catalog, now=now)
    assert found.asset is not None and found.asset.symbol == "USDT"
    assert found.network is not None and found.network.id == "TRON"
    assert found.amount == Decimal("200")


def test_coin_symbol_after_on_is_a_network(catalog: AssetCatalog, now: datetime) -> None:
    found = extract_values("sent 20 USDT on SOL", catalog, now=now)
    assert found.asset is not None and found.asset.symbol == "USDT"
    assert found.network is not None and found.network.id == "SOL"

from __future__ import annotations

from decimal import Decimal

import pytest

from core.validation import AssetCatalog, validate_amount


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("50", Decimal("50")),
        ("50.5", Decimal("50.5")),
        ("1,000.25", Decimal("1000.25")),
        ("1.000,25", Decimal("1000.25")),
        ("1 000", Decimal("1000")),
        ("0,5", Decimal("0.5")),
        ("1,000", Decimal("1000")),
        ("50 USDT", Decimal("50")),
        ("50USDT", Decimal("50")),
        ("USDT 50", Decimal("50")),
        ("５０", Decimal("50")),
        ("１００．５ USDT", Decimal("100.5")),
        ("100u", Decimal("100")),
        ("100 泰达币", Decimal("100")),
        ("约100个USDT", Decimal("100")),
        ("金额：50", Decimal("50")),
        ("$50", Decimal("50")),
        ("50.500000", Decimal("50.5")),
        (".5", Decimal("0.5")),
        ("50.", Decimal("50")),
    ],
)
def test_accepted_amounts(catalog: AssetCatalog, text: str, expected: Decimal) -> None:
    result = validate_amount(text, "USDT", catalog)
    assert result.ok, result.reason
    assert result.value == expected
    assert isinstance(result.value, Decimal)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("-50", "negative"),
        ("−5", "negative"),
        ("0", "zero"),
        ("0.000", "zero"),
        ("NaN", "not_a_number"),
        ("inf", "not_a_number"),
        ("1e5", "not_a_number"),
        ("fifty", "not_a_number"),
        ("", "empty"),
        ("50 or 60", "several_numbers"),
        ("12,34,567", "not_a_number"),
        ("0.1234567", "too_many_decimals"),
        ("50 ETH", "asset_mismatch"),
    ],
)
def test_rejected_amounts(catalog: AssetCatalog, text: str, code: str) -> None:
    result = validate_amount(text, "USDT", catalog)
    assert not result.ok
    assert result.reason_code == code
    assert result.reason is not None and result.reason.en and result.reason.zh


def test_too_many_decimals_names_the_limit(catalog: AssetCatalog) -> None:
    result = validate_amount("0.123456789", "BTC", catalog)
    assert result.reason is not None
    assert result.reason.en.startswith("BTC amounts have at most 8 decimal places; yours has 9.")
    assert "8 位小数" in result.reason.zh


def test_asset_decimals_differ(catalog: AssetCatalog) -> None:
    assert validate_amount("0.123456789", "SOL", catalog).ok
    assert validate_amount("0.000000000000000001", "ETH", catalog).ok


def test_mismatched_asset_is_explained(catalog: AssetCatalog) -> None:
    result = validate_amount("50 ETH", "USDT", catalog)
    assert result.reason is not None
    assert "50 ETH" in result.reason.en and "USDT" in result.reason.en


def test_amount_without_asset(catalog: AssetCatalog) -> None:
    assert validate_amount("1,234.5678901").value == Decimal("1234.5678901")
    assert validate_amount("3 BTC", catalog=catalog).value == Decimal("3")


def test_naming_the_asset_needs_the_catalog() -> None:
    with pytest.raises(ValueError, match="catalog"):
        validate_amount("50", "USDT")

"""UID, order id, e-mail and memo / destination tag."""

from __future__ import annotations

import pytest

from core.validation import (
    AssetCatalog,
    OrderIdRule,
    Reason,
    UidRule,
    validate_email,
    validate_memo,
    validate_order_id,
    validate_uid,
)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("12345678", "12345678"),
        ("UID: 1234 5678", "12345678"),
        ("uid 123456", "123456"),
        ("用户ID：８８８８８８８８", "88888888"),
    ],
)
def test_uid_accepted(text: str, value: str) -> None:
    assert validate_uid(text).value == value


def test_uid_with_a_letter_names_it() -> None:
    result = validate_uid("1234O678")
    assert result.reason_code == "bad_character"
    assert result.reason is not None
    assert "'O' (capital o)" in result.reason.en and "character 5" in result.reason.en


def test_uid_length_range_is_configurable() -> None:
    rule = UidRule(min_length=8, max_length=10)
    result = validate_uid("12345", rule)
    assert result.reason_code == "wrong_length"
    assert result.reason is not None
    assert result.reason.en == "A UID has 8 to 10 digits; yours has 5."
    assert validate_uid("12345678", rule).ok
    assert not validate_uid("12345678901", rule).ok


def test_uid_rule_must_be_consistent() -> None:
    with pytest.raises(ValueError):
        UidRule(min_length=9, max_length=8)


def test_email_given_as_uid() -> None:
    assert validate_uid("me@example.com").reason_code == "email_not_uid"


def test_order_id_default_and_custom_pattern() -> None:
    assert validate_order_id("Order #ABC-123456").value == "ABC-123456"
    rule = OrderIdRule(pattern=r"\d{18,20}", description=Reason(en="18 to 20 digits", zh="18 到 20 位数字"))
    assert validate_order_id("订单号：202611201234567890", rule).value == "202611201234567890"
    result = validate_order_id("12345", rule)
    assert result.reason_code == "bad_format"
    assert result.reason is not None
    assert "18 to 20 digits" in result.reason.en and "18 到 20 位数字" in result.reason.zh


def test_order_rule_rejects_a_broken_pattern() -> None:
    with pytest.raises(ValueError, match="not a regular expression"):
        OrderIdRule(pattern="(")


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("John.Doe@Example.COM", "John.Doe@example.com"),
        ("email: a@b.co", "a@b.co"),
        ("<x@gmail.com>", "x@gmail.com"),
        ("用户@例子.中国", "用户@例子.中国"),
        ("mailbox@x.com", "mailbox@x.com"),
    ],
)
def test_email_accepted(text: str, value: str) -> None:
    assert validate_email(text).value == value


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("ab", "missing_at"),
        ("a@@b.com", "too_many_at"),
        ("a b@c.com", "contains_space"),
        ("a@localhost", "missing_domain_dot"),
        ("a@b..com", "bad_email"),
        ("", "empty"),
    ],
)
def test_email_rejected(text: str, code: str) -> None:
    result = validate_email(text)
    assert result.reason_code == code
    assert result.reason is not None and result.reason.zh


def test_xrp_destination_tag(catalog: AssetCatalog) -> None:
    assert validate_memo("Tag: 00123", "XRP", catalog).value == "123"
    assert validate_memo("4294967296", "XRP", catalog).reason_code == "too_large"
    bad = validate_memo("12a", "XRP", catalog)
    assert bad.reason_code == "bad_character"
    assert bad.reason is not None and "Destination Tag" in bad.reason.en


@pytest.mark.parametrize("answer", ["no", "none", "没有", "忘了", ""])
def test_missing_required_memo_is_explained(catalog: AssetCatalog, answer: str) -> None:
    result = validate_memo(answer, "TON", catalog)
    assert result.reason_code == "memo_missing"
    assert result.reason is not None
    assert "TXID" in result.reason.en


def test_memo_on_a_network_without_memos(catalog: AssetCatalog) -> None:
    assert validate_memo("123", "TRC20", catalog).reason_code == "memo_not_used"


def test_ton_text_memo(catalog: AssetCatalog) -> None:
    assert validate_memo("备注：deposit 998877", "TON", catalog).value == "deposit 998877"
    assert validate_memo("x" * 121, "TON", catalog).reason_code == "too_long"

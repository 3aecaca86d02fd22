"""Account UIDs and order ids, whose shape each exchange configures."""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.validation.result import Reason, ValidationResult, accept, reject
from core.validation.textnorm import compact, describe_char, describe_char_zh, strip_label

UID_LABELS = (
    "user id",
    "userid",
    "account id",
    "uid",
    "id",
    "用户id",
    "账户id",
    "账号id",
    "用户编号",
    "账号",
    "账户",
)
ORDER_LABELS = ("order number", "order no.", "order no", "order id", "order", "订单编号", "订单号", "订单")


@dataclass(frozen=True, slots=True)
class UidRule:
    """What an account UID looks like: only digits, ``min_length`` to ``max_length`` of them."""

    min_length: int = 6
    max_length: int = 12

    def __post_init__(self) -> None:
        if not 1 <= self.min_length <= self.max_length:
            raise ValueError("UidRule needs 1 <= min_length <= max_length")


DEFAULT_ORDER_DESCRIPTION = Reason(en="6 to 40 letters, digits or hyphens", zh="6 到 40 位字母、数字或连字符")


@dataclass(frozen=True, slots=True)
class OrderIdRule:
    """What an order id looks like.

    Attributes:
        pattern: A regular expression the whole id must match.
        description: The shape in words, for the customer ("18 to 20 digits").

    """

    pattern: str = r"[A-Za-z0-9][A-Za-z0-9-]{5,39}"
    description: Reason = DEFAULT_ORDER_DESCRIPTION

    def __post_init__(self) -> None:
        try:
            re.compile(self.pattern)
        except re.error as exc:
            raise ValueError(
                f"OrderIdRule.pattern {self.pattern!r} is not a regular expression: {exc}"
            ) from exc


def validate_uid(text: str, rule: UidRule | None = None) -> ValidationResult[str]:
    """Validate an account UID (digits only; spaces and a "UID:" label are ignored).

    Returns:
        The UID digits, or a reason: ``empty``, ``email_not_uid``, ``bad_character`` or ``wrong_length``.

    """
    rule = rule or UidRule()
    clean = compact(strip_label(text, UID_LABELS)).replace("-", "")
    span = (
        f"{rule.min_length}"
        if rule.min_length == rule.max_length
        else f"{rule.min_length} to {rule.max_length}"
    )
    span_zh = (
        f"{rule.min_length}"
        if rule.min_length == rule.max_length
        else f"{rule.min_length} 到 {rule.max_length}"
    )
    if not clean:
        return reject("empty", "Please send your account UID.", "请提供您的账户 UID。")
    if "@" in clean:
        return reject(
            "email_not_uid",
            "That is an e-mail address; your UID is the number shown on your profile page.",
            "这是邮箱地址；UID 是您个人资料页面上显示的数字编号。",
        )
    for position, char in enumerate(clean, start=1):
        if not ("0" <= char <= "9"):
            return reject(
                "bad_character",
                f"A UID has only digits; yours has {describe_char(char)} (character {position}).",
                f"UID 只包含数字；您提供的第 {position} 个字符是{describe_char_zh(char)}。",
            )
    if not rule.min_length <= len(clean) <= rule.max_length:
        return reject(
            "wrong_length",
            f"A UID has {span} digits; yours has {len(clean)}.",
            f"UID 为 {span_zh} 位数字；您提供的有 {len(clean)} 位。",
        )
    return accept(clean)


def validate_order_id(text: str, rule: OrderIdRule | None = None) -> ValidationResult[str]:
    """Validate an order id against the configured pattern (spaces and an "Order:" label are ignored).

    Returns:
        The order id, or a reason: ``empty`` or ``bad_format``.

    """
    rule = rule or OrderIdRule()
    clean = compact(strip_label(text, ORDER_LABELS)).lstrip("#")
    if not clean:
        return reject("empty", "Please send the order ID.", "请提供订单号。")
    if re.fullmatch(rule.pattern, clean) is None:
        return reject(
            "bad_format",
            f"That does not look like an order ID: an order ID is {rule.description.en}, and yours has "
            f"{len(clean)} characters. You can copy it from your order history.",
            f"这看起来不是订单号：订单号为{rule.description.zh}，您提供的有 {len(clean)} 个字符。"
            "您可以从订单记录中复制。",
        )
    return accept(clean)

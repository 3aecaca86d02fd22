"""Amounts as exact decimals: "50", "50.5", "1,000.25", "50 USDT", "５０", "100u"."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from core.validation.catalog import Asset, AssetCatalog
from core.validation.result import ValidationResult, accept, reject
from core.validation.textnorm import alias_key, fold, strip_label

AMOUNT_LABELS = ("amount", "qty", "quantity", "金额", "数量", "数额")
# A number as people type it: digits with optional grouping (",", ".", "'", spaces) and one decimal mark.
NUMBER = re.compile(r"(?<![\d.,])(?P<sign>[-+−])?\s*(?P<num>\d[\d,.'\s]*\d|\d|[.,]\d+)(?![\d])")
_APPROX = re.compile(r"(?i)\b(?:about|around|approx\.?|approximately|roughly)\b|大约|大概|约|左右|~|≈|个|枚")
_SCIENTIFIC = re.compile(r"\d[eE][-+]?\d")
_CURRENCY = re.compile(r"(?i)^(?:\$|us\$|usd)$")


def parse_number(digits: str) -> Decimal | None:
    """Parse a number with grouping separators; ``None`` if the grouping is inconsistent.

    "1,000.25" and "1.000,25" are both 1000.25; "0,5" is 0.5; "1,000" is 1000; "1,00,0" is rejected.
    """
    text = re.sub(r"[\s']", "_", digits)
    marks = [c for c in text if c in ",."]
    decimal_mark: str | None = None
    if "," in marks and "." in marks:
        decimal_mark = marks[-1]
    elif marks:
        mark = marks[0]
        head, _, tail = text.rpartition(mark)
        single_group = len(marks) == 1 and len(tail) == 3 and head.strip("_") not in ("0", "")
        decimal_mark = None if len(marks) > 1 or single_group else mark
    integer, fraction = text.rsplit(decimal_mark, 1) if decimal_mark else (text, "")
    groups = re.split(r"[,._]", integer)
    if len(groups) > 1 and (not 1 <= len(groups[0]) <= 3 or any(len(g) != 3 for g in groups[1:])):
        return None
    if decimal_mark and not fraction.isdigit():
        return None
    try:
        return Decimal("".join(groups) + ("." + fraction if fraction else ""))
    except InvalidOperation:
        return None


def decimal_places(value: Decimal) -> int:
    """Significant decimal places of ``value`` ("50.500" has 1)."""
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def validate_amount(
    text: str, asset: str | Asset | None = None, catalog: AssetCatalog | None = None
) -> ValidationResult[Decimal]:
    """Validate an amount; the asset's decimals limit the precision.

    Args:
        text: The customer's answer: a number, optionally with the asset ("50 USDT", "100u").
        asset: The asset the amount is in (needs ``catalog`` when given by name).
        catalog: The asset catalogue, to recognise asset names written next to the number.

    Returns:
        The amount as a :class:`~decimal.Decimal` without trailing zeros, or a reason: ``empty``,
        ``not_a_number``, ``several_numbers``, ``negative``, ``zero``, ``too_many_decimals`` or
        ``asset_mismatch``.

    """
    chosen = catalog.asset(asset) if (catalog is not None and asset is not None) else asset
    if isinstance(chosen, str):
        raise ValueError("pass the catalog to name the asset by symbol")
    clean = _APPROX.sub(" ", strip_label(text, AMOUNT_LABELS)).strip().rstrip("。.!！")
    if not clean:
        return reject("empty", "How much did you send?", "您转了多少？")
    if _SCIENTIFIC.search(clean):
        return _not_a_number()
    numbers = list(NUMBER.finditer(clean))
    if len(numbers) > 1:
        return reject(
            "several_numbers",
            "Please give just one amount, as a number (for example 50.5).",
            "请只填写一个金额数字（例如 50.5）。",
        )
    if not numbers:
        return _not_a_number()
    found = numbers[0]
    rest = (clean[: found.start()] + " " + clean[found.end() :]).strip()
    mismatch = _check_unit(rest, chosen, catalog, found.group("num"))
    if mismatch is not None:
        return mismatch
    value = parse_number(found.group("num"))
    if value is None or not value.is_finite():
        return _not_a_number()
    if found.group("sign") in ("-", "−") and value != 0:
        return reject("negative", "The amount must be more than zero.", "金额必须大于零。")
    if value == 0:
        return reject("zero", "The amount must be more than zero.", "金额必须大于零。")
    value = value.normalize() if decimal_places(value) else Decimal(int(value))
    if chosen is not None and decimal_places(value) > chosen.decimals:
        return reject(
            "too_many_decimals",
            f"{chosen.symbol} amounts have at most {chosen.decimals} decimal places; yours has "
            f"{decimal_places(value)}. Please check the amount.",
            f"{chosen.symbol} 金额最多有 {chosen.decimals} 位小数；您填写的有 {decimal_places(value)} "
            "位，请核对金额。",
        )
    return accept(value)


def _not_a_number() -> ValidationResult[Decimal]:
    return reject(
        "not_a_number",
        "Please write the amount as a number, for example 50 or 50.5.",
        "请用数字填写金额，例如 50 或 50.5。",
    )


def _check_unit(
    rest: str, chosen: Asset | None, catalog: AssetCatalog | None, number: str
) -> ValidationResult[Decimal] | None:
    """Check the words around the number: nothing, a currency sign, or (the chosen) asset."""
    words = [w for w in re.split(r"\s+", fold(rest)) if w]
    for word in words:
        if _CURRENCY.match(word):
            continue
        named = catalog.find_asset(word) if catalog is not None else None
        if named is None and catalog is not None:
            named = next((a for a in catalog.assets if alias_key(word) in a.amount_suffixes), None)
        if named is None and chosen is not None and alias_key(word) in chosen.amount_suffixes:
            named = chosen
        if named is None:
            return _not_a_number()
        if chosen is not None and named.symbol != chosen.symbol:
            return reject(
                "asset_mismatch",
                f"You wrote {number} {named.symbol}, but we are talking about your {chosen.symbol} transfer. "
                f"How much {chosen.symbol} did you send?",
                f"您写的是 {number} {named.symbol}，但我们在处理的是 {chosen.symbol} 转账。您转了多少 "
                f"{chosen.symbol}？",
            )
    return None

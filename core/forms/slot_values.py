"""Check one slot's answer with the matching validator and keep the value as JSON-able data."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from core.forms.spec import SlotKind
from core.validation import (
    Asset,
    AssetCatalog,
    DepositTime,
    Network,
    OrderIdRule,
    UidRule,
    ValidationResult,
    networks_for_address,
    networks_for_txid,
    validate_address,
    validate_amount,
    validate_asset,
    validate_deposit_time,
    validate_email,
    validate_memo,
    validate_network,
    validate_order_id,
    validate_txid,
    validate_uid,
)
from core.validation.result import accept, reject
from core.validation.textnorm import fold

TEXT_MIN_CHARS = 2
TEXT_MAX_CHARS = 2000
_PAIR = re.compile(r"(?<![A-Za-z0-9])([A-Za-z0-9]{2,10})\s*[/\-_]\s*([A-Za-z0-9]{2,10})(?![A-Za-z0-9])")
_QUOTES = ("USDT", "USDC", "BTC", "ETH", "BNB", "FDUSD", "TUSD", "DAI", "EUR", "TRY", "BRL")


@dataclass(frozen=True, slots=True)
class SlotContext:
    """What a validator needs beyond the answer: the catalogue, the time and the details so far."""

    catalog: AssetCatalog
    now: datetime
    asset: str | None = None
    network: str | None = None
    uid_rule: UidRule = field(default_factory=UidRule)
    order_rule: OrderIdRule = field(default_factory=OrderIdRule)


def check_slot(kind: SlotKind, text: str, ctx: SlotContext) -> ValidationResult[Any]:
    """Validate ``text`` as an answer for a slot of ``kind``; the accepted value is JSON-able."""
    catalog = ctx.catalog
    if kind is SlotKind.ASSET:
        return _map(validate_asset(text, catalog), lambda a: a.symbol)
    if kind is SlotKind.NETWORK:
        if ctx.asset is None:
            found = catalog.find_network(text.strip())
            if found is None:
                return reject(
                    "unknown_network",
                    "Which network was it (for example TRC20, ERC20)?",
                    "是哪个网络（例如 TRC20、ERC20）？",
                )
            return accept(found.id)
        return _map(validate_network(text, ctx.asset, catalog), lambda n: n.id)
    if kind is SlotKind.AMOUNT:
        return _map(validate_amount(text, ctx.asset, catalog if ctx.asset else None), amount_json)
    if kind is SlotKind.TXID:
        if ctx.network is None:
            return _unplaced(text, networks_for_txid(text.strip(), catalog), "transaction ID", "交易哈希")
        return validate_txid(text, ctx.network, catalog, ctx.asset)
    if kind is SlotKind.ADDRESS:
        if ctx.network is None:
            return _unplaced(text, networks_for_address(text.strip(), catalog), "address", "地址")
        return validate_address(text, ctx.network, catalog, ctx.asset)
    if kind is SlotKind.MEMO:
        if ctx.network is None:
            return (
                accept(text.strip())
                if text.strip()
                else reject("empty", "Please send the memo.", "请提供备注。")
            )
        return validate_memo(text, ctx.network, catalog)
    if kind is SlotKind.DEPOSIT_TIME:
        return _map(validate_deposit_time(text, ctx.now), time_json)
    if kind is SlotKind.EMAIL:
        return validate_email(text)
    if kind is SlotKind.UID:
        return validate_uid(text, ctx.uid_rule)
    if kind is SlotKind.ORDER_ID:
        return validate_order_id(text, ctx.order_rule)
    if kind is SlotKind.PAIR:
        return validate_pair(text)
    return validate_text(text)


def validate_text(text: str) -> ValidationResult[str]:
    """Accept a free-text answer of a sensible length."""
    clean = " ".join(fold(text).split())
    if len(clean) < TEXT_MIN_CHARS:
        return reject("too_short", "Could you describe it in a few more words?", "能再多用几个字描述一下吗？")
    if len(clean) > TEXT_MAX_CHARS:
        return reject(
            "too_long",
            f"Please keep it under {TEXT_MAX_CHARS} characters; the agent can ask for more.",
            f"请控制在 {TEXT_MAX_CHARS} 个字符以内，客服可以再向您询问细节。",
        )
    return accept(clean)


def validate_pair(text: str) -> ValidationResult[str]:
    """Read a trading pair: "BTC/USDT", "btc-usdt", "BTCUSDT" (a known quote currency at the end)."""
    folded = fold(text).strip()
    match = _PAIR.search(folded)
    if match:
        return accept(f"{match.group(1).upper()}/{match.group(2).upper()}")
    word = re.sub(r"(?i)^(?:pair|trading pair|交易对|币对)\s*[:：]?\s*", "", folded).upper()
    for quote in _QUOTES:
        if re.fullmatch(rf"[A-Z0-9]{{2,10}}{quote}", word) and word != quote:
            return accept(f"{word[: -len(quote)]}/{quote}")
    return reject(
        "bad_pair",
        "Please write the trading pair as two symbols, for example BTC/USDT.",
        "请按两个币种代码填写交易对，例如 BTC/USDT。",
    )


def find_pair(text: str) -> str | None:
    """Return a trading pair written with a separator anywhere in ``text``, or ``None``."""
    match = _PAIR.search(fold(text))
    if match is None or match.group(1).isdigit() or match.group(2).isdigit():
        return None
    return f"{match.group(1).upper()}/{match.group(2).upper()}"


def extracted_json(kind: SlotKind, value: object) -> Any:
    """Turn a value from :func:`core.validation.extract_values` into the slot's JSON form."""
    if isinstance(value, Asset):
        return value.symbol
    if isinstance(value, Network):
        return value.id
    if isinstance(value, Decimal):
        return amount_json(value)
    if isinstance(value, DepositTime):
        return time_json(value)
    return value


def amount_json(value: Decimal) -> str:
    """An amount as a plain decimal string ("50", "0.5")."""
    return format(value, "f")


def time_json(value: DepositTime) -> dict[str, Any]:
    """A deposit time as ``{"moment": ISO 8601, "has_time": bool}``."""
    return {"moment": value.moment.isoformat(), "has_time": value.has_time}


def display(kind: SlotKind, value: Any, catalog: AssetCatalog) -> str:
    """Show a collected value to the customer (network labels, readable times)."""
    if kind is SlotKind.NETWORK and isinstance(value, str):
        found = catalog.find_network(value)
        return found.label if found is not None else value
    if kind is SlotKind.DEPOSIT_TIME and isinstance(value, dict):
        moment = datetime.fromisoformat(str(value["moment"]))
        return moment.strftime("%Y-%m-%d %H:%M" if value.get("has_time") else "%Y-%m-%d")
    return str(value)


def _map(result: ValidationResult[Any], convert: Any) -> ValidationResult[Any]:
    if result.ok and result.value is not None:
        return accept(convert(result.value))
    return result


def _unplaced(text: str, fits: tuple[Network, ...], noun_en: str, noun_zh: str) -> ValidationResult[Any]:
    if fits:
        return accept(fold(text).strip())
    return reject(
        "bad_format",
        f"That does not look like a valid {noun_en} on any network we support. Please copy it again.",
        f"这看起来不是我们支持的任何网络上的有效{noun_zh}，请重新复制。",
    )

"""Find every detail a customer put in one free-text message ("sent 50 USDT on TRC20, txid … to T…")."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from functools import partial
from re import Pattern
from types import MappingProxyType

from core.validation.addresses import check_address, networks_for_address
from core.validation.catalog import Asset, AssetCatalog, Network
from core.validation.contact import validate_email
from core.validation.deposit_time import DepositTime, validate_deposit_time
from core.validation.extract_mentions import Collector, take_assets_and_amount, typed
from core.validation.extract_spans import (
    ADDRESS_CUE,
    EMAIL,
    LONG_TOKEN,
    MEMO_CUE,
    ORDER_CUE,
    TXID_CUE,
    UID_CUE,
    URL,
    find_time_spans,
)
from core.validation.identifiers import OrderIdRule, UidRule, validate_order_id, validate_uid
from core.validation.result import ValidationResult
from core.validation.textnorm import fold
from core.validation.txids import check_txid, clean_txid, networks_for_txid


@dataclass(frozen=True, slots=True)
class ExtractedValues:
    """The details found in one message. A slot is ``None`` when the message does not give it.

    Attributes:
        asset, network, amount, txid, address, memo, uid, order_id, email, deposit_time: Normalised values
            that passed their context-free checks (an address/TXID fits at least one network).
        ambiguous: Slots for which the message gave several different values (the first is kept).
        unvalidated: Slot -> raw text for values that were clearly given (after a label such as "txid")
            but failed their check; run the slot's validator on it to tell the customer what is wrong.

    """

    asset: Asset | None = None
    network: Network | None = None
    amount: Decimal | None = None
    txid: str | None = None
    address: str | None = None
    memo: str | None = None
    uid: str | None = None
    order_id: str | None = None
    email: str | None = None
    deposit_time: DepositTime | None = None
    ambiguous: frozenset[str] = frozenset()
    unvalidated: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def found(self) -> dict[str, object]:
        """Return the filled slots as ``{name: value}``."""
        names = (
            "asset",
            "network",
            "amount",
            "txid",
            "address",
            "memo",
            "uid",
            "order_id",
            "email",
            "deposit_time",
        )
        return {n: getattr(self, n) for n in names if getattr(self, n) is not None}


def extract_values(
    text: str,
    catalog: AssetCatalog,
    *,
    now: datetime | None = None,
    uid_rule: UidRule | None = None,
    order_rule: OrderIdRule | None = None,
) -> ExtractedValues:
    """Extract asset, network, amount, TXID, address, memo, UID, order id, e-mail and deposit time.

    Hashes and addresses are taken out before numbers are read, so a digit run inside a TXID is never
    an amount; a 64-hex TXID is never taken for an address (and vice versa) because each candidate is
    checked against every network's formats and checksums.

    Args:
        text: The customer's message, in English or Chinese.
        catalog: The asset catalogue.
        now: Current time in the customer's time zone, for "yesterday 3pm" (default: now, UTC).
        uid_rule: Shape of account UIDs.
        order_rule: Shape of order ids.

    """
    work = Collector(fold(text))
    _take_emails(work)
    _take_links(work, catalog)
    _take_labelled(work, uid_rule or UidRule(), order_rule or OrderIdRule())
    _take_tokens(work, catalog)
    _take_times(work, now or datetime.now(UTC))
    take_assets_and_amount(work, catalog)
    values = work.values
    return ExtractedValues(
        asset=typed(values.get("asset"), Asset),
        network=typed(values.get("network"), Network),
        amount=typed(values.get("amount"), Decimal),
        txid=typed(values.get("txid"), str),
        address=typed(values.get("address"), str),
        memo=typed(values.get("memo"), str),
        uid=typed(values.get("uid"), str),
        order_id=typed(values.get("order_id"), str),
        email=typed(values.get("email"), str),
        deposit_time=typed(values.get("deposit_time"), DepositTime),
        ambiguous=frozenset(work.ambiguous),
        unvalidated=MappingProxyType({k: v for k, v in work.unvalidated.items() if k not in values}),
    )


def _take_emails(work: Collector) -> None:
    for match in EMAIL.finditer(work.visible):
        result = validate_email(match.group(0))
        if result.ok and result.value is not None:
            work.put("email", result.value)
            work.consume(match.start(), match.end())


def _take_links(work: Collector, catalog: AssetCatalog) -> None:
    for match in URL.finditer(work.visible):
        candidate = clean_txid(match.group(0))
        if networks_for_address(candidate, catalog):
            work.put("address", candidate)
        elif networks_for_txid(candidate, catalog):
            work.put("txid", _normalise_txid(candidate, catalog))
        else:
            continue
        work.consume(match.start(), match.end())


def _take_labelled(work: Collector, uid_rule: UidRule, order_rule: OrderIdRule) -> None:
    checks: tuple[tuple[str, Pattern[str], Callable[[str], ValidationResult[str]]], ...] = (
        ("uid", UID_CUE, partial(validate_uid, rule=uid_rule)),
        ("order_id", ORDER_CUE, partial(validate_order_id, rule=order_rule)),
    )
    for slot, cue, check in checks:
        for match in cue.finditer(work.visible):
            value = match.group("value").strip()
            result = check(value)
            if result.ok and result.value is not None:
                work.put(slot, result.value)
            else:
                work.raw(slot, value)
            work.consume(match.start("value"), match.end("value"))
    for match in MEMO_CUE.finditer(work.visible):
        work.put("memo", match.group("value"))
        work.consume(match.start("value"), match.end("value"))


def _take_tokens(work: Collector, catalog: AssetCatalog) -> None:
    for match in LONG_TOKEN.finditer(work.visible):
        token = match.group(0).rstrip("-/+")
        before = work.text[max(0, match.start() - 24) : match.start()]
        as_address = networks_for_address(token, catalog)
        as_txid = networks_for_txid(token, catalog)
        labelled_txid = bool(TXID_CUE.search(before))
        labelled_address = bool(ADDRESS_CUE.search(before))
        if as_txid and (not as_address or labelled_txid):
            work.put("txid", _normalise_txid(token, catalog))
        elif as_address:
            work.put("address", _normalise_address(token, as_address))
        elif labelled_txid:
            work.raw("txid", token)
        elif labelled_address:
            work.raw("address", token)
        else:
            continue
        work.consume(match.start(), match.start() + len(token))


def _take_times(work: Collector, now: datetime) -> None:
    for start, end in find_time_spans(work.visible):
        span = work.visible[start:end].strip()
        result = validate_deposit_time(span, now)
        if result.ok and result.value is not None:
            work.put("deposit_time", result.value)
        elif result.reason_code == "in_future":
            work.raw("deposit_time", span)
        else:
            continue
        work.consume(start, end)


def _normalise_txid(token: str, catalog: AssetCatalog) -> str:
    for net in networks_for_txid(token, catalog):
        result = check_txid(clean_txid(token), net)
        if result.ok and result.value is not None and not net.txid.uppercase:
            return result.value
    return clean_txid(token)


def _normalise_address(token: str, networks: tuple[Network, ...]) -> str:
    result = check_address(token, networks[0])
    return result.value if result.ok and result.value is not None else token

"""Asset, network and amount mentions in free text, and the working state shared by the extractors."""

from __future__ import annotations

from re import Match
from typing import TypeVar

from core.validation.amounts import NUMBER, validate_amount
from core.validation.catalog import Asset, AssetCatalog, Network
from core.validation.extract_spans import AMOUNT_CUE, NETWORK_AFTER, NETWORK_BEFORE, AliasHit, find_aliases

T = TypeVar("T")
_COUNTERS = ("", "个", "枚")


class Collector:
    """Mutable working state of one extraction: the text with consumed spans blanked out."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.chars = list(text)
        self.values: dict[str, object] = {}
        self.ambiguous: set[str] = set()
        self.unvalidated: dict[str, str] = {}

    @property
    def visible(self) -> str:
        """The text with consumed spans blanked out."""
        return "".join(self.chars)

    def consume(self, start: int, end: int) -> None:
        """Blank out a span so later extractors do not read it again."""
        self.chars[start:end] = " " * (end - start)

    def put(self, slot: str, value: object) -> None:
        """Record a value; a second, different value marks the slot ambiguous."""
        if slot in self.values:
            if self.values[slot] != value:
                self.ambiguous.add(slot)
            return
        self.values[slot] = value

    def raw(self, slot: str, text: str) -> None:
        """Record text clearly meant for ``slot`` that failed its check."""
        if slot not in self.values:
            self.unvalidated.setdefault(slot, text)


def typed(value: object, kind: type[T]) -> T | None:
    """Return ``value`` if it is a ``kind``, else ``None``."""
    return value if isinstance(value, kind) else None


def take_assets_and_amount(work: Collector, catalog: AssetCatalog) -> None:
    """Find asset and network names and the amount, telling "50 USDT" (asset) from "on ETH" (network)."""
    visible = work.visible
    hits = find_aliases(visible, catalog)
    numbers = list(NUMBER.finditer(visible))
    units: dict[int, AliasHit] = {}
    for hit in hits:
        number = next(
            (
                n
                for n in numbers
                if n.end() <= hit.start and visible[n.end() : hit.start].strip() in _COUNTERS
            ),
            None,
        )
        if number is not None and hit.asset is not None:
            units[number.start()] = hit
    assets: list[tuple[int, Asset]] = []
    networks: list[Network] = []
    dual: list[AliasHit] = []
    attached = {id(h) for h in units.values()}
    for hit in hits:
        written = work.text[hit.start : hit.end]
        network_cue = bool(
            NETWORK_BEFORE.search(visible[: hit.start]) or NETWORK_AFTER.match(visible[hit.end :])
        )
        if hit.weak and not (written.isupper() or id(hit) in attached or network_cue):
            continue
        if hit.asset is not None and (id(hit) in attached or hit.network is None):
            assets.append((2 if id(hit) in attached else 1, hit.asset))
        elif hit.network is not None and (network_cue or hit.asset is None):
            networks.append(hit.network)
        else:
            dual.append(hit)
    for hit in dual:
        if assets and hit.network is not None:
            networks.append(hit.network)
        elif hit.asset is not None:
            assets.append((1, hit.asset))
    for _, asset in sorted(assets, key=lambda pair: -pair[0]):
        work.put("asset", asset)
    for network in networks:
        work.put("network", network)
    _take_amount(work, catalog, numbers, units, hits)


def _take_amount(
    work: Collector,
    catalog: AssetCatalog,
    numbers: list[Match[str]],
    units: dict[int, AliasHit],
    hits: list[AliasHit],
) -> None:
    visible = work.visible
    asset = typed(work.values.get("asset"), Asset)
    inside_alias = [(h.start, h.end) for h in hits]
    for number in numbers:
        if any(s <= number.start() < e for s, e in inside_alias):
            continue
        unit_hit = units.get(number.start())
        suffix_asset = next(
            (
                a
                for a in ((asset,) if asset else catalog.assets)
                if a and _suffix_after(visible, number.end(), a)
            ),
            None,
        )
        has_suffix = suffix_asset is not None
        cued = bool(AMOUNT_CUE.search(visible[: number.start()]))
        if unit_hit is None and not has_suffix and not cued:
            continue
        amount_text = number.group(0) + (" " + work.text[unit_hit.start : unit_hit.end] if unit_hit else "")
        unit_asset = unit_hit.asset if unit_hit else (suffix_asset or asset)
        result = validate_amount(amount_text, unit_asset, catalog)
        if result.ok and result.value is not None:
            work.put("amount", result.value)
            if suffix_asset is not None:
                work.put("asset", suffix_asset)
        else:
            work.raw("amount", amount_text.strip())


def _suffix_after(text: str, position: int, asset: Asset) -> bool:
    """Whether an amount suffix of ``asset`` ("100u") follows ``position`` as a word of its own."""
    rest = text[position:].lower()
    for suffix in asset.amount_suffixes:
        follower = rest[len(suffix) : len(suffix) + 1]
        if rest.startswith(suffix) and not (follower.isascii() and follower.isalnum()):
            return True
    return False

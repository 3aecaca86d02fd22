"""Reading ``config/assets.yaml`` into an :class:`~core.validation.catalog.AssetCatalog`."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

import yaml

from core.validation.catalog import (
    AddressKind,
    AddressSpec,
    Asset,
    AssetCatalog,
    Bilingual,
    CatalogError,
    Family,
    MemoKind,
    MemoPolicy,
    MemoSpec,
    Network,
    TxidKind,
    TxidSpec,
)

logger = logging.getLogger(__name__)

E = TypeVar("E", bound=StrEnum)

#: The catalogue shipped with Helpline.
DEFAULT_CATALOG_PATH = Path(__file__).resolve().parents[2] / "config" / "assets.yaml"


class _Entry:
    """One mapping in the file, with its location for error messages."""

    def __init__(self, where: str, data: object) -> None:
        if not isinstance(data, Mapping):
            raise CatalogError(f"{where}: expected a mapping, got {type(data).__name__}")
        self.where = where
        self.data: Mapping[str, Any] = data

    def fail(self, message: str) -> CatalogError:
        return CatalogError(f"{self.where}: {message}")

    def text(self, key: str, default: str | None = None) -> str:
        value = self.data.get(key, default)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(f"field {key!r} must be a non-empty string, got {value!r}")
        return value.strip()

    def integer(self, key: str, default: int | None = None) -> int:
        value = self.data.get(key, default)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise self.fail(f"field {key!r} must be a non-negative integer, got {value!r}")
        return value

    def flag(self, key: str) -> bool:
        value = self.data.get(key, False)
        if not isinstance(value, bool):
            raise self.fail(f"field {key!r} must be true or false, got {value!r}")
        return value

    def texts(self, key: str) -> tuple[str, ...]:
        value = self.data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise self.fail(f"field {key!r} must be a list of non-empty strings, got {value!r}")
        return tuple(v.strip() for v in value)

    def byte_list(self, key: str) -> tuple[int, ...]:
        value = self.data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, int) and 0 <= v <= 255 for v in value):
            raise self.fail(f"field {key!r} must be a list of byte values (0-255), got {value!r}")
        return tuple(value)

    def choice(self, key: str, enum: type[E], default: str | None = None) -> E:
        value = self.data.get(key, default)
        try:
            return enum(value)
        except ValueError:
            allowed = ", ".join(e.value for e in enum)
            raise self.fail(f"field {key!r} must be one of {allowed}; got {value!r}") from None

    def bilingual(self, key: str) -> Bilingual:
        sub = self.child(key)
        return Bilingual(en=sub.text("en"), zh=sub.text("zh"))

    def child(self, key: str) -> _Entry:
        if key not in self.data:
            raise self.fail(f"missing field {key!r}")
        return _Entry(f"{self.where}.{key}", self.data[key])


def parse_catalog(path: Path) -> AssetCatalog:
    """Parse and check a catalogue file; see :func:`load_asset_catalog`."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CatalogError(f"{path}: cannot read the asset catalogue: {exc}") from exc
    except yaml.YAMLError as exc:
        raise CatalogError(f"{path}: not valid YAML: {exc}") from exc
    root = _Entry(str(path), raw)
    if root.data.get("version") != 1:
        raise root.fail(f"unsupported catalogue version {root.data.get('version')!r} (expected 1)")
    families_entry = root.child("families")
    families = {
        str(key): Family(id=str(key), name=families_entry.bilingual(str(key))) for key in families_entry.data
    }
    networks = tuple(
        _network(_Entry(f"{path}: networks[{i}]", item), families)
        for i, item in enumerate(_listing(root, "networks"))
    )
    assets = tuple(
        _asset(_Entry(f"{path}: assets[{i}]", item)) for i, item in enumerate(_listing(root, "assets"))
    )
    _unique(str(path), "network id", [n.id for n in networks])
    _unique(str(path), "asset symbol", [a.symbol for a in assets])
    catalog = AssetCatalog(assets=assets, networks=networks, source=str(path))
    logger.debug("loaded %d assets and %d networks from %s", len(assets), len(networks), path)
    return catalog


def load_asset_catalog(path: str | Path = DEFAULT_CATALOG_PATH) -> AssetCatalog:
    """Load and check an asset catalogue such as ``config/assets.yaml``.

    Args:
        path: The YAML file; Helpline's own ``config/assets.yaml`` by default.

    Returns:
        The catalogue.

    Raises:
        CatalogError: The file is unreadable or not YAML, or an entry is malformed; the message names
            the file and the entry (e.g. ``assets.yaml: networks[3] (TRON): field 'txid.kind' ...``).

    """
    return parse_catalog(Path(path))


def _listing(root: _Entry, key: str) -> list[object]:
    value = root.data.get(key)
    if not isinstance(value, list) or not value:
        raise root.fail(f"field {key!r} must be a non-empty list")
    return value


def _unique(source: str, what: str, values: list[str]) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise CatalogError(f"{source}: duplicate {what} {value!r}")
        seen.add(value)


def _network(entry: _Entry, families: Mapping[str, Family]) -> Network:
    net_id = entry.text("id")
    entry.where = f"{entry.where} ({net_id})"
    family_id = entry.text("family")
    if family_id not in families:
        raise entry.fail(f"unknown family {family_id!r}; the file defines {sorted(families)}")
    address = entry.child("address")
    kind = address.choice("kind", AddressKind)
    spec = AddressSpec(
        kind=kind,
        versions=address.byte_list("versions"),
        testnet_versions=address.byte_list("testnet_versions"),
        segwit_hrp=address.text("segwit_hrp") if "segwit_hrp" in address.data else None,
        testnet_hrp=address.text("testnet_hrp") if "testnet_hrp" in address.data else None,
        payload_length=address.integer("payload_length", 20),
        example=address.text("example", "…"),
    )
    if kind is AddressKind.BASE58CHECK and not spec.versions:
        raise address.fail("a base58check network needs at least one version byte in 'versions'")
    txid = entry.child("txid")
    memo = entry.child("memo")
    memo_policy = memo.choice("policy", MemoPolicy)
    memo_spec = MemoSpec(
        policy=memo_policy,
        kind=memo.choice("kind", MemoKind, "text"),
        max_length=memo.integer("max_length", 120),
        label=memo.bilingual("label") if "label" in memo.data else MemoSpec(memo_policy).label,
    )
    return Network(
        id=net_id,
        label=entry.text("label"),
        name=entry.bilingual("name"),
        aliases=entry.texts("aliases"),
        weak_aliases=entry.texts("weak_aliases"),
        family=families[family_id],
        address=spec,
        txid=TxidSpec(kind=txid.choice("kind", TxidKind), uppercase=txid.flag("uppercase")),
        memo=memo_spec,
        explorers=entry.texts("explorers"),
    )


def _asset(entry: _Entry) -> Asset:
    symbol = entry.text("symbol")
    entry.where = f"{entry.where} ({symbol})"
    decimals = entry.integer("decimals")
    if decimals > 30:
        raise entry.fail(f"field 'decimals' must be at most 30, got {decimals}")
    networks = entry.texts("networks")
    if not networks:
        raise entry.fail("field 'networks' must name at least one network")
    return Asset(
        symbol=symbol,
        name=entry.bilingual("name"),
        aliases=entry.texts("aliases"),
        weak_aliases=entry.texts("weak_aliases"),
        amount_suffixes=entry.texts("amount_suffixes"),
        decimals=decimals,
        networks=networks,
    )

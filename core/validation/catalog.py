"""The asset and network catalogue (``config/assets.yaml``) as frozen values, and its loader."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import TypeVar

from core.validation.result import Reason
from core.validation.textnorm import alias_key

V = TypeVar("V")

#: Bilingual display text (same shape as a :class:`Reason`).
Bilingual = Reason


class AddressKind(StrEnum):
    """How a network's addresses are written and checksummed."""

    BASE58CHECK = "base58check"
    EVM = "evm"
    SOLANA = "solana"
    XRP = "xrp"
    TON = "ton"


class TxidKind(StrEnum):
    """How a network's transaction ids are written."""

    HEX64 = "hex64"
    EVM = "evm"
    BASE58_SIGNATURE = "base58_signature"
    TON = "ton"


class MemoPolicy(StrEnum):
    """Whether a deposit on the network needs a memo / tag next to the address."""

    NONE = "none"
    OPTIONAL = "optional"
    REQUIRED = "required"


class MemoKind(StrEnum):
    """What a memo may contain."""

    DIGITS = "digits"
    TEXT = "text"


@dataclass(frozen=True, slots=True)
class Family:
    """A group of networks that share one address format (all EVM chains, for instance)."""

    id: str
    name: Bilingual


@dataclass(frozen=True, slots=True)
class AddressSpec:
    """Address format of a network.

    Attributes:
        kind: The encoding family.
        versions: Accepted base58check version bytes (``base58check`` only).
        testnet_versions: Version bytes of the matching test network, recognised to explain a rejection.
        segwit_hrp: Human-readable part of bech32/bech32m segwit addresses, if the network has them.
        testnet_hrp: The test network's segwit prefix.
        payload_length: Bytes after the version byte (20 for every supported base58check network).
        example: How an address starts, for messages.

    """

    kind: AddressKind
    versions: tuple[int, ...] = ()
    testnet_versions: tuple[int, ...] = ()
    segwit_hrp: str | None = None
    testnet_hrp: str | None = None
    payload_length: int = 20
    example: str = ""


@dataclass(frozen=True, slots=True)
class TxidSpec:
    """Transaction id format of a network; ``uppercase`` is the explorer's preferred hex case."""

    kind: TxidKind
    uppercase: bool = False


MEMO_LABEL = Bilingual(en="Memo", zh="备注 (Memo)")


@dataclass(frozen=True, slots=True)
class MemoSpec:
    """Memo / destination-tag rules of a network."""

    policy: MemoPolicy
    kind: MemoKind = MemoKind.TEXT
    max_length: int = 120
    label: Bilingual = MEMO_LABEL


@dataclass(frozen=True, slots=True)
class Network:
    """One blockchain network as customers name it."""

    id: str
    label: str
    name: Bilingual
    aliases: tuple[str, ...]
    weak_aliases: tuple[str, ...]
    family: Family
    address: AddressSpec
    txid: TxidSpec
    memo: MemoSpec
    explorers: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Asset:
    """One coin or token and the networks the exchange accepts it on."""

    symbol: str
    name: Bilingual
    aliases: tuple[str, ...]
    weak_aliases: tuple[str, ...]
    amount_suffixes: tuple[str, ...]
    decimals: int
    networks: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AssetCatalog:
    """All assets and networks, with alias look-ups.

    Build it with :func:`core.validation.catalog_loader.load_asset_catalog` or directly from values.
    """

    assets: tuple[Asset, ...]
    networks: tuple[Network, ...]
    source: str = "<memory>"
    _asset_keys: Mapping[str, Asset] = field(init=False, repr=False, compare=False)
    _network_keys: Mapping[str, Network] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        network_ids = {n.id for n in self.networks}
        for asset in self.assets:
            unknown = [n for n in asset.networks if n not in network_ids]
            if unknown:
                raise CatalogError(f"{self.source}: asset {asset.symbol} lists unknown networks {unknown}")
        object.__setattr__(
            self,
            "_asset_keys",
            _index(
                self.source,
                "asset",
                {a.symbol: (a, (a.symbol, *a.aliases, *a.weak_aliases)) for a in self.assets},
            ),
        )
        object.__setattr__(
            self,
            "_network_keys",
            _index(
                self.source,
                "network",
                {n.id: (n, (n.id, n.label, *n.aliases, *n.weak_aliases)) for n in self.networks},
            ),
        )

    def find_asset(self, text: str) -> Asset | None:
        """Return the asset named by a symbol or alias ("tether", "泰达币"), or ``None``."""
        return self._asset_keys.get(alias_key(text))

    def find_network(self, text: str) -> Network | None:
        """Return the network named by an id, label or alias ("trc-20", "波场"), or ``None``."""
        return self._network_keys.get(alias_key(text))

    def asset(self, symbol_or_alias: str | Asset) -> Asset:
        """Return an asset by symbol or alias; raise ``KeyError`` if unknown."""
        if isinstance(symbol_or_alias, Asset):
            return symbol_or_alias
        found = self.find_asset(symbol_or_alias)
        if found is None:
            raise KeyError(f"unknown asset {symbol_or_alias!r} in {self.source}")
        return found

    def network(self, id_or_alias: str | Network) -> Network:
        """Return a network by id or alias; raise ``KeyError`` if unknown."""
        if isinstance(id_or_alias, Network):
            return id_or_alias
        found = self.find_network(id_or_alias)
        if found is None:
            raise KeyError(f"unknown network {id_or_alias!r} in {self.source}")
        return found

    def networks_of(self, asset: str | Asset) -> tuple[Network, ...]:
        """Return the networks an asset can be sent on, in catalogue order of the asset's list."""
        ids = self.asset(asset).networks
        by_id = {n.id: n for n in self.networks}
        return tuple(by_id[i] for i in ids)

    def alias_items(self) -> tuple[tuple[str, Asset | None, Network | None, bool], ...]:
        """Return ``(alias, asset, network, weak)`` for every alias, for free-text scanning.

        A symbol that is also an ordinary word ("TON", "Base") is weak when it is listed in
        ``weak_aliases``, even though it is the asset's symbol or the network's id.
        """
        rows: list[tuple[str, Asset | None, Network | None, bool]] = []
        for a in self.assets:
            weak = {alias_key(w) for w in a.weak_aliases}
            rows += [(s, a, None, alias_key(s) in weak) for s in (a.symbol, *a.aliases, *a.weak_aliases)]
        for n in self.networks:
            weak = {alias_key(w) for w in n.weak_aliases}
            rows += [(s, None, n, alias_key(s) in weak) for s in (n.id, n.label, *n.aliases, *n.weak_aliases)]
        return tuple(rows)


class CatalogError(ValueError):
    """The catalogue file or an entry in it is malformed; the message names the file and entry."""


def _index(source: str, what: str, entries: dict[str, tuple[V, tuple[str, ...]]]) -> Mapping[str, V]:
    index: dict[str, V] = {}
    owner: dict[str, str] = {}
    for name, (value, names) in entries.items():
        for alias in names:
            key = alias_key(alias)
            if not key:
                raise CatalogError(f"{source}: {what} {name} has an empty alias")
            if key in owner and owner[key] != name:
                raise CatalogError(
                    f"{source}: alias {alias!r} of {what} {name} is already used by {what} {owner[key]}"
                )
            owner[key] = name
            index[key] = value
    return MappingProxyType(index)

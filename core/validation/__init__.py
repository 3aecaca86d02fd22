"""Crypto-aware validators and value extraction for Helpline's detail-collection forms.

Every validator returns a :class:`ValidationResult` with a normalised value or a specific, bilingual
reason. The asset and network catalogue lives in ``config/assets.yaml``.
"""

from core.validation.addresses import networks_for_address, validate_address
from core.validation.amounts import validate_amount
from core.validation.catalog import (
    AddressKind,
    AddressSpec,
    Asset,
    AssetCatalog,
    CatalogError,
    Family,
    MemoKind,
    MemoPolicy,
    MemoSpec,
    Network,
    TxidKind,
    TxidSpec,
)
from core.validation.catalog_loader import DEFAULT_CATALOG_PATH, load_asset_catalog
from core.validation.consistency import ConsistencyResult, check_consistency
from core.validation.contact import validate_email
from core.validation.deposit_time import DepositTime, validate_deposit_time
from core.validation.extraction import ExtractedValues, extract_values
from core.validation.identifiers import OrderIdRule, UidRule, validate_order_id, validate_uid
from core.validation.memos import validate_memo
from core.validation.result import Reason, ValidationResult
from core.validation.symbols import validate_asset, validate_network
from core.validation.txids import networks_for_txid, validate_txid

__all__ = [
    "DEFAULT_CATALOG_PATH",
    "AddressKind",
    "AddressSpec",
    "Asset",
    "AssetCatalog",
    "CatalogError",
    "ConsistencyResult",
    "DepositTime",
    "ExtractedValues",
    "Family",
    "MemoKind",
    "MemoPolicy",
    "MemoSpec",
    "Network",
    "OrderIdRule",
    "Reason",
    "TxidKind",
    "TxidSpec",
    "UidRule",
    "ValidationResult",
    "check_consistency",
    "extract_values",
    "load_asset_catalog",
    "networks_for_address",
    "networks_for_txid",
    "validate_address",
    "validate_amount",
    "validate_asset",
    "validate_deposit_time",
    "validate_email",
    "validate_memo",
    "validate_network",
    "validate_order_id",
    "validate_txid",
    "validate_uid",
]

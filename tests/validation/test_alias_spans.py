"""Finding asset and network names in free text: word edges, separators, longest first, Chinese."""

from __future__ import annotations

import pytest

from core.validation import AssetCatalog
from core.validation.extract_spans import find_aliases


def _hits(text: str, catalog: AssetCatalog) -> list[tuple[str, str | None, str | None]]:
    return [
        (text[h.start : h.end], h.asset.symbol if h.asset else None, h.network.id if h.network else None)
        for h in find_aliases(text, catalog)
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Separators between an alias's runs, any case.
        ("sent usdt via TRC-20 yesterday", [("usdt", "USDT", None), ("TRC-20", None, "TRON")]),
        ("USDT_TRC20", [("USDT", "USDT", None), ("TRC20", None, "TRON")]),
        ("trc 20", [("trc 20", None, "TRON")]),
        # An ASCII alias needs a word edge on both sides.
        ("xtrc20 and trc20x", []),
        # The longest alias at a position wins, across an ASCII head and a Chinese tail.
        ("走arbitrum链转的", [("arbitrum链", None, "ARBITRUM")]),
        ("我用ARB1提的", [("ARB1", None, "ARBITRUM")]),
        # Chinese aliases need no word edges, even next to each other.
        ("泰达币走波场", [("泰达币", "USDT", None), ("波场", None, "TRON")]),
        ("币安智能链 bnb", [("币安智能链", None, "BSC"), ("bnb", "BNB", "BSC")]),
        ("ERC20 eth", [("ERC20", None, "ETH"), ("eth", "ETH", "ETH")]),
        ("", []),
    ],
)
def test_names_are_found_where_customers_write_them(
    text: str, expected: list[tuple[str, str | None, str | None]], catalog: AssetCatalog
) -> None:
    assert _hits(text, catalog) == expected


def test_names_at_the_end_of_a_long_message_are_found(catalog: AssetCatalog) -> None:
    text = "blah " * 2000 + "USDT on TRC20"
    assert _hits(text, catalog) == [("USDT", "USDT", None), ("TRC20", None, "TRON")]

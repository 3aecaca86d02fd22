"""Words around a candidate secret that say what it is (or that it is not a secret at all)."""

from __future__ import annotations

import re
from dataclasses import dataclass

# How far (in characters) a label may sit from the value it describes.
BEFORE = 80
AFTER = 40

SEED_CONTEXT = re.compile(
    r"seed|mnemonic|recovery\s*(?:phrase|words?)|secret\s*(?:phrase|words?)|backup\s*(?:phrase|words?)"
    r"|(?:12|24|twelve|twenty[\s-]*four)\s*words?|助记词|助記詞|种子|種子|恢复短语|恢復短語|备份短语|私钥|私鑰|钱包短语",
    re.IGNORECASE,
)

KEY_LABEL = re.compile(
    r"priv(?:ate)?[\s_-]*keys?|privkeys?|secret[\s_-]*keys?|signing[\s_-]*keys?|wallet[\s_-]*key"
    r"|\bpk\b|私钥|私鑰|密钥|密鑰",
    re.IGNORECASE,
)

# Labels that make a long hex value a public identifier (a transaction or block hash).
PUBLIC_HASH_LABEL = re.compile(
    r"\btx(?:n|id|\s*id|\s*hash)?\b|transaction|\bhash\b|block|explorer|etherscan|bscscan|tronscan"
    r"|pub(?:lic)?[\s_-]*keys?|pubkey|address|交易|哈希|区块|區塊|地址|公钥|公鑰",
    re.IGNORECASE,
)

# What may stand between a label and the value it names for the label to count as naming it directly:
# "private key: <v>", "私钥是<v>", "my private key is <v>", "privkey = '<v>'".
_DIRECT_LINK = re.compile(
    r"[\s:：=\-\"'`“”(（]*(?:(?:is|was|=|是|为|為|:)[\s:：\"'`“”]*)?(?:(?:here|below|this)[\s:：]*)?",
    re.IGNORECASE,
)
_DIRECT_LINK_MAX = 24


# Punctuation that ends a clause: a label and a value with one of these between them are not talking about
# each other ("我的助记词丢了，<an ordinary clause>").
_CLAUSE_BREAK = re.compile(r"[，。！？；,!?;]|\.\s")
ADJACENT = 16


@dataclass(frozen=True, slots=True)
class Label:
    """A label found near a value: where it ends (or starts) and how far it is from the value."""

    start: int
    end: int
    distance: int


def window_has(pattern: re.Pattern[str], text: str, start: int, end: int) -> bool:
    """Whether ``pattern`` occurs within :data:`BEFORE` characters before or :data:`AFTER` after a span."""
    return bool(pattern.search(text, max(0, start - BEFORE), start) or pattern.search(text, end, end + AFTER))


def adjacent(pattern: re.Pattern[str], text: str, start: int, end: int, reach: int = ADJACENT) -> bool:
    """Whether ``pattern`` occurs right before or right after a span, in the same clause.

    "助记词：<span>", "my seed phrase is <span>", "<span> 是我的助记词" qualify;
    "助记词丢了，<span>" does not.
    """
    before = nearest_before(pattern, text, start, reach)
    if before is not None and not _CLAUSE_BREAK.search(text, before.end, start):
        return True
    after = nearest_after(pattern, text, end, reach)
    return after is not None and not _CLAUSE_BREAK.search(text, end, after.start)


def nearest_before(pattern: re.Pattern[str], text: str, start: int, reach: int = BEFORE) -> Label | None:
    """Return the occurrence of ``pattern`` closest before ``start`` within ``reach`` characters."""
    found: Label | None = None
    for match in pattern.finditer(text, max(0, start - reach), start):
        found = Label(match.start(), match.end(), start - match.end())
    return found


def nearest_after(pattern: re.Pattern[str], text: str, end: int, reach: int = AFTER) -> Label | None:
    """Return the occurrence of ``pattern`` closest after ``end`` within ``reach`` characters."""
    match = pattern.search(text, end, end + reach)
    return Label(match.start(), match.end(), match.start() - end) if match else None


def names_directly(text: str, label_end: int, value_start: int) -> bool:
    """Whether the label ending at ``label_end`` names the value at ``value_start`` with nothing between.

    Only punctuation and a linking word ("is", "是", ":") may separate them.
    """
    gap = value_start - label_end
    if gap < 0 or gap > _DIRECT_LINK_MAX:
        return False
    match = _DIRECT_LINK.match(text, label_end, value_start)
    return match is not None and match.end() == value_start

"""Span finders used by :mod:`core.validation.extraction`: aliases, dates, labelled identifiers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from core.validation.catalog import Asset, AssetCatalog, Network
from core.validation.textnorm import alias_key
from core.validation.zh_time import ZH_AGO, ZH_TIME, has_content

_SEP = r"[\s\-_]*"
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_EN_DAY = re.compile(
    r"(?i)\b(?:today|yesterday|tonight|last\s+night|this\s+(?:morning|afternoon|evening)"
    r"|(?:\d+|an?|one|two|three|half\s+an)\s+(?:hours?|minutes?|mins?|days?)\s+ago"
    r"|(?:last\s+)?(?:mon|tues|wednes|thurs|fri|satur|sun)day"
    r"|\d{4}-\d{1,2}-\d{1,2}(?:t\d{1,2}:\d{2}(?::\d{2})?z?)?|\d{1,2}/\d{1,2}/\d{4}"
    rf"|{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}(?:\s+\d{{4}})?)\b"
)
_EN_CLOCK = re.compile(
    r"(?i)(?<![\d.])(?:\d{1,2}:\d{2}(?::\d{2})?(?:\s*[ap]\.?m\b\.?)?|\d{1,2}\s*[ap]\.?m\b\.?)"
)
_JOIN = re.compile(r"(?i)^[\s,]*(?:at|around|about|on|,)?[\s,]*$")


@dataclass(frozen=True, slots=True)
class AliasHit:
    """One mention of an asset and/or network name in the text."""

    start: int
    end: int
    asset: Asset | None
    network: Network | None
    weak: bool


_ASCII_HEAD = r"(?<![a-z0-9])"


def _alias_parts(alias: str) -> tuple[str, str, str]:
    """An alias's regex, tolerating separators between its runs ("trc20" ~ "TRC-20").

    Returns:
        Its start condition (a word edge before an ASCII head, else nothing), its first
        character, and the rest of the pattern.

    """
    runs = re.findall(r"[a-z]+|\d+|[^\sa-z\d\-_]+", alias_key(alias))
    body = _SEP.join(re.escape(r) for r in runs)
    head = _ASCII_HEAD if re.match(r"[a-z0-9]", runs[0]) else ""
    tail = r"(?![a-z0-9])" if re.search(r"[a-z0-9]$", runs[-1]) else ""
    return head, runs[0][0], body + tail


@lru_cache(maxsize=8)
def _alias_regex(
    catalog: AssetCatalog,
) -> tuple[re.Pattern[str], dict[str, list[tuple[Asset | None, Network | None, bool]]]]:
    owners: dict[str, list[tuple[Asset | None, Network | None, bool]]] = {}
    for alias, asset, network, weak in catalog.alias_items():
        owners.setdefault(alias_key(alias), []).append((asset, network, weak))
    ordered = sorted(owners, key=len, reverse=True)
    # Two groups, each behind one test of its aliases' first characters (and, for ASCII heads,
    # one word-edge test): an alternation of every alias was tried at every character, 0.12 ms
    # a message, the engine's largest single cost (now 0.02 ms). An ASCII head and any other
    # cannot start at the same character, so longest-first still decides between the aliases
    # that can.
    groups: dict[str, tuple[set[str], list[str]]] = {_ASCII_HEAD: (set(), []), "": (set(), [])}
    for i, key in enumerate(ordered):
        head, first, body = _alias_parts(key)
        firsts, alternatives = groups[head]
        firsts.add(first)
        alternatives.append(f"(?P<a{i}>{body})")
    pattern = "|".join(
        f"{head}(?=[{''.join(re.escape(c) for c in sorted(firsts))}])(?:{'|'.join(alternatives)})"
        for head, (firsts, alternatives) in groups.items()
        if alternatives
    )
    return re.compile(pattern, re.IGNORECASE), {f"a{i}": owners[key] for i, key in enumerate(ordered)}


def find_aliases(text: str, catalog: AssetCatalog) -> list[AliasHit]:
    """Find asset and network names, longest first; an alias naming both yields one hit with both."""
    regex, owners = _alias_regex(catalog)
    hits: list[AliasHit] = []
    for match in regex.finditer(text):
        group = match.lastgroup
        if group is None:
            continue
        asset = next((a for a, _, _ in owners[group] if a is not None), None)
        network = next((n for _, n, _ in owners[group] if n is not None), None)
        weak = all(w for _, _, w in owners[group])
        hits.append(AliasHit(match.start(), match.end(), asset, network, weak))
    return hits


def find_time_spans(text: str) -> list[tuple[int, int]]:
    """Find spans that look like a date and/or time, in English or Chinese."""
    spans = [(m.start(), m.end()) for m in ZH_AGO.finditer(text)]
    spans += [(m.start(), m.end()) for m in ZH_TIME.finditer(text) if m.group(0).strip() and has_content(m)]
    english = sorted(
        [(m.start(), m.end()) for m in _EN_DAY.finditer(text)]
        + [(m.start(), m.end()) for m in _EN_CLOCK.finditer(text)]
    )
    merged: list[tuple[int, int]] = []
    for start, end in english:
        if merged and _JOIN.match(text[merged[-1][1] : start]):
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    spans += merged
    # Keep the longest of overlapping spans.
    spans.sort(key=lambda s: (s[0], -(s[1] - s[0])))
    kept: list[tuple[int, int]] = []
    for start, end in spans:
        if kept and start < kept[-1][1]:
            if end - start > kept[-1][1] - kept[-1][0]:
                kept[-1] = (start, end)
            continue
        kept.append((start, end))
    return [(s, e) for s, e in kept if text[s:e].strip()]


UID_CUE = re.compile(
    r"(?i)(?:(?:\buid|\buser\s*id|\baccount\s*id|用户\s*id|账户\s*id|账号\s*id)\s*(?:is|=|:|#|是|为)?"
    r"|(?:账号|账户)\s*(?:是|为|:))\s*(?P<value>\d[\d\s-]{2,}\d)"
)
ORDER_CUE = re.compile(
    r"(?i)(?:\border\s*(?:id|no\.?|number|#)|\border|订单编号|订单号|订单)"
    r"\s*(?:is|=|:|#|是|为)?\s*#?(?P<value>(?=[A-Za-z-]*\d)[A-Za-z0-9][A-Za-z0-9-]{3,})"
)
MEMO_CUE = re.compile(
    r"(?i)(?:\bdestination\s*tag|\bdest\s*tag|\btag|\bmemo|目标标签|标签|备注)"
    r"\s*(?:is|=|:|#|是|为)?\s*(?P<value>(?=[^\s,，。;；]*\d)[^\s,，。;；]+)"
)
_IS = r"(?:\s*(?:is|was|=|:|是|为|為))?"
TXID_CUE = re.compile(
    rf"(?i)(?:\btx\s*id|\btxid|\btx\s*hash|\bhash|\btransaction\s*(?:id|hash)|哈希值?|交易号|交易id){_IS}\W{{0,3}}$"
)
ADDRESS_CUE = re.compile(rf"(?i)(?:\baddress|\baddr|\bto|地址|到|至|转入){_IS}\W{{0,3}}$")
LONG_TOKEN = re.compile(
    r"(?<![0-9A-Za-z_:/+-])(?:-1|0):[0-9a-fA-F]{60,70}(?![0-9A-Za-z_])"
    r"|(?<![0-9A-Za-z_/+=-])[0-9A-Za-z][0-9A-Za-z_+/=-]{23,}"
)
# ASCII only: "邮箱是john@example.com" must not take the Chinese words into the local part.
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
URL = re.compile(r"(?i)\bhttps?://\S+")
AMOUNT_CUE = re.compile(
    r"(?i)(?:\bamount|\bsent|\bsend|\bdeposit(?:ed)?|\bwithdr[ae]w(?:n)?|\btransferred|\btransfer|\bpaid"
    r"|\bof|金额|数量|转了|转账|充了|充值了?|提了|提现了?|打了|存了|\$)\s*(?:is|=|:|of)?\s*$"
)
NETWORK_BEFORE = re.compile(
    r"(?i)(?:\bon|\bvia|\busing|\bover|\bthrough|\bnetwork|\bchain|用|走|通过|经|经由)\s*(?:the\s+)?$"
)
NETWORK_AFTER = re.compile(r"(?i)^\s*(?:network|chain|网络|链|上)")

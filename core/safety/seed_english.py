"""Detect English BIP39 seed phrases (whole, partial, numbered or mistyped) in free text."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from core.safety import context
from core.safety.findings import Finding, SecretKind
from core.safety.wordlists import STANDARD_LENGTHS, EnglishList, checksum_valid, english

MIN_RUN = 8
MIN_RUN_WITH_CONTEXT = 6

_WORD = re.compile(r"[A-Za-z]+")
# Between two seed words: spaces, newlines, commas, bullets, quotes and numbering ("1. ", "(2)", "#3-").
# One character class, then at most one 1-2 digit number and the class again: no nested repetition.
_PUNCT = r"[\s,;.:|/()\[\]{}<>#*\"'`\-–—•·]"
_SEPARATOR = re.compile(rf"{_PUNCT}*(?:\d{{1,2}}{_PUNCT}*)?")
_SEPARATOR_MAX = 16
_SENTENCE_BREAK = re.compile(r"[.!?]+\s")
_LABEL_SEPARATOR = re.compile(r"[:：=]|\s[-–—]\s|\n")
_NUMBERING_BEFORE = re.compile(r"(?:^|(?<=\s))[#(\[]?\d{1,2}[.):\]]?\s*$")
# List words that double as labels: "seed phrase: ...", "private key - ...".
_LABEL_WORDS = frozenset(
    {"seed", "phrase", "secret", "private", "key", "word", "words", "recovery", "wallet"}
)
_ALIGNED_OFFSETS = 4
_SPLIT_LIMIT = 240
_GARBLED_MAX = 9


@dataclass(frozen=True, slots=True)
class _Token:
    start: int
    end: int
    word: str
    exact: bool
    # Neither a list word nor one edit from one, but sitting between list words: a badly mangled seed
    # word ("pt" for "pet"). Allowed inside a run, never at its edges, and counted against its typo budget.
    garbled: bool = False


def find(text: str) -> list[Finding]:
    """Return the English seed phrases in ``text``.

    A run of consecutive list words (allowing separators, numbering and a few one-letter typos) counts
    when it holds a checksum-valid phrase of a standard length, or when it is at least :data:`MIN_RUN`
    words long (:data:`MIN_RUN_WITH_CONTEXT` next to "seed", "mnemonic", "助记词"...) and does not read like
    an English sentence.
    """
    words = english()
    return [
        Finding(SecretKind.SEED_PHRASE, _extend_numbering(text, start), end)
        for run in _runs(text, words)
        for start, end in _spans(text, run, words)
    ]


def _runs(text: str, words: EnglishList) -> Iterator[list[_Token]]:
    run: list[_Token] = []
    for match in _WORD.finditer(text):
        word = match.group().lower()
        exact = word in words.words
        if exact or words.is_typo(word):
            token = _Token(match.start(), match.end(), word, exact)
        elif run and not run[-1].garbled and len(word) <= _GARBLED_MAX and word not in words.never_fuzzy:
            token = _Token(match.start(), match.end(), word, exact=False, garbled=True)
        else:
            yield from _trimmed(run)
            run = []
            continue
        if run and not _separated(text, run[-1].end, token.start):
            yield from _trimmed(run)
            run = []
        if run or not token.garbled:
            run.append(token)
    yield from _trimmed(run)


def _trimmed(run: list[_Token]) -> Iterator[list[_Token]]:
    while run and run[-1].garbled:
        run = run[:-1]
    if run:
        yield run


def _separated(text: str, end: int, start: int) -> bool:
    if start - end > _SEPARATOR_MAX or start == end:
        return False
    match = _SEPARATOR.match(text, end, start)
    return match is not None and match.end() == start


def _spans(text: str, run: list[_Token], words: EnglishList) -> list[tuple[int, int]]:
    """Return the spans to redact in a run of list words (and near misses)."""
    if sum(1 for token in run if token.exact) < MIN_RUN_WITH_CONTEXT - 1:
        return []
    # Runs this long are never prose; splitting them phrase by phrase would only cost time and stack.
    window = _checksum_window(run) if len(run) <= _SPLIT_LIMIT else None
    if window is None:
        span = _judge(text, run, words)
        return [span] if span is not None else []
    first, stop = window
    start, end = run[first].start, run[stop - 1].end
    # What the run adds on either side may be another phrase ("old: <12 words> new: <24 words>"), the
    # rest of a mistyped longer phrase, or just the customer talking ("... please help").
    left = _spans(text, run[:first], words)
    right = _spans(text, run[stop:], words)
    if not left:
        start = _extend(text, reversed(run[:first]), start, words, backwards=True)
    if not right:
        end = _extend(text, iter(run[stop:]), end, words, backwards=False)
    return [*left, (start, end), *right]


def _extend(text: str, tokens: Iterator[_Token], edge: int, words: EnglishList, *, backwards: bool) -> int:
    """Grow a phrase's span over neighbouring seed-like words, stopping at a label or an everyday word."""
    for token in tokens:
        gap = text[token.end : edge] if backwards else text[edge : token.start]
        if _LABEL_SEPARATOR.search(gap) or not _strong(token, words):
            break
        if not token.exact and _SENTENCE_BREAK.match(gap):
            break
        edge = token.start if backwards else token.end
    return edge


def _strong(token: _Token, words: EnglishList) -> bool:
    # A near miss next to a phrase is most likely a mistyped seed word: keep it inside the span.
    if token.garbled:
        return False
    return not token.exact or (token.word not in words.everyday and token.word not in _LABEL_WORDS)


def _judge(text: str, run: list[_Token], words: EnglishList) -> tuple[int, int] | None:
    """Return the span of a run without a valid checksum if it is long and random enough, else ``None``."""
    run = run[_label_prefix(text, run, limit=3) :]
    core_start = next((i for i, token in enumerate(run) if token.exact), len(run))
    core_stop = next((i for i in range(len(run), 0, -1) if run[i - 1].exact), 0)
    core = run[core_start:core_stop]
    size = len(core)
    exact = [token for token in core if token.exact]
    everyday = sum(1 for token in exact if token.word in words.everyday)
    has_context = context.window_has(context.SEED_CONTEXT, text, run[0].start, run[-1].end)
    needed = MIN_RUN_WITH_CONTEXT if has_context else MIN_RUN
    garbled = sum(1 for token in core if token.garbled)
    if size < needed or size - len(exact) > max(1, size // 5) or everyday > max(2, size // 4):
        return None
    if garbled > max(1, size // 8):
        return None
    # A short run only counts thanks to the context word: hold it to a stricter standard.
    if size < MIN_RUN and (garbled or everyday > 1):
        return None
    # Near-miss words at the edges are kept in the span: if they were seed words with a typo they must go.
    return run[0].start, run[-1].end


def _checksum_window(run: list[_Token]) -> tuple[int, int] | None:
    """Return ``(first, stop)`` indices of a checksum-valid phrase near either end of the run."""
    size = len(run)
    for length in sorted(STANDARD_LENGTHS, reverse=True):
        if length > size:
            continue
        starts = {*range(min(_ALIGNED_OFFSETS, size - length + 1))}
        starts |= {size - length - offset for offset in range(min(_ALIGNED_OFFSETS, size - length + 1))}
        for first in sorted(starts):
            window = run[first : first + length]
            if all(token.exact for token in window) and checksum_valid([token.word for token in window]):
                return first, first + length
    return None


def _label_prefix(text: str, run: list[_Token], *, limit: int) -> int:
    """Count the leading label words ("seed phrase:") among the first ``limit`` that end at a separator."""
    count = 0
    for index, token in enumerate(run[:limit]):
        if token.word not in _LABEL_WORDS:
            break
        if index + 1 < len(run) and _LABEL_SEPARATOR.search(text, token.end, run[index + 1].start):
            count = index + 1
            break
    return count


def _extend_numbering(text: str, start: int) -> int:
    """Move ``start`` back over a "1." or "(1)" numbering the customer put before the first word."""
    window_start = max(0, start - 6)
    match = _NUMBERING_BEFORE.search(text, window_start, start)
    return match.start() if match else start

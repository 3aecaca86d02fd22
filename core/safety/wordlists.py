"""BIP39 word lists, loaded from the ``mnemonic`` package, and the checks built on them."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

from mnemonic import Mnemonic

STANDARD_LENGTHS: frozenset[int] = frozenset({12, 15, 18, 21, 24})
CHINESE_LANGUAGES: tuple[str, ...] = ("chinese_simplified", "chinese_traditional")

# BIP39 English words that are also everyday English function words and verbs. A run of list words that
# is full of them is a sentence ("can you please tell me what this fee is"), not a seed: a random seed
# word is one of these with a probability of about 6% (117 of the 2,048).
_EVERYDAY_LIST_WORDS = frozenset(
    (
        "about", "above", "across", "again", "all", "almost", "alone", "already", "also", "always",
        "among", "another", "any", "around", "able", "because", "before", "behind", "below", "between",
        "both", "can", "come", "during", "either", "else", "end", "enough", "ever", "every", "fall",
        "few", "find", "first", "follow", "for", "give", "good", "great", "have", "hello", "here", "hold",
        "hope", "how", "into", "just", "keep", "kind", "know", "later", "leave", "less", "like", "little",
        "live", "long", "make", "many", "maybe", "more", "most", "much", "must", "near", "need", "never",
        "next", "now", "off", "often", "okay", "once", "one", "only", "open", "other", "over", "own",
        "people", "place", "please", "put", "quick", "rather", "ready", "really", "right", "same", "say",
        "second", "see", "seem", "shall", "short", "should", "since", "some", "someone", "soon", "still",
        "such", "sure", "take", "tell", "than", "that", "then", "there", "they", "thing", "think", "this",
        "time", "today", "together", "tomorrow", "too", "try", "two", "under", "until", "upon", "use",
        "very", "wait", "want", "what", "when", "where", "which", "while", "why", "will", "wish", "with",
        "within", "without", "work", "would", "wrong", "year", "yes", "you", "young"
    )
)  # fmt: skip

# Everyday words outside the list. A typo-tolerant match must never turn one of these into a seed word
# ("the" is one letter away from "they", "and" from "hand").
_EVERYDAY_OTHER_WORDS = frozenset(
    (
        "a", "an", "and", "are", "as", "at", "be", "been", "but", "by", "did", "do", "does", "for",
        "from", "had", "has", "he", "her", "him", "his", "i", "if", "in", "is", "it", "its", "me", "my",
        "no", "not", "of", "on", "or", "our", "she", "so", "the", "their", "them", "to", "up", "us",
        "was", "we", "were", "who", "whom", "you", "your", "yours", "mine", "this", "these", "those",
        "am", "im", "ive", "dont", "cant", "wont", "didnt", "isnt", "could", "cannot", "get",
        "got", "let", "lets", "thanks", "thank", "hi", "hey", "ok", "via", "per", "out", "down", "after",
        "each", "onto", "ours", "what's", "whats", "how", "why", "who", "any", "some"
    )
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class EnglishList:
    """The English BIP39 list and the look-ups the seed detector needs."""

    words: frozenset[str]
    everyday: frozenset[str]
    never_fuzzy: frozenset[str]
    one_deletion: frozenset[str]

    def is_word(self, token: str) -> bool:
        """Whether ``token`` (lower case) is a list word."""
        return token in self.words

    def is_typo(self, token: str) -> bool:
        """Whether ``token`` (lower case, not a list word) is one edit away from a list word.

        Covers a missing letter, an extra letter and a replaced letter (and, as a side effect, some
        swapped neighbours), using deletion neighbourhoods so no per-word scan of the list is needed.
        """
        if not 3 <= len(token) <= 9 or token in self.never_fuzzy or not token.isalpha():
            return False
        if token in self.one_deletion:
            return True
        for i in range(len(token)):
            shorter = token[:i] + token[i + 1 :]
            if shorter in self.words or shorter in self.one_deletion:
                return True
        return False


@dataclass(frozen=True, slots=True)
class ChineseList:
    """The union of the simplified and traditional Chinese BIP39 lists.

    Attributes:
        rank: Character to list index. Both lists are ordered by frequency of use and the 1,275
            characters they share sit at the same index, so one map serves both.

    """

    rank: dict[str, int]

    def __contains__(self, char: object) -> bool:
        return char in self.rank


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


@functools.cache
def english() -> EnglishList:
    """Return the English list and its derived look-ups (built once)."""
    words = frozenset(Mnemonic("english").wordlist)
    one_deletion: set[str] = set()
    for word in words:
        one_deletion |= _deletions(word)
    return EnglishList(
        words=words,
        everyday=_EVERYDAY_LIST_WORDS & words,
        never_fuzzy=_EVERYDAY_OTHER_WORDS | _EVERYDAY_LIST_WORDS,
        one_deletion=frozenset(one_deletion - words),
    )


@functools.cache
def chinese() -> ChineseList:
    """Return the union of the simplified and traditional Chinese lists (built once)."""
    rank: dict[str, int] = {}
    for language in CHINESE_LANGUAGES:
        for index, char in enumerate(Mnemonic(language).wordlist):
            rank.setdefault(char, index)
    return ChineseList(rank=rank)


@functools.cache
def _mnemonic(language: str) -> Mnemonic:
    return Mnemonic(language)


def checksum_valid(words: Sequence[str], languages: Sequence[str] = ("english",)) -> bool:
    """Whether ``words`` form a BIP39 mnemonic with a valid checksum in one of ``languages``.

    Args:
        words: The words (lower case) or, for Chinese, the single characters.
        languages: ``mnemonic`` language names to try.

    """
    if len(words) not in STANDARD_LENGTHS:
        return False
    phrase = " ".join(words)
    return any(_mnemonic(language).check(phrase) for language in languages)

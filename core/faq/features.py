"""Lexical features of normalised text for the BM25 index.

Whole words give precision; character n-grams let a misspelt English word ("withdrawl") or a
Chinese phrase segmented differently ("到账" / "到 账") still share most of its features.
"""

from __future__ import annotations

from core.text.segment import segment

_EN_NGRAM = 3
# Feature families are prefixed so that, say, the word "id" and the n-gram "id" never collide.
_WORD = "w:"
_BIGRAM = "b:"
_NGRAM = "c:"
_HAN = "z:"


def _is_han(word: str) -> bool:
    return "\u3400" <= word[0] <= "\u9fff" or "\uf900" <= word[0] <= "\ufaff"


def _latin_ngrams(word: str) -> list[str]:
    padded = f"<{word}>"
    if len(padded) <= _EN_NGRAM:
        return [_NGRAM + padded]
    return [_NGRAM + padded[i : i + _EN_NGRAM] for i in range(len(padded) - _EN_NGRAM + 1)]


def _han_chars(run: str) -> list[str]:
    grams = [_HAN + ch for ch in run]
    grams.extend(_HAN + run[i : i + 2] for i in range(len(run) - 1))
    return grams


def lexical_features(text: str) -> list[str]:
    """Turn normalised text into BM25 features (with repeats: term frequency matters).

    Space-separated words give the word, its character trigrams and the bigram with the next
    word; Chinese gives jieba's words, their bigrams, and the character unigrams and bigrams of
    each run of Chinese characters (which do not depend on how jieba split the run).

    Args:
        text: Output of :func:`core.text.normalize.normalize`.

    Returns:
        Feature strings, possibly empty.

    """
    features: list[str] = []
    previous: str | None = None
    han_run = ""
    for word in segment(text):
        features.append(_WORD + word)
        if _is_han(word):
            han_run += word
        else:
            if han_run:
                features.extend(_han_chars(han_run))
                han_run = ""
            if not word.isdigit():
                features.extend(_latin_ngrams(word))
        if previous is not None:
            features.append(_BIGRAM + previous + " " + word)
        previous = word
    if han_run:
        features.extend(_han_chars(han_run))
    return features

"""Canonical form of customer text before matching.

Customers type the same question in many shapes: full-width letters from a Chinese input method,
traditional characters, shouting capitals, emoji and decorative punctuation. Everything here maps
those variants onto one form so that the lexical index and the embedding model see the same text.
"""

from __future__ import annotations

import threading
import unicodedata
from functools import lru_cache
from typing import Protocol

from core.text.courtesy import strip_courtesy

# Apostrophes vanish inside words ("hasn't" -> "hasnt") so that the contraction and its sloppy
# spelling without the apostrophe become the same token.
_APOSTROPHES = frozenset("'\u2019\u02bc\uff07`")
# Invisible characters that break tokens apart or glue them together without the user seeing it.
_INVISIBLE = frozenset("\u200b\u200c\u200d\u2060\ufeff\u00ad")


class _Converter(Protocol):
    def convert(self, text: str) -> str: ...


_converter_lock = threading.Lock()


@lru_cache(maxsize=1)
def _converter() -> _Converter:
    import opencc

    # tw2sp also maps Taiwanese vocabulary (軟體 -> 软件, 網路 -> 网络), not only the characters.
    converter: _Converter = opencc.OpenCC("tw2sp")
    return converter


def _has_han(text: str) -> bool:
    return any("\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff" for ch in text)


def to_simplified(text: str) -> str:
    """Convert traditional Chinese (including Taiwanese phrasing) to simplified Chinese.

    Args:
        text: Any text; characters other than Chinese are returned unchanged.

    Returns:
        The text with traditional characters and phrases replaced by their simplified forms.

    """
    if not _has_han(text):
        return text
    with _converter_lock:
        return _converter().convert(text)


def _fold_char(ch: str) -> str:
    if ch in _APOSTROPHES or ch in _INVISIBLE:
        return ""
    category = unicodedata.category(ch)
    if category[0] in "PSZ" or category == "Cc":
        return " "
    return ch


def light_normalize(text: str) -> str:
    """Return ``text`` in NFKC, simplified Chinese and single spaces, keeping case and punctuation.

    This is the form given to the embedding model, which understands "hasn't" and "?" better
    than their stripped versions.

    Args:
        text: Raw text.

    Returns:
        The lightly normalised text.

    """
    return " ".join(to_simplified(unicodedata.normalize("NFKC", text)).split())


def normalize(text: str) -> str:
    """Return the canonical matching form of ``text``.

    Steps: NFKC (full-width letters, digits and punctuation become ASCII), case folding,
    traditional to simplified Chinese, punctuation, symbols and emoji to spaces, apostrophes
    removed inside words, whitespace collapsed.

    Args:
        text: Raw customer text.

    Returns:
        Lower-case, simplified, punctuation-free text with single spaces; ``""`` when nothing
        meaningful is left.

    """
    folded = unicodedata.normalize("NFKC", text).casefold()
    folded = to_simplified(folded)
    return " ".join("".join(_fold_char(ch) for ch in folded).split())


def normalize_question(text: str) -> str:
    """Return :func:`normalize` of ``text`` without the greetings, pleas and thanks around it.

    The form questions and knowledge-base examples are compared in (exact match and lexical
    index); see :mod:`core.text.courtesy`.

    Args:
        text: Raw customer text.

    Returns:
        The normalised question.

    """
    return strip_courtesy(normalize(text))


def light_question(text: str) -> str:
    """Return :func:`light_normalize` of ``text`` without the greetings, pleas and thanks around it.

    The form the embedding model reads questions and knowledge-base examples in.

    Args:
        text: Raw customer text.

    Returns:
        The lightly normalised question.

    """
    return strip_courtesy(light_normalize(text))

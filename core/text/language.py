"""Which language a customer wrote in, and which one to answer in."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Literal

Language = Literal["zh", "en"]
Detected = Literal["zh", "en", "mixed"]

# A Chinese word is on average about 1.5 characters long: this puts counts of Han characters and
# of Latin words on one scale.
_HAN_CHARS_PER_WORD = 1.5
# Below this share the minority script is treated as borrowed terms (USDT, KYC, 提现 in English).
_MIXED_SHARE = 0.25


@dataclass(frozen=True, slots=True)
class ScriptCounts:
    """Amount of Chinese and Latin-script text, both measured in approximate words."""

    zh_words: float
    en_words: float


def _is_han(ch: str) -> bool:
    code = ord(ch)
    return (
        0x4E00 <= code <= 0x9FFF
        or 0x3400 <= code <= 0x4DBF
        or 0xF900 <= code <= 0xFAFF
        or 0x20000 <= code <= 0x2FA1F
    )


def count_scripts(text: str) -> ScriptCounts:
    """Measure the Chinese and Latin-script parts of ``text``.

    Args:
        text: Raw or normalised text.

    Returns:
        Han characters converted to approximate words, and Latin words (runs of Latin letters).

    """
    han = 0
    latin_words = 0
    in_word = False
    for ch in unicodedata.normalize("NFKC", text):
        if _is_han(ch):
            han += 1
            in_word = False
        elif (ch.isascii() and ch.isalpha()) or (ch.isalpha() and "LATIN" in unicodedata.name(ch, "")):
            if not in_word:
                latin_words += 1
            in_word = True
        else:
            in_word = False
    return ScriptCounts(zh_words=han / _HAN_CHARS_PER_WORD, en_words=float(latin_words))


def detect_language(text: str) -> Detected:
    """Classify ``text`` as Chinese, English or a real mix of both.

    A few English terms inside a Chinese sentence ("我的USDT充值没到账") still count as Chinese,
    and the other way round; text with no letters at all counts as English.

    Args:
        text: Customer text in any form.

    Returns:
        ``"zh"``, ``"en"`` or ``"mixed"``.

    """
    counts = count_scripts(text)
    total = counts.zh_words + counts.en_words
    if total == 0:
        return "en"
    zh_share = counts.zh_words / total
    if zh_share >= 1 - _MIXED_SHARE:
        return "zh"
    if zh_share <= _MIXED_SHARE:
        return "en"
    return "mixed"


def reply_language(text: str, default: Language = "en") -> Language:
    """Choose the language to answer ``text`` in.

    Mixed text is answered in the language that makes up most of it; a tie, or text without
    letters, gets ``default``.

    Args:
        text: Customer text.
        default: Language used when the text does not decide.

    Returns:
        ``"zh"`` or ``"en"``.

    """
    counts = count_scripts(text)
    if counts.zh_words > counts.en_words:
        return "zh"
    if counts.en_words > counts.zh_words:
        return "en"
    return default

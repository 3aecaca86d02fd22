"""Text clean-up shared by the validators: width folding, invisible characters, alias keys."""

from __future__ import annotations

import re
import unicodedata

# Zero-width and bidi marks ride along when people copy from web pages and chat apps.
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff\u00ad]")
_CJK_END = re.compile(r"[\u3400-\u9fff]$")
_ALIAS_NOISE = re.compile(r"[\s\-_.·]+")


def fold(text: str) -> str:
    """Return ``text`` NFKC-normalised (full-width "５０" becomes "50") with invisible marks removed."""
    return _INVISIBLE.sub("", unicodedata.normalize("NFKC", text))


def compact(text: str) -> str:
    """Return :func:`fold` of ``text`` with all whitespace removed (no identifier contains any)."""
    return "".join(fold(text).split())


def alias_key(text: str) -> str:
    """Return the lookup key of an asset or network name: folded, case-folded, separators removed."""
    return _ALIAS_NOISE.sub("", fold(text).casefold())


def strip_label(text: str, labels: tuple[str, ...]) -> str:
    """Drop a leading field label such as "TXID:" or "地址：" that customers paste along with a value."""
    folded = fold(text).strip()
    for label in labels:
        # A Latin label needs a separator ("mailbox@x.com" is not "mail" + "box@x.com"); a CJK one needs
        # a separator or a non-CJK character after it ("币安币" is not "币" + "安币").
        separator = (
            r"\s*[:=：]?\s*(?![\u3400-\u9fff])" if _CJK_END.search(label) else r"(?:\s*[:=：#]\s*|\s+)"
        )
        match = re.match(rf"(?i)^\s*{re.escape(label)}{separator}", folded)
        if match:
            return folded[match.end() :]
    return folded


_LOOKALIKES = {
    "en": {
        "0": "'0' (zero)",
        "O": "'O' (capital o)",
        "I": "'I' (capital i)",
        "l": "'l' (lower-case L)",
        " ": "a space",
    },
    "zh": {
        "0": "“0”（数字零）",
        "O": "“O”（大写字母 O）",
        "I": "“I”（大写字母 I）",
        "l": "“l”（小写字母 L）",
        " ": "空格",
    },
}
_UNPRINTABLE = {"en": "an invisible character (U+{code:04X})", "zh": "不可见字符 (U+{code:04X})"}
_QUOTED = {"en": "'{char}'", "zh": "“{char}”"}


def describe_char(char: str, lang: str = "en") -> str:
    """Return a character as a customer can recognise it in a message ("'O' (capital o)")."""
    named = _LOOKALIKES[lang].get(char)
    if named is not None:
        return named
    if not char.isprintable():
        return _UNPRINTABLE[lang].format(code=ord(char))
    return _QUOTED[lang].format(char=char)


def describe_char_zh(char: str) -> str:
    """Chinese counterpart of :func:`describe_char`."""
    return describe_char(char, "zh")


def a_or_an(word: str, *, capital: bool = False) -> str:
    """Return ``word`` with its English indefinite article ("an ERC20", "a TRC20").

    Network names are read letter by letter or as words; "X" is read "ex", so it takes "an".
    """
    article = "an" if word[:1].upper() in "AEIOX" else "a"
    return f"{article.capitalize() if capital else article} {word}"

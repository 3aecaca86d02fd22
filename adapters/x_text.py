"""Tweet text: X's weighted length, the link allow-list and clean shortening to 280.

X counts a tweet in weighted units (twitter-text v3): characters in the Latin, Greek,
Cyrillic and general-punctuation ranges weigh 1, everything else (CJK, emoji) weighs 2, and
every URL weighs 23 whatever its length (it is wrapped in a t.co link). The limit is 280.
An emoji weighs 2 with its variation selector, skin tone or ZWJ-joined parts.

A public reply keeps only links whose host is on the brand's allow-list (or a subdomain of
it). A reply that is too long is cut at the last whole sentence that fits (else the last
whole word, else a character), ends with an ellipsis, and keeps the first allowed link and
every official handle it named: the link is where the full answer is, and the handles are
the impersonation defence (a customer must always see which accounts are really ours).
A public reply's closing paragraph (the invitation to DM) survives the cut too.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from urllib.parse import urlsplit

from core.safety import links as safety

MAX_TWEET = 280
MAX_DM = 10_000
URL_WEIGHT = 23
ELLIPSIS = "…"
_LIGHT_RANGES = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))
_TLDS = (
    "com|net|org|io|co|app|dev|info|me|xyz|ly|gg|ai|cn|hk|tw|sg|jp|kr|uk|us|eu|de|fr|ru|in|"
    "exchange|finance|help|support|link|site|online|page|to|cc|vip|top|pro|biz"
)
_URL = re.compile(
    r"https?://[^\s<>\"'）)]*[^\s<>\"'.,;:!?）)]"
    rf"|(?<![\w@./-])(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+(?:{_TLDS})\b(?:/[^\s<>\"']*[^\s<>\"'.,;:!?)])?",
    re.IGNORECASE,
)
_JOINING = re.compile("[\ufe00-\ufe0f\u200d\u20e3\U0001f3fb-\U0001f3ff]")
_ZWJ = 0x200D
_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s+|(?<=[。！？])")
_LIST_MARKER = re.compile(r"^\d{1,2}[.)]$")
_SPACES = re.compile(r"[ \t]+")
_BLANK_LINES = re.compile(r"\n{3,}")


def _weight(text: str) -> int:
    total = 0
    joined = False
    for char in text:
        point = ord(char)
        if joined or _JOINING.search(char):
            # Variation selectors, skin tones, keycaps and ZWJ-joined parts belong to the emoji before.
            joined = point == _ZWJ
            continue
        total += 1 if any(low <= point <= high for low, high in _LIGHT_RANGES) else 2
    return total


def weighted_length(text: str) -> int:
    """The length X counts for ``text`` (URLs as 23, CJK and emoji as 2)."""
    text = unicodedata.normalize("NFC", text)
    total = 0
    position = 0
    for match in _URL.finditer(text):
        total += _weight(text[position : match.start()])
        total += URL_WEIGHT if "://" in match.group() else max(URL_WEIGHT, len(match.group()))
        position = match.end()
    return total + _weight(text[position:])


def links(text: str) -> list[str]:
    """The URLs and bare domains in ``text``, in order."""
    return [m.group() for m in _URL.finditer(text)]


def host_allowed(link: str, allow_list: Iterable[str]) -> bool:
    """Whether the link's host is an allowed domain or a subdomain of one."""
    host = urlsplit(link if "://" in link else f"https://{link}").hostname or ""
    return safety.host_allowed(host, [d.lstrip(".") for d in allow_list if d.strip()])


def drop_foreign_links(text: str, allow_list: Iterable[str]) -> str:
    """Remove every link whose host is not on the allow-list, tidying the spaces left."""
    allowed = tuple(allow_list)
    kept = _URL.sub(lambda m: m.group() if host_allowed(m.group(), allowed) else "", text)
    return tidy(kept)


def tidy(text: str) -> str:
    """Collapse runs of spaces and blank lines, and trim."""
    lines = [_SPACES.sub(" ", line).strip() for line in text.strip().split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def shorten(text: str, limit: int = MAX_TWEET, keep: Sequence[str] = ()) -> str:
    """Fit ``text`` in ``limit`` weighted characters, keeping the ``keep`` strings at the end.

    Args:
        text: The text to fit.
        limit: X's weighted limit.
        keep: Strings (a link, official handles) that must survive; those already in the
            text stay where they are when it fits, otherwise they are appended after the cut.

    """
    text = tidy(text)
    if weighted_length(text) <= limit:
        return text
    missing: list[str] = []
    for _ in range(len(keep) + 1):
        tail = " ".join(missing)
        cut = _cut(text, limit - (weighted_length(tail) + 1 if tail else 0))
        now_missing = [item for item in keep if item not in cut]
        if now_missing == missing:
            break
        missing = now_missing
    tail = " ".join(missing)
    return f"{cut} {tail}" if tail else cut


def fit_reply(text: str, limit: int = MAX_TWEET, keep: Sequence[str] = ()) -> str:
    """Fit a public reply like :func:`shorten`, keeping its closing paragraph when the body is cut.

    A public answer about an account ends with what to do next (the invitation to send a
    private message); cutting from the end would drop exactly that. So the closing paragraph
    keeps its first sentences (at most half the limit) and the body is cut to the rest.
    """
    text = tidy(text)
    body, _, closing = text.rpartition("\n\n")
    if weighted_length(text) <= limit or not body:
        return shorten(text, limit, keep)
    ending = _cut(closing, limit // 2)
    if ending.endswith(ELLIPSIS):  # not one whole sentence of it fits: nothing to keep whole
        return shorten(text, limit, keep)
    rest = [item for item in keep if item not in ending]
    return f"{shorten(body, limit - weighted_length(ending) - 2, rest)}\n\n{ending}"


def _sentences(text: str) -> list[str]:
    """The sentences of ``text``; a list item's number ("1.") stays with its item."""
    sentences: list[str] = []
    marker = ""
    for piece in (s.strip() for s in _SENTENCE_END.split(text)):
        if _LIST_MARKER.match(piece):
            marker = piece
        elif piece:
            sentences.append(f"{marker} {piece}" if marker else piece)
            marker = ""
    return sentences


def _cut(text: str, room: int) -> str:
    if weighted_length(text) <= room:
        return text
    budget = room - weighted_length(ELLIPSIS)
    sentences = _sentences(text)
    kept = ""
    for sentence in sentences:
        separator = "" if kept.endswith(("。", "！", "？")) else " "
        candidate = f"{kept}{separator}{sentence.strip()}" if kept else sentence.strip()
        if weighted_length(candidate) > room:
            break
        kept = candidate
    if kept:
        return kept
    words = ""
    for word in text.split(" "):
        candidate = f"{words} {word}" if words else word
        if weighted_length(candidate.rstrip(" ,;:-")) > budget:
            break
        words = candidate
    if words:
        return words.rstrip(" ,;:-") + ELLIPSIS
    piece = ""
    for char in text:
        if weighted_length(piece + char) > budget:
            break
        piece += char
    return piece.rstrip() + ELLIPSIS

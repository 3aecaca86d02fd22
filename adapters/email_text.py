"""The text inside an e-mail: bytes in any charset to ``str``, HTML to plain text, the new part of a reply.

* :func:`decode_text` trusts a declared charset when the bytes agree with it (through its
  superset: GB2312/GBK → GB18030, Big5 → Big5-HKSCS, Latin-1 → Windows-1252, as mail
  clients do), and otherwise detects: UTF-8 first, then charset-normalizer for CJK and
  other scripts, Windows-1252 for Western text it cannot tell apart.
* :func:`html_to_text` sanitises with nh3 (scripts, styles and every attribute but links
  dropped) before reading the text, so no markup ever reaches the engine or an agent.
* :func:`new_text` keeps what the customer wrote in this message: quoted lines, the
  quoted original after "On … wrote:" / "-----Original Message-----" / "在…写道:" and the
  signature are cut.
"""

from __future__ import annotations

import codecs
import re
from html.parser import HTMLParser

import charset_normalizer
import nh3

# Declared charsets read through the superset real mail clients use for them.
_SUPERSETS = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "cp936": "gb18030",
    "big5": "big5hkscs",
    "cp950": "big5hkscs",
    "latin_1": "cp1252",
    "iso8859_1": "cp1252",
    "iso2022_jp": "iso2022_jp_2",
    "euc_kr": "cp949",
}
# What undeclared 8-bit mail is detected as, most likely first (the order breaks ties).
_DETECTABLE = (
    "gb18030",
    "big5",
    "cp1252",
    "shift_jis",
    "euc_jp",
    "euc_kr",
    "cp1251",
    "koi8_r",
    "cp1253",
    "cp1254",
    "cp1255",
    "cp1256",
)
_BLOCKS = {
    "p",
    "div",
    "br",
    "li",
    "tr",
    "table",
    "ul",
    "ol",
    "hr",
    "pre",
    "blockquote",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "footer",
    "article",
    "dd",
    "dt",
}
_QUOTE_HEADERS = re.compile(
    r"^\s*("
    r"-{2,}\s*(original message|forwarded message|原始邮件|原始郵件|转发的邮件)\s*-{2,}"
    r"|_{10,}"
    r"|在.{0,80}(写道|寫道)\s*[:：]?"
    r"|.{0,80}(写道|寫道)\s*[:：]"
    r"|le .{0,120} a écrit\s*:"
    r"|am .{0,120} schrieb .{0,80}:"
    r")\s*$",
    re.IGNORECASE,
)
_HEADER_BLOCK = re.compile(r"^\s*\*?(from|发件人|寄件者|de|von)\s*\*?\s*[:：]", re.IGNORECASE)
_HEADER_FOLLOW = re.compile(
    r"^\s*\*?(sent|date|to|subject|cc|发送时间|日期|收件人|主题|寄件日期|主旨)\s*\*?\s*[:：]", re.IGNORECASE
)
_MOBILE_SIGNATURES = re.compile(
    r"^\s*(sent from my \w+|sent from (mail|outlook|yahoo mail)|get outlook for \w+"
    r"|发自我的\s*\w+|从我的\s*\w+\s*发送|來自我的\s*\w+|发自\s*(网易|qq)邮箱.*)\s*$",
    re.IGNORECASE,
)


def canonical_charset(name: str | None) -> str | None:
    """The Python codec for a declared charset, or ``None`` if unknown."""
    if not name:
        return None
    try:
        return codecs.lookup(name.strip().strip("\"'")).name.replace("-", "_")
    except (LookupError, ValueError):
        return None


def decode_text(payload: bytes, declared: str | None) -> tuple[str, str, bool]:
    """Decode a body or header.

    Returns:
        The text, the codec used, and whether that codec was detected rather than
        the declared one (undeclared 8-bit bytes, or a wrong declaration).

    """
    codec = canonical_charset(declared)
    if codec == "ascii":  # "us-ascii" is what clients declare when they declare nothing
        codec = None
    if codec is not None:
        for candidate in dict.fromkeys((_SUPERSETS.get(codec, codec), codec)):
            try:
                return payload.decode(candidate), candidate, False
            except UnicodeDecodeError:
                pass
    if b"\x1b$" in payload or b"\x1b(" in payload:  # ISO-2022-JP escapes: 7-bit, so also valid UTF-8
        try:
            return payload.decode("iso2022_jp_2"), "iso2022_jp_2", True
        except UnicodeDecodeError:
            pass
    try:
        return payload.decode("utf-8"), "utf_8", codec not in (None, "utf_8")
    except UnicodeDecodeError:
        pass
    detected = _detect(payload)
    return payload.decode(detected, errors="replace"), detected, True


def _detect(payload: bytes) -> str:
    """The likeliest of the encodings mail arrives in; ties go to our customers' languages.

    A few words of GBK decode as well in EUC-KR or Big5, and Latin-1 as well in Windows-1251:
    among the candidates with the least "chaos", the first in :data:`_DETECTABLE` wins.
    """
    sample = payload[:16384]  # detection time grows with the input; a sample decides as well
    matches = list(charset_normalizer.from_bytes(sample, cp_isolation=list(_DETECTABLE)))
    if not matches:
        return "cp1252"
    least = min(match.chaos for match in matches)
    tied = {canonical_charset(m.encoding) for m in matches if m.chaos <= least + 0.05}
    name = next((codec for codec in _DETECTABLE if codec in tied), "cp1252")
    return _SUPERSETS.get(name, name)


class _TextExtractor(HTMLParser):
    """Reads sanitised HTML as lines of text; lines inside ``<blockquote>`` get ``> `` marks."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self._line: list[str] = []
        self._quote = 0
        self._pre = 0
        self._href: str | None = None
        self._link_text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCKS:
            self._break()
        if tag == "blockquote":
            self._quote += 1
        elif tag == "pre":
            self._pre += 1
        elif tag == "li":
            self._line.append("- ")
        elif tag == "a":
            self._href = dict(attrs).get("href")
            self._link_text = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._href:
            shown = "".join(self._link_text).strip()
            target = self._href.removeprefix("mailto:")
            if target and target != shown:
                self._line.append(f" ({target})")
            self._href = None
        if tag in _BLOCKS:
            self._break()
        if tag == "blockquote":
            self._quote = max(0, self._quote - 1)
        elif tag == "pre":
            self._pre = max(0, self._pre - 1)

    def handle_data(self, data: str) -> None:
        if self._pre:
            first, *rest = data.split("\n")
            self._line.append(first)
            for line in rest:
                self._break()
                self._line.append(line)
        else:
            data = re.sub(r"\s+", " ", data)
            self._line.append(data)
        if self._href is not None:
            self._link_text.append(data)

    def _break(self) -> None:
        text = "".join(self._line).strip()
        self._line = []
        self.lines.append(("> " * self._quote + text).rstrip() if text else "")

    def text(self) -> str:
        self._break()
        joined = "\n".join(self.lines)
        return re.sub(r"\n{3,}", "\n\n", joined).strip()


def html_to_text(html: str) -> str:
    """Plain text from an HTML body, sanitised first; quoted blocks keep ``> `` marks."""
    safe = nh3.clean(
        html,
        clean_content_tags={"script", "style", "title", "head"},
        attributes={"a": {"href"}},
        url_schemes={"http", "https", "mailto"},
        link_rel=None,
    )
    extractor = _TextExtractor()
    extractor.feed(safe)
    extractor.close()
    return extractor.text()


def new_text(text: str) -> str:
    """What the sender wrote in this message: quotes, quoted originals and signatures cut.

    When cutting would leave nothing (a message that is only a quote), the text is kept whole.
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept: list[str] = []
    for index, line in enumerate(lines):
        if line.rstrip() in ("--", "-- ") or _MOBILE_SIGNATURES.match(line):
            break
        if _QUOTE_HEADERS.match(line) or _reply_attribution(lines, index) or _header_block(lines, index):
            break
        if line.lstrip().startswith(">"):
            continue
        kept.append(line.rstrip())
    result = "\n".join(kept).strip()
    return re.sub(r"\n{3,}", "\n\n", result) if result else text.strip()


def _reply_attribution(lines: list[str], index: int) -> bool:
    """``On <date>, <name> wrote:``, possibly wrapped over two lines."""
    line = lines[index].strip()
    if not re.match(r"^on\s", line, re.IGNORECASE):
        return False
    if line.lower().endswith("wrote:"):
        return True
    following = lines[index + 1].strip().lower() if index + 1 < len(lines) else ""
    return len(line) < 200 and following.endswith("wrote:")


def _header_block(lines: list[str], index: int) -> bool:
    """An Outlook-style quoted header: ``From:`` followed closely by ``Sent:``/``To:``/``Subject:``."""
    if not _HEADER_BLOCK.match(lines[index]):
        return False
    return any(_HEADER_FOLLOW.match(line) for line in lines[index + 1 : index + 4])

"""One received e-mail, parsed into what Helpline needs; never raises, whatever the bytes.

The standard library's modern API (``policy.default``) reads the structure; the text comes
from the plain-text parts (HTML only when there is no plain text, sanitised), decoded by
:mod:`adapters.email_text` whatever the charset. Attachments are described, not kept: their
bytes stay in the mailbox, and dangerous types or oversized files are refused with the
reason. What the engine reads is the new part of the message (quotes and signature cut);
the whole body is kept for the audit trail. Anything odd about the message is recorded in
``problems`` rather than failing.
"""

from __future__ import annotations

import email
import email.header
import email.utils
import hashlib
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import Message
from email.policy import default as default_policy
from pathlib import PurePosixPath

from adapters.email_text import decode_text, html_to_text, new_text

log = logging.getLogger(__name__)

DEFAULT_MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
DEFAULT_MAX_TEXT_CHARS = 20_000
MAX_BODY_CHARS = 200_000
MAX_PARTS = 200
_MESSAGE_ID = re.compile(r"<[^<>\s]+>")
_AUTH_RESULT = re.compile(r"\b(spf|dkim|dmarc)\s*=\s*([a-z]+)", re.IGNORECASE)
# Executables and scripts a customer's mail must never hand an agent.
DANGEROUS_EXTENSIONS = frozenset(
    {
        "exe",
        "scr",
        "bat",
        "cmd",
        "com",
        "pif",
        "vbs",
        "vbe",
        "js",
        "jse",
        "wsf",
        "wsh",
        "msi",
        "msp",
        "mst",
        "hta",
        "cpl",
        "jar",
        "ps1",
        "psm1",
        "lnk",
        "reg",
        "inf",
        "dll",
        "sys",
        "iso",
        "img",
        "vhd",
        "vhdx",
        "docm",
        "xlsm",
        "pptm",
        "dotm",
        "xltm",
        "ppam",
        "sh",
        "app",
        "apk",
        "gadget",
        "application",
    }
)
DANGEROUS_TYPES = frozenset(
    {
        "application/x-msdownload",
        "application/x-msdos-program",
        "application/x-dosexec",
        "application/x-executable",
        "application/x-sh",
        "application/java-archive",
        "application/x-ms-shortcut",
        "application/hta",
        "application/vnd.ms-word.document.macroenabled.12",
        "application/vnd.ms-excel.sheet.macroenabled.12",
    }
)


@dataclass(frozen=True, slots=True)
class AttachmentInfo:
    """An attached file as the message describes it; ``refused`` says why it is not accepted."""

    index: int
    name: str | None
    mime_type: str
    size: int
    refused: str | None = None


@dataclass(frozen=True, slots=True)
class ParsedEmail:
    """What Helpline reads from one message.

    Attributes:
        message_id: The ``Message-ID`` in angle brackets (made up from the bytes' hash
            when the message has none, so a re-fetch yields the same one).
        subject: The decoded subject.
        from_address: The sender's address, lower-cased; empty when there is none.
        from_name: The sender's display name.
        in_reply_to: Message-IDs from ``In-Reply-To``.
        references: Message-IDs from ``References``, oldest first.
        text: The new part of the message, for the engine.
        body: The whole body text, for the audit trail.
        headers: Every header, decoded, in order.
        content_type: The top-level content type.
        report_type: The ``report-type`` of a ``multipart/report`` (DSNs, read receipts).
        attachments: Every attachment, refused ones included.
        authentication: ``spf``/``dkim``/``dmarc`` results from ``Authentication-Results``.
        problems: What was odd: defects, detected charsets, truncation.

    """

    message_id: str
    subject: str
    from_address: str
    from_name: str | None
    to: tuple[str, ...] = ()
    date: datetime | None = None
    in_reply_to: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    text: str = ""
    body: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    content_type: str = "text/plain"
    report_type: str | None = None
    attachments: tuple[AttachmentInfo, ...] = ()
    authentication: dict[str, str] = field(default_factory=dict)
    problems: tuple[str, ...] = ()

    def header(self, name: str) -> str:
        """The first header called ``name`` (any case), or ``""``."""
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), "")

    def has_header(self, name: str) -> bool:
        """Whether the message has a header called ``name``."""
        wanted = name.lower()
        return any(key.lower() == wanted for key, _ in self.headers)


def parse_email(
    data: bytes,
    *,
    max_attachment_bytes: int = DEFAULT_MAX_ATTACHMENT_BYTES,
    max_text_chars: int = DEFAULT_MAX_TEXT_CHARS,
) -> ParsedEmail:
    """Parse a message as received; problems are recorded, never raised."""
    fallback_id = f"<{hashlib.sha256(data).hexdigest()[:32]}@helpline.invalid>"
    try:
        return _parse(data, fallback_id, max_attachment_bytes, max_text_chars)
    except Exception as exc:  # a message that defeats the parser must still be recorded
        log.warning("unparseable e-mail %s: %r", fallback_id, exc)
        return ParsedEmail(
            message_id=fallback_id,
            subject="",
            from_address="",
            from_name=None,
            problems=(f"unparseable: {type(exc).__name__}: {exc}"[:300],),
        )


def _parse(data: bytes, fallback_id: str, max_attachment_bytes: int, max_text_chars: int) -> ParsedEmail:
    message = email.message_from_bytes(data, policy=default_policy)
    problems: list[str] = []
    headers = tuple((name, clean(decode_header(value))) for name, value in message.raw_items())
    first = {name.lower(): value for name, value in reversed(headers)}
    ids = _ids(first.get("message-id", ""))
    if not ids:
        problems.append("no Message-ID: one was made from the message's hash")
    from_name, from_address = email.utils.parseaddr(first.get("from", ""))
    from_address = from_address.strip().lower() if from_address.count("@") == 1 else ""
    body, from_html, attachments = _content(message, max_attachment_bytes, problems)
    text = new_text(body)
    if len(text) > max_text_chars:
        problems.append(f"text cut to {max_text_chars} characters")
        text = text[:max_text_chars]
    if from_html:
        problems.append("text read from HTML")
    problems.extend(sorted({type(d).__name__ for part in _walk(message) for d in part.defects}))
    return ParsedEmail(
        message_id=ids[0] if ids else fallback_id,
        subject=" ".join(first.get("subject", "").split()),
        from_address=from_address,
        from_name=from_name.strip() or None,
        to=tuple(a.lower() for _, a in email.utils.getaddresses([first.get("to", "")]) if "@" in a),
        date=_date(first.get("date", "")),
        in_reply_to=_ids(first.get("in-reply-to", "")),
        references=_ids(first.get("references", "")),
        text=clean(text),
        body=clean(body[:MAX_BODY_CHARS]),
        headers=headers,
        content_type=message.get_content_type(),
        report_type=_report_type(message),
        attachments=attachments,
        authentication=_authentication(headers),
        problems=tuple(clean(p) for p in problems),
    )


def _report_type(message: Message) -> str | None:
    if message.get_content_type() != "multipart/report":
        return None
    value = message.get_param("report-type", header="content-type")
    return str(value).lower() if isinstance(value, str) and value else "unknown"


def _ids(value: str) -> tuple[str, ...]:
    """Message-IDs in a header; one too long for the store is replaced by a stable short form."""
    return tuple(
        i if len(i) <= 250 else f"<{hashlib.sha256(i.encode()).hexdigest()[:40]}@long-id.invalid>"
        for i in _MESSAGE_ID.findall(value)
    )


def decode_header(raw: str) -> str:
    """A header's text: RFC 2047 encoded words and undeclared 8-bit bytes decoded, lines unfolded."""
    raw = re.sub(r"\r?\n[ \t]+", " ", raw).strip()
    try:
        parts = email.header.decode_header(raw)
    except Exception:  # a malformed encoded word: read the header as it is
        parts = [(raw, None)]
    pieces = []
    for value, charset in parts:
        if isinstance(value, str):
            value = value.encode("utf-8", "surrogateescape")
        pieces.append(decode_text(value, charset)[0])
    return "".join(pieces)


def clean(text: str) -> str:
    """Text every store and JSON encoder accepts: no NUL, no lone surrogates."""
    text = text.replace("\x00", "\ufffd")
    return text.encode("utf-8", "replace").decode("utf-8") if _has_surrogates(text) else text


def _has_surrogates(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _walk(part: Message, depth: int = 0) -> Iterator[Message]:
    """Every part, containers included; a broken multipart (text payload) is a leaf; bounded depth."""
    yield part
    payload = part.get_payload()
    if depth < 20 and part.get_content_maintype() == "multipart" and isinstance(payload, list):
        for sub in payload:
            if isinstance(sub, Message):
                yield from _walk(sub, depth + 1)


def _content(
    message: Message, max_attachment_bytes: int, problems: list[str], depth: int = 0
) -> tuple[str, bool, tuple[AttachmentInfo, ...]]:
    plain: list[str] = []
    html: list[str] = []
    forwarded: list[str] = []
    attachments: list[AttachmentInfo] = []
    leaves = [p for p in _walk(message) if p.get_content_maintype() != "multipart" or p is message]
    leaves = [p for p in leaves if not (p.get_content_maintype() == "multipart" and p.is_multipart())]
    if len(leaves) > MAX_PARTS:
        problems.append(f"{len(leaves)} parts: only the first {MAX_PARTS} read")
        leaves = leaves[:MAX_PARTS]
    for index, part in enumerate(leaves):
        kind = part.get_content_type()
        disposition = (part.get_content_disposition() or "").lower()
        name = _filename(part)
        inline = disposition != "attachment" and (name is None or disposition == "inline")
        if kind in ("text/plain", "text/html") and inline:
            text = _part_text(part, problems)
            (plain if kind == "text/plain" else html).append(text)
            continue
        attachments.append(_attachment(index, part, kind, name, max_attachment_bytes))
        inner = part.get_payload()
        if kind == "message/rfc822" and inline and depth < 3 and isinstance(inner, list) and inner:
            assert isinstance(inner[0], Message)
            text = _content(inner[0], max_attachment_bytes, [], depth + 1)[0]
            if text:
                forwarded.append(f"---------- Forwarded message ----------\n{text}")
    body = "\n\n".join(t.strip() for t in plain if t.strip())
    from_html = False
    if not body and html:
        body = "\n\n".join(html_to_text(t) for t in html).strip()
        from_html = bool(body)
    body = "\n\n".join(t for t in (body, *forwarded) if t)
    if not body and depth == 0:
        problems.append("no text")
    return body, from_html, tuple(attachments)


def _part_text(part: Message, problems: list[str]) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    declared = part.get_content_charset()
    text, codec, detected = decode_text(payload, declared)
    if detected and any(b > 0x7F for b in payload):
        problems.append(f"charset {declared or 'undeclared'}: read as {codec}")
    return text.replace("\r\n", "\n")


def _filename(part: Message) -> str | None:
    try:
        name = part.get_filename()
    except Exception:  # a malformed RFC 2231 parameter
        return "unnamed"
    if not name:
        return None
    name = clean(decode_header(str(name)))
    name = re.sub(r"[\x00-\x1f\x7f]", "", PurePosixPath(name.replace("\\", "/")).name)
    return name[:255] or "unnamed"


def _attachment(index: int, part: Message, kind: str, name: str | None, max_bytes: int) -> AttachmentInfo:
    payload = part.get_payload(decode=True)
    if isinstance(payload, bytes):
        size = len(payload)
    else:
        try:
            size = len(part.as_bytes())
        except Exception:
            size = len(str(part.get_payload()))
    extension = name.rsplit(".", 1)[-1].lower() if name and "." in name else ""
    refused = None
    if extension in DANGEROUS_EXTENSIONS or kind in DANGEROUS_TYPES:
        refused = f"dangerous file type ({'.' + extension if extension else kind})"
    elif size > max_bytes:
        refused = f"larger than {max_bytes} bytes ({size})"
    return AttachmentInfo(index=index, name=name, mime_type=kind, size=size, refused=refused)


def _date(value: str) -> datetime | None:
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _authentication(headers: tuple[tuple[str, str], ...]) -> dict[str, str]:
    """The best result per method (``pass`` wins) across every ``Authentication-Results`` header."""
    results: dict[str, str] = {}
    for name, value in headers:
        if name.lower() != "authentication-results":
            continue
        for method, result in _AUTH_RESULT.findall(value):
            method, result = method.lower(), result.lower()
            if results.get(method) != "pass":
                results[method] = result
    return results

"""Our replies by e-mail: a properly threaded message, sent over SMTP, errors translated.

A reply comes from the support address, goes to the thread's customer, is titled
``Re: <subject> [#HL-1234]`` and carries ``In-Reply-To``/``References`` so it lands in the
customer's thread. Its Message-ID is derived from the outbox idempotency key, so a resend
after a crash is the same message to every mail system that deduplicates.

SMTP outcomes: a connection problem, a timeout or any 4xx reply → ``ChannelUnavailable``
(retried with backoff); a 5xx refusal of the recipient or the content → ``DeliveryRejected``;
a 5xx refusal of our own login or sender address is our configuration, so it is retried too
(an operator can fix it before the attempts run out).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formataddr, formatdate

import aiosmtplib

from conversations.values import Author, OutboundMessage
from core.channels import ChannelUnavailable, DeliveryRejected

_CJK = re.compile(r"[\u3400-\u9fff]")
_ACKNOWLEDGEMENT = {
    "en": "We have received your message: your ticket number is {label}. "
    "Please keep [#{label}] in the subject when you write to us about this request.",
    "zh": "我们已收到您的邮件，工单号为 {label}。就此问题再次来信时，请在主题中保留 [#{label}]。",
}


@dataclass(frozen=True, slots=True)
class SmtpServer:
    """Where and how replies are sent."""

    host: str
    port: int
    security: str  # "none", "starttls" or "ssl"
    username: str
    password: str = field(repr=False)
    timeout: float


@dataclass(frozen=True, slots=True)
class ReplyHeaders:
    """Everything but the text that makes a reply land in the customer's thread."""

    sender: tuple[str, str]
    recipient: tuple[str | None, str]
    subject: str
    message_id: str
    in_reply_to: str | None
    references: tuple[str, ...]


def acknowledgement(label: str, text: str) -> str:
    """The line that tells the customer their ticket number, in the reply's language."""
    lang = "zh" if _CJK.search(text) else "en"
    return _ACKNOWLEDGEMENT[lang].format(label=label)


def compose(
    message: OutboundMessage,
    headers: ReplyHeaders,
    preface: str | None = None,
    link_for: Callable[[str], str | None] | None = None,
) -> EmailMessage:
    """The reply as a MIME message: plain text, buttons listed as options.

    ``link_for`` turns a button's action into a one-click link where the action has one
    (survey ratings); other buttons are listed by their label.
    """
    reply = EmailMessage()
    reply["From"] = formataddr(headers.sender)
    reply["To"] = formataddr((headers.recipient[0] or "", headers.recipient[1]))
    reply["Subject"] = headers.subject
    reply["Date"] = formatdate(usegmt=True)
    reply["Message-ID"] = headers.message_id
    if headers.in_reply_to:
        reply["In-Reply-To"] = headers.in_reply_to
    if headers.references:
        reply["References"] = " ".join(headers.references)
    if message.author == Author.BOT:
        # RFC 3834: other responders must not answer an automatic reply (no loops).
        reply["Auto-Submitted"] = "auto-replied"
    reply["X-Auto-Response-Suppress"] = "All"
    body = message.text.strip()
    if preface:
        body = f"{preface}\n\n{body}"
    if message.buttons:
        lines = []
        for button in message.buttons:
            link = link_for(button.action) if link_for is not None else None
            lines.append(f"- {button.label}: {link}" if link else f"- {button.label}")
        body += "\n\n" + "\n".join(lines)
    reply.set_content(body + "\n", charset="utf-8")
    return reply


async def deliver(reply: EmailMessage, server: SmtpServer) -> None:
    """Hand the reply to the SMTP server.

    Raises:
        ChannelUnavailable: Try again later (connection, timeout, 4xx, our credentials).
        DeliveryRejected: The server refuses this message or recipient for good.

    """
    try:
        await aiosmtplib.send(
            reply,
            hostname=server.host,
            port=server.port,
            username=server.username or None,
            password=server.password or None,
            use_tls=server.security == "ssl",
            start_tls=server.security == "starttls",
            timeout=server.timeout,
        )
    except aiosmtplib.SMTPRecipientsRefused as exc:
        codes = [refusal.code for refusal in exc.recipients]
        detail = "; ".join(f"{r.recipient}: {r.code} {r.message}" for r in exc.recipients)
        if codes and all(code >= 500 for code in codes):
            raise DeliveryRejected(f"recipient refused: {detail}") from exc
        raise ChannelUnavailable(f"recipient deferred: {detail}") from exc
    except aiosmtplib.SMTPRecipientRefused as exc:
        if exc.code >= 500:
            raise DeliveryRejected(f"recipient {exc.recipient} refused: {exc.code} {exc.message}") from exc
        raise ChannelUnavailable(f"recipient {exc.recipient} deferred: {exc.code} {exc.message}") from exc
    except aiosmtplib.SMTPDataError as exc:
        if exc.code >= 500:
            raise DeliveryRejected(f"message refused: {exc.code} {exc.message}") from exc
        raise ChannelUnavailable(f"message deferred: {exc.code} {exc.message}") from exc
    except aiosmtplib.SMTPResponseException as exc:
        raise ChannelUnavailable(f"SMTP server {server.host} answered {exc.code} {exc.message}") from exc
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
        raise ChannelUnavailable(f"cannot send through {server.host}:{server.port}: {exc!r}") from exc

"""Which thread an e-mail belongs to, whether it deserves an answer, and our replies' headers.

Threading: a reply joins its thread through ``In-Reply-To``/``References`` (our own
Message-IDs included, as the outbox recorded them) or the ticket number in the subject
(``[#HL-1234]``), but only when it comes from the thread's own customer address; anything
else starts a new thread whose key is its own Message-ID (so a new subject from the same
sender is a new ticket).

Noise: auto-replies (``Auto-Submitted``, ``X-Autoreply``, ``Precedence: auto_reply``),
bulk and list mail (``Precedence: bulk/junk/list``, ``List-Id``), bounces and reports
(null sender, ``multipart/report``, mailer-daemon) and mail from ourselves are never
answered; :class:`SenderRateLimit` stops a loop with a sender that answers every answer.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from adapters.email_parsing import ParsedEmail

_TICKET_TAG = re.compile(r"\[#\s*([A-Za-z]*-?\d+)\s*\]")
_REPLY_PREFIX = re.compile(
    r"^\s*((re|fwd?|aw|wg|sv|vs|答复|回复|转发|回覆|轉寄)\s*(\[\d+\])?\s*[:：]\s*)+", re.I
)
_ROBOT_SENDERS = re.compile(
    r"^(mailer-daemon|postmaster|no-?reply|do-?not-?reply|bounces?)([+\-.].*)?@", re.I
)
MAX_REFERENCES = 20


@dataclass(frozen=True, slots=True)
class ThreadChoice:
    """Where a message goes: ``thread_key``, and whether that thread existed (``via`` how)."""

    thread_key: str
    via: str  # "references", "ticket" or "new"


def noise_reason(message: ParsedEmail, own_addresses: frozenset[str]) -> str | None:
    """Why this message must not be answered, or ``None`` when it is a person writing to us."""
    auto = message.header("Auto-Submitted").strip().lower()
    if auto and not auto.startswith("no"):
        return f"Auto-Submitted: {auto}"
    if message.has_header("X-Autoreply") or message.has_header("X-Autorespond"):
        return "X-Autoreply"
    precedence = message.header("Precedence").strip().lower()
    if precedence in ("bulk", "junk", "list", "auto_reply"):
        return f"Precedence: {precedence}"
    if message.has_header("List-Id"):
        return "mailing list (List-Id)"
    if message.header("Return-Path").strip() == "<>":
        return "null sender (a bounce)"
    if message.content_type == "multipart/report" or message.report_type:
        return f"report ({message.report_type or 'multipart/report'})"
    if not message.from_address:
        return "no sender address"
    if _ROBOT_SENDERS.match(message.from_address):
        return f"automatic sender {message.from_address}"
    if message.from_address in own_addresses:
        return "sent by this mailbox (a loop)"
    return None


def ticket_reference(subject: str) -> str | None:
    """The ticket tag in a subject: ``"Re: help [#HL-1234]"`` → ``"HL-1234"``."""
    found = _TICKET_TAG.search(subject)
    return found.group(1) if found else None


def base_subject(subject: str) -> str:
    """A subject without ``Re:``/``Fwd:``/``回复:`` prefixes and ticket tags."""
    subject = _TICKET_TAG.sub("", subject)
    return " ".join(_REPLY_PREFIX.sub("", subject).split())


def reply_subject(original: str, ticket_label: str | None) -> str:
    """``"Re: <original> [#HL-1234]"``."""
    base = base_subject(original) or "Your request"
    return f"Re: {base} [#{ticket_label}]" if ticket_label else f"Re: {base}"


def reply_message_id(idempotency_key: str, domain: str) -> str:
    """Our Message-ID for a reply: the same for every attempt to send it, so a resend is a duplicate."""
    digest = hashlib.sha256(f"helpline-email:{idempotency_key}".encode()).hexdigest()[:40]
    return f"<{digest}@{domain}>"


def references_for(parent_references: list[str], parent_id: str | None) -> list[str]:
    """A reply's ``References``: the parent's, then the parent; the root and the latest kept when long."""
    chain = [r for r in parent_references if r != parent_id]
    if parent_id:
        chain.append(parent_id)
    if len(chain) > MAX_REFERENCES:
        chain = [chain[0], *chain[-(MAX_REFERENCES - 1) :]]
    return chain


async def choose_thread(
    message: ParsedEmail,
    thread_of_message: Callable[..., Awaitable[str | None]],
    thread_of_ticket: Callable[[int], Awaitable[str | None]],
    parse_ticket_number: Callable[[str], int | None],
    customer_of: Callable[[str], Awaitable[str | None]],
) -> ThreadChoice:
    """Find the existing thread this message continues, or start a new one.

    Args:
        message: The parsed message.
        thread_of_message: Thread key of a conversation holding any of these Message-IDs.
        thread_of_ticket: Thread key of the conversation of a ticket number.
        parse_ticket_number: ``"HL-1234"`` → ``1234``.
        customer_of: The customer address a thread belongs to.

    """
    candidates: list[tuple[str, str | None]] = []
    ids = [*message.in_reply_to, *reversed(message.references)]
    if ids:
        candidates.append(("references", await thread_of_message(*ids)))
    reference = ticket_reference(message.subject)
    number = parse_ticket_number(reference) if reference else None
    if number is not None:
        candidates.append(("ticket", await thread_of_ticket(number)))
    for via, key in candidates:
        if key is not None and await customer_of(key) == message.from_address:
            return ThreadChoice(key, via)
    return ThreadChoice(message.message_id, "new")


class SenderRateLimit:
    """At most ``limit`` messages per sender in ``window`` seconds (in memory, per process).

    Args:
        limit: Messages accepted per window.
        window: Seconds.
        clock: Monotonic seconds (tests move it).

    """

    def __init__(self, limit: int, window: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._limit = limit
        self._window = window
        self._clock = clock
        self._seen: dict[str, deque[float]] = {}

    def allow(self, sender: str) -> bool:
        """Count a message from ``sender``; ``False`` once it is over the limit."""
        now = self._clock()
        times = self._seen.setdefault(sender, deque())
        while times and times[0] <= now - self._window:
            times.popleft()
        if len(times) >= self._limit:
            return False
        times.append(now)
        if len(self._seen) > 10_000:  # forget senders that have gone quiet
            for quiet in [s for s, t in self._seen.items() if not t or t[-1] <= now - self._window]:
                del self._seen[quiet]
        return True


@dataclass(slots=True)
class ThreadInfo:
    """What the channel remembers of a thread to reply in it (kept in the channel's state).

    Attributes:
        customer: The customer's address: replies go there, and only mail from it joins.
        name: The customer's display name.
        subject: The thread's subject, without prefixes or ticket tag.
        references: The latest customer message's ``References`` chain.
        last: The latest customer message's Message-ID (what a reply answers).
        ticket: The ticket number, once opened.

    """

    customer: str
    name: str | None
    subject: str
    references: list[str]
    last: str
    ticket: int | None = None

    def dumps(self) -> str:
        """JSON for the state store."""
        return json.dumps(
            {
                "customer": self.customer,
                "name": self.name,
                "subject": self.subject,
                "references": self.references,
                "last": self.last,
                "ticket": self.ticket,
            },
            ensure_ascii=False,
        )

    @classmethod
    def loads(cls, text: str | None) -> ThreadInfo | None:
        """Read :meth:`dumps`' JSON; ``None`` for nothing or something unreadable."""
        if not text:
            return None
        try:
            data = json.loads(text)
            return cls(
                customer=str(data["customer"]),
                name=data.get("name"),
                subject=str(data.get("subject") or ""),
                references=[str(r) for r in data.get("references") or []],
                last=str(data["last"]),
                ticket=int(data["ticket"]) if data.get("ticket") is not None else None,
            )
        except (ValueError, KeyError, TypeError):
            return None


def state_key(kind: str, value: str) -> str:
    """A state key for a thread or mailbox; hashed, since Message-IDs outgrow the key column."""
    return f"{kind}:{hashlib.sha256(value.encode()).hexdigest()[:40]}"

r"""The e-mail channel: a support mailbox read over IMAP becomes tickets; answers go out by SMTP.

Intake: one task keeps an IMAP session on the configured mailbox, waits with IDLE (or
polls every ``poll_seconds`` when the server has no IDLE) and reads new messages in UID
order. The cursor (UIDVALIDITY and the last UID handled) lives in the channel's durable
state, so a restart neither repeats nor skips; when the server renumbers the mailbox
(a new UIDVALIDITY) the unread messages are read again and the ones stored already are
recognised by their Message-ID. A message is flagged ``\Seen`` (or moved) only after it is
committed and its thread has a ticket. A dropped connection is re-opened with exponential
backoff.

Each new thread becomes a ticket; replies join theirs (see :mod:`adapters.email_threading`).
Auto-replies, bounces and list mail are left unread in the mailbox with the keyword
``$HelplineSkipped``, never answered; so are messages over a sender's rate limit.

Settings (section ``email``, every one ``HELPLINE_EMAIL__<NAME>``): see :class:`EmailSettings`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import re
import ssl
from collections.abc import Awaitable, Mapping
from dataclasses import replace
from typing import Any, Literal, TypeVar

import aioimaplib  # type: ignore[import-untyped]
from pydantic import BaseModel, ConfigDict, Field

from adapters.email_outgoing import ReplyHeaders, SmtpServer, acknowledgement, compose, deliver
from adapters.email_parsing import ParsedEmail, parse_email
from adapters.email_threading import (
    SenderRateLimit,
    ThreadInfo,
    base_subject,
    choose_thread,
    noise_reason,
    references_for,
    reply_message_id,
    reply_subject,
    state_key,
)
from adapters.survey_links import survey_button_link
from conversations.errors import StoreUnavailable
from conversations.values import Attachment, InboundMessage, OutboundMessage, Sender
from core.channels import Channel, ChannelContext, DeliveryRejected, Inbox, TurnResult

log = logging.getLogger(__name__)
NAME = "email"
SKIPPED = "$HelplineSkipped"
DONE = "$Helpline"
T = TypeVar("T")


class EmailSettings(BaseModel):
    """The ``email`` settings section."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    address: str = ""
    display_name: str = ""
    imap_host: str = ""
    imap_port: int | None = Field(None, ge=1, le=65535)
    imap_ssl: bool = True
    imap_username: str = ""
    imap_password: str = Field("", repr=False)
    imap_mailbox: str = "INBOX"
    imap_idle: bool = True
    poll_seconds: float = Field(60.0, gt=0)
    idle_seconds: float = Field(25 * 60.0, gt=0)
    after_processing: Literal["flag", "move"] = "flag"
    processed_mailbox: str = "Helpline"
    smtp_host: str = ""
    smtp_port: int | None = Field(None, ge=1, le=65535)
    smtp_security: Literal["none", "starttls", "ssl"] = "starttls"
    smtp_username: str = ""
    smtp_password: str = Field("", repr=False)
    timeout_seconds: float = Field(30.0, gt=0)
    reconnect_min_seconds: float = Field(1.0, gt=0)
    reconnect_max_seconds: float = Field(300.0, gt=0)
    max_message_bytes: int = Field(25 * 1024 * 1024, ge=1024)
    max_attachment_bytes: int = Field(10 * 1024 * 1024, ge=1)
    max_text_chars: int = Field(20_000, ge=100)
    rate_limit_messages: int = Field(10, ge=1)
    rate_limit_window_seconds: float = Field(3600.0, gt=0)

    @property
    def domain(self) -> str:
        """The support address's domain (our Message-IDs end with it)."""
        return self.address.rpartition("@")[2] or "helpline.invalid"

    def smtp_server(self) -> SmtpServer:
        """The SMTP settings; the port defaults by security (465, 587, 25)."""
        default = {"ssl": 465, "starttls": 587, "none": 25}[self.smtp_security]
        return SmtpServer(
            host=self.smtp_host,
            port=self.smtp_port or default,
            security=self.smtp_security,
            username=self.smtp_username or (self.address if self.smtp_password else ""),
            password=self.smtp_password,
            timeout=self.timeout_seconds,
        )


class ConnectionLost(Exception):
    """The IMAP server closed the connection or stopped answering."""


class ImapRefused(Exception):
    """The IMAP server answered NO or BAD to a command we need."""


_RETRYABLE = (
    OSError,
    TimeoutError,
    ConnectionLost,
    ImapRefused,
    aioimaplib.AioImapException,
    StoreUnavailable,
)


class EmailChannel(Channel):
    """Reads the support mailbox over IMAP and answers over SMTP."""

    name = NAME
    # One mailbox, one reader: the runtime elects the process that reads it.
    single_intake = True

    def __init__(self, settings: EmailSettings, context: ChannelContext) -> None:
        self._settings = settings
        self._context = context
        self._smtp = settings.smtp_server()
        self._own = frozenset({settings.address.lower(), settings.imap_username.lower()} - {""})
        self._limit = SenderRateLimit(settings.rate_limit_messages, settings.rate_limit_window_seconds)
        self._inbox: Inbox | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._opening: dict[str, asyncio.Event] = {}
        self._handled = 0
        self._healthy = False
        self._progress = asyncio.Condition()
        self.connected = asyncio.Event()

    @classmethod
    def configure(cls, section: Mapping[str, Any], context: ChannelContext) -> EmailChannel | str:
        """Build from the settings section, or say why the channel stays off."""
        settings = EmailSettings.model_validate(section)
        missing = [
            f"HELPLINE_EMAIL__{name.upper()}"
            for name in ("address", "imap_host", "imap_password", "smtp_host")
            if not getattr(settings, name)
        ]
        if missing:
            return f"not configured (set {', '.join(missing)})"
        if not settings.imap_username:
            settings = settings.model_copy(update={"imap_username": settings.address})
        return cls(settings, context)

    async def start(self, inbox: Inbox) -> None:
        """Get ready to send; the mailbox is read once this process is elected (:meth:`start_intake`)."""
        self._inbox = inbox

    async def start_intake(self) -> None:
        """Start reading the mailbox in the background (this process holds the e-mail intake lease)."""
        if self._task is None:
            self._stopping.clear()
            self._task = asyncio.create_task(self._run(), name="email-intake")

    async def stop_intake(self) -> None:
        """Finish the message in hand and log out; sending goes on."""
        await self._stop_reading()

    async def stop(self) -> None:
        """Finish the message in hand, log out and stop."""
        await self._stop_reading()
        self._inbox = None

    async def _stop_reading(self) -> None:
        self._stopping.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), self._settings.timeout_seconds)
            except TimeoutError:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
            self._task = None

    async def wait_handled(self, count: int, timeout: float) -> None:
        """Wait until ``count`` messages have been handled since start (stored or skipped)."""
        async with asyncio.timeout(timeout), self._progress:
            await self._progress.wait_for(lambda: self._handled >= count)

    async def send(self, message: OutboundMessage) -> str:
        """Send a reply in the customer's thread; returns its Message-ID."""
        opening = self._opening.get(message.thread_key)
        if opening is not None:  # the ticket for this new thread is being opened: name it
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(opening.wait(), self._settings.timeout_seconds)
        thread = ThreadInfo.loads(await self._context.state.get(state_key("thread", message.thread_key)))
        if thread is None:
            raise DeliveryRejected(f"no customer address is known for e-mail thread {message.thread_key}")
        number = message.metadata.get("ticket_number") or thread.ticket
        label = self._context.tickets.ticket_label(int(number)) if number else None
        preface = None
        if label and label not in message.text:
            preface = await self._acknowledge_once(message, label)
        parent = message.reply_to_external_id or thread.last
        headers = ReplyHeaders(
            sender=(self._settings.display_name or self._context.settings.brand.name, self._settings.address),
            recipient=(thread.name, thread.customer),
            subject=reply_subject(thread.subject, label),
            message_id=reply_message_id(message.idempotency_key, self._settings.domain),
            in_reply_to=parent,
            references=tuple(references_for(thread.references, parent)),
        )
        settings = self._context.settings
        reply = compose(message, headers, preface, lambda action: survey_button_link(settings, action))
        await deliver(reply, self._smtp)
        log.info("email: sent %s to %s (%s)", headers.message_id, thread.customer, label or "no ticket")
        return headers.message_id

    async def _acknowledge_once(self, message: OutboundMessage, label: str) -> str | None:
        """The ticket-number line, on the thread's first reply only (and on its resends)."""
        key = state_key("ack", message.thread_key)
        first = await self._context.state.get(key)
        if first is None:
            await self._context.state.put(key, message.idempotency_key)
            first = message.idempotency_key
        return acknowledgement(label, message.text) if first == message.idempotency_key else None

    # --- intake -------------------------------------------------------------------------

    async def _run(self) -> None:
        delay = self._settings.reconnect_min_seconds
        while not self._stopping.is_set():
            try:
                await self._session()
            except Exception as exc:
                self.connected.clear()
                if self._stopping.is_set():
                    break
                if self._healthy:
                    delay = self._settings.reconnect_min_seconds
                if isinstance(exc, _RETRYABLE):
                    log.warning(
                        "email: IMAP %s:%s failed (%r); reconnecting in %.1fs",
                        self._settings.imap_host,
                        self._imap_port,
                        exc,
                        delay,
                    )
                else:  # a bug or a message we cannot handle: say so, and carry on reading
                    log.exception("email: intake failed; reconnecting in %.1fs", delay)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), delay * random.uniform(0.8, 1.0))
                delay = min(delay * 2, self._settings.reconnect_max_seconds)
        self.connected.clear()

    @property
    def _imap_port(self) -> int:
        return self._settings.imap_port or (993 if self._settings.imap_ssl else 143)

    async def _session(self) -> None:
        self._healthy = False
        lost = asyncio.Event()
        if self._settings.imap_ssl:
            client = aioimaplib.IMAP4_SSL(
                self._settings.imap_host,
                self._imap_port,
                timeout=self._settings.timeout_seconds,
                ssl_context=ssl.create_default_context(),
            )
            client.protocol.conn_lost_cb = lambda _exc: lost.set()
        else:
            client = aioimaplib.IMAP4(
                self._settings.imap_host,
                self._imap_port,
                timeout=self._settings.timeout_seconds,
                conn_lost_cb=lambda _exc: lost.set(),
            )
        session = _Session(client, lost, self._settings.timeout_seconds)
        try:
            await session.call(client.wait_hello_from_server())
            await session.ok(
                "LOGIN", client.login(self._settings.imap_username, self._settings.imap_password)
            )
            selected = await session.ok("SELECT", client.select(_quote(self._settings.imap_mailbox)))
            uidvalidity, uidnext = _select_codes(selected.lines)
            if self._settings.after_processing == "move":  # NO when it exists already: fine
                await session.call(client.create(_quote(self._settings.processed_mailbox)))
            last = await self._cursor(uidvalidity)
            self._healthy = True
            self.connected.set()
            log.info("email: reading %s as %s", self._settings.imap_mailbox, self._settings.imap_username)
            idle = self._settings.imap_idle and client.has_capability("IDLE")
            while not self._stopping.is_set():
                # Until a search finds nothing new: the server reports mail that arrives while
                # we work in replies to other commands, which the client drops; only then idle.
                handled = -1
                while handled != 0 and not self._stopping.is_set():
                    last, handled = await self._sync(session, uidvalidity, last, uidnext)
                if self._stopping.is_set():
                    break
                if idle:
                    await session.idle(self._stopping, self._settings.idle_seconds)
                else:
                    await session.pause(self._stopping, self._settings.poll_seconds)
        finally:
            await session.close()

    async def _cursor(self, uidvalidity: int) -> int | None:
        """The last UID handled, or ``None`` when unknown (first start, or the mailbox was renumbered)."""
        stored = await self._context.state.get(state_key("cursor", self._settings.imap_mailbox))
        validity, _, last = (stored or "").partition("/")
        if validity == str(uidvalidity) and last.isdigit():
            return int(last)
        if stored:
            log.warning(
                "email: %s was renumbered (UIDVALIDITY %s → %s): reading its unread messages again",
                self._settings.imap_mailbox,
                validity,
                uidvalidity,
            )
        return None

    async def _save_cursor(self, uidvalidity: int, last: int) -> None:
        await self._context.state.put(
            state_key("cursor", self._settings.imap_mailbox), f"{uidvalidity}/{last}"
        )

    async def _sync(
        self, session: _Session, uidvalidity: int, last: int | None, uidnext: int
    ) -> tuple[int, int]:
        """Handle every message after ``last`` (every unread one when ``last`` is unknown).

        Returns:
            The new last UID and how many messages were handled.

        """
        if last is None:
            found = await session.ok("SEARCH", session.client.uid_search("UNSEEN", charset=None))
            uids = sorted(_numbers(found.lines))
        else:
            found = await session.ok(
                "SEARCH", session.client.uid_search("UID", f"{last + 1}:*", charset=None)
            )
            uids = sorted(uid for uid in _numbers(found.lines) if uid > last)
        sizes = await self._sizes(session, uids)
        for uid in uids:
            if self._stopping.is_set():
                break
            await self._handle(session, uid, sizes.get(uid, 0))
            last = max(last or 0, uid)
            await self._save_cursor(uidvalidity, last)
        if last is None or (not uids and last < uidnext - 1):
            last = max(last or 0, uidnext - 1)
            await self._save_cursor(uidvalidity, last)
        return last, len(uids)

    async def _sizes(self, session: _Session, uids: list[int]) -> dict[int, int]:
        if not uids:
            return {}
        fetched = await session.ok("FETCH", session.client.uid("fetch", _uid_set(uids), "(UID RFC822.SIZE)"))
        sizes = {}
        for line in fetched.lines:
            if isinstance(line, bytes | bytearray):
                uid = re.search(rb"UID (\d+)", line)
                size = re.search(rb"RFC822\.SIZE (\d+)", line)
                if uid and size:
                    sizes[int(uid.group(1))] = int(size.group(1))
        return sizes

    async def _handle(self, session: _Session, uid: int, size: int) -> None:
        too_large = size > self._settings.max_message_bytes
        part = "BODY.PEEK[HEADER]" if too_large else "BODY.PEEK[]"
        fetched = await session.ok("FETCH", session.client.uid("fetch", str(uid), f"(UID {part})"))
        data = next((bytes(line) for line in fetched.lines if isinstance(line, bytearray)), None)
        if data is None:  # expunged meanwhile
            await self._count()
            return
        # A large or deeply nested message takes the parser seconds: keep the loop free.
        parsed = await asyncio.to_thread(
            parse_email,
            data,
            max_attachment_bytes=self._settings.max_attachment_bytes,
            max_text_chars=self._settings.max_text_chars,
        )
        if too_large:
            parsed = _with_problem(
                parsed, f"larger than {self._settings.max_message_bytes} bytes: body not read"
            )
        reason = noise_reason(parsed, self._own)
        if reason is None and not await self._known(parsed) and not self._limit.allow(parsed.from_address):
            reason = f"over the rate limit of {self._settings.rate_limit_messages} messages per sender"
        if reason is not None:
            log.info("email: not answering %s from %s: %s", parsed.message_id, parsed.from_address, reason)
            await session.ok("STORE", session.client.uid("store", str(uid), "+FLAGS.SILENT", f"({SKIPPED})"))
        else:
            await self._ingest(parsed, uid)
            await self._mark_done(session, uid)
        await self._count()

    async def _known(self, parsed: ParsedEmail) -> bool:
        return await self._context.threads.thread_of_message(parsed.message_id) is not None

    async def _ingest(self, parsed: ParsedEmail, uid: int) -> None:
        assert self._inbox is not None
        state = self._context.state
        tickets = self._context.tickets

        async def customer_of(key: str) -> str | None:
            info = ThreadInfo.loads(await state.get(state_key("thread", key)))
            return info.customer if info is not None else None

        choice = await choose_thread(
            parsed,
            self._context.threads.thread_of_message,
            self._context.threads.thread_of_ticket,
            tickets.parse_ticket_number,
            customer_of,
        )
        key = state_key("thread", choice.thread_key)
        thread = ThreadInfo.loads(await state.get(key))
        references = references_for(list(parsed.references), parsed.message_id)
        if thread is None:
            thread = ThreadInfo(
                parsed.from_address, parsed.from_name, base_subject(parsed.subject), references, ""
            )
        thread.references, thread.last = references, parsed.message_id
        thread.name = parsed.from_name or thread.name
        await state.put(key, thread.dumps())
        opening = asyncio.Event() if thread.ticket is None else None
        if opening is not None:
            self._opening[choice.thread_key] = opening
        try:
            result = await self._inbox.receive(self._inbound(parsed, choice.thread_key, choice.via, uid))
            if opening is not None:
                thread.ticket = await self._ensure_ticket(result, parsed)
                await state.put(key, thread.dumps())
        finally:
            if opening is not None:
                opening.set()
                self._opening.pop(choice.thread_key, None)
        log.info(
            "email: %s from %s %s thread %s%s",
            parsed.message_id,
            parsed.from_address,
            "joined" if choice.via != "new" else "started",
            choice.thread_key,
            " (a redelivery)" if result.duplicate else "",
        )

    async def _ensure_ticket(self, result: TurnResult, parsed: ParsedEmail) -> int | None:
        """The thread's ticket: the conversation's own, or a new one (each new thread is a case)."""
        tickets = self._context.tickets
        view = await tickets.ticket_of_conversation(result.conversation_id)
        if view is None:
            view = await tickets.open(
                result.conversation_id,
                base_subject(parsed.subject)
                or (parsed.text[:80] if parsed.text else "E-mail without subject"),
                None,
                details={"email": parsed.from_address, "sender_verified": _verified(parsed)},
                actor="email",
            )
        return tickets.parse_ticket_number(view.number)

    def _inbound(self, parsed: ParsedEmail, thread_key: str, via: str, uid: int) -> InboundMessage:
        text = parsed.text
        subject = base_subject(parsed.subject)
        if via == "new" and subject and subject.lower() not in text.lower():
            text = f"{subject}\n\n{text}".strip()
        accepted = [a for a in parsed.attachments if a.refused is None]
        return InboundMessage(
            channel=NAME,
            thread_key=thread_key,
            external_id=parsed.message_id,
            sender=Sender(
                parsed.from_address,
                handle=parsed.from_address,
                display_name=parsed.from_name,
                language_hint=parsed.header("Content-Language")[:2].lower() or None,
            ),
            text=text,
            attachments=tuple(
                Attachment(
                    kind="image" if a.mime_type.startswith("image/") else "file",
                    file_id=f"{parsed.message_id}#{a.index}",
                    name=a.name,
                    mime_type=a.mime_type,
                    size=a.size,
                )
                for a in accepted
            ),
            reply_to_external_id=parsed.in_reply_to[0] if parsed.in_reply_to else None,
            sent_at=parsed.date,
            raw={
                "mailbox": self._settings.imap_mailbox,
                "uid": uid,
                "subject": parsed.subject,
                "from": parsed.from_address,
                "to": list(parsed.to),
                "in_reply_to": list(parsed.in_reply_to),
                "references": list(parsed.references),
                "threaded_by": via,
                "body": parsed.body,
                "headers": [[name, value[:2000]] for name, value in parsed.headers[:200]],
                "authentication": parsed.authentication,
                "sender_verified": _verified(parsed),
                "refused_attachments": [
                    {"name": a.name, "mime_type": a.mime_type, "size": a.size, "reason": a.refused}
                    for a in parsed.attachments
                    if a.refused is not None
                ],
                "problems": list(parsed.problems),
            },
        )

    async def _mark_done(self, session: _Session, uid: int) -> None:
        """Flag or move a message once it is stored: never before, so a crash loses nothing."""
        client = session.client
        if self._settings.after_processing == "move":
            target = _quote(self._settings.processed_mailbox)
            if client.has_capability("MOVE"):
                await session.ok("MOVE", client.uid("move", str(uid), target))
                return
            await session.ok("COPY", client.uid("copy", str(uid), target))
            await session.ok("STORE", client.uid("store", str(uid), "+FLAGS.SILENT", "(\\Deleted)"))
            if client.has_capability("UIDPLUS"):
                await session.ok("EXPUNGE", client.uid("expunge", str(uid)))
            return
        await session.ok("STORE", client.uid("store", str(uid), "+FLAGS.SILENT", f"(\\Seen {DONE})"))

    async def _count(self) -> None:
        async with self._progress:
            self._handled += 1
            self._progress.notify_all()


class _Session:
    """One IMAP connection: every command raced against the connection dropping and a timeout."""

    def __init__(self, client: Any, lost: asyncio.Event, timeout: float) -> None:
        self.client = client
        self._lost = lost
        self._timeout = timeout

    async def call(self, awaitable: Awaitable[T], timeout: float | None = None) -> T:
        task = asyncio.ensure_future(awaitable)
        dropped = asyncio.ensure_future(self._lost.wait())
        try:
            done, _ = await asyncio.wait(
                {task, dropped}, timeout=timeout or self._timeout, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            dropped.cancel()
        if task in done:
            return task.result()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        raise ConnectionLost(
            "the connection dropped" if self._lost.is_set() else "the server stopped answering"
        )

    async def ok(self, what: str, awaitable: Awaitable[Any]) -> Any:
        response = await self.call(awaitable)
        if response.result != "OK":
            raise ImapRefused(f"{what}: {response.result} {_text(response.lines)}")
        return response

    async def idle(self, stopping: asyncio.Event, seconds: float) -> None:
        """Wait in IDLE until the server reports a change, ``seconds`` pass or we stop."""
        idle = await self.call(self.client.idle_start(timeout=seconds))
        push = asyncio.ensure_future(self.client.wait_server_push(timeout=seconds + 5))
        stop = asyncio.ensure_future(stopping.wait())
        dropped = asyncio.ensure_future(self._lost.wait())
        try:
            await asyncio.wait({push, stop, dropped}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in (push, stop, dropped):
                waiter.cancel()
            await asyncio.gather(push, stop, dropped, return_exceptions=True)
        if self._lost.is_set():
            idle.cancel()
            await asyncio.gather(idle, return_exceptions=True)
            raise ConnectionLost("the connection dropped during IDLE")
        if self.client.has_pending_idle():
            self.client.idle_done()
        await self.call(idle)

    async def pause(self, stopping: asyncio.Event, seconds: float) -> None:
        """Wait ``seconds`` (polling mode), or less if we stop or the connection drops."""
        stop = asyncio.ensure_future(stopping.wait())
        dropped = asyncio.ensure_future(self._lost.wait())
        try:
            await asyncio.wait({stop, dropped}, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop.cancel()
            dropped.cancel()
            await asyncio.gather(stop, dropped, return_exceptions=True)
        if self._lost.is_set():
            raise ConnectionLost("the connection dropped")
        await self.ok("NOOP", self.client.noop())

    async def close(self) -> None:
        if not self._lost.is_set():
            with contextlib.suppress(*_RETRYABLE):
                await self.call(self.client.logout(), timeout=2)
        transport = getattr(self.client.protocol, "transport", None)
        if transport is not None:
            transport.close()
        for task in [*getattr(self.client, "tasks", ()), *getattr(self.client.protocol, "tasks", ())]:
            task.cancel()


def _quote(mailbox: str) -> str:
    return '"' + mailbox.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _select_codes(lines: list[Any]) -> tuple[int, int]:
    text = _text(lines)
    validity = re.search(r"UIDVALIDITY (\d+)", text)
    uidnext = re.search(r"UIDNEXT (\d+)", text)
    if validity is None:
        raise ImapRefused("SELECT did not report UIDVALIDITY")
    return int(validity.group(1)), int(uidnext.group(1)) if uidnext else 1


def _numbers(lines: list[Any]) -> list[int]:
    found: list[int] = []
    for line in lines:
        if isinstance(line, bytes) and re.fullmatch(rb"[\d ]+", line.strip() or b"x"):
            found.extend(int(n) for n in line.split())
    return found


def _uid_set(uids: list[int]) -> str:
    return ",".join(str(uid) for uid in uids)


def _text(lines: list[Any]) -> str:
    return " ".join(
        bytes(line).decode("utf-8", "replace") for line in lines if isinstance(line, bytes | bytearray)
    )


def _verified(parsed: ParsedEmail) -> bool | None:
    """Whether the sender's domain vouched for this message (DMARC, DKIM or SPF passed).

    ``None`` when the receiving server recorded no results; ``False`` when it recorded
    only failures, so a message claiming an existing customer's address is flagged.
    """
    results = parsed.authentication
    if not results:
        return None
    if results.get("dmarc") == "fail":
        return False
    return any(results.get(method) == "pass" for method in ("dmarc", "dkim", "spf"))


def _with_problem(parsed: ParsedEmail, problem: str) -> ParsedEmail:
    return replace(parsed, problems=(*parsed.problems, problem))

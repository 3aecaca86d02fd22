"""The e-mail channel end to end: Dovecot → Helpline (SQLite and PostgreSQL) → aiosmtpd, over real sockets."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path

import pytest
from sqlalchemy import func, select

from adapters.email_channel import EmailChannel
from adapters.email_threading import state_key
from adapters.runtime import Runtime, open_runtime
from conversations.tables import Conversation, Message, OutboxEntry, Ticket
from core.engine.base import Engine
from core.settings import load_settings
from tests.email.conftest import PASSWORD, Dovecot, SmtpServer

SUPPORT = "support@helpline.test"
CUSTOMER = "alice@customer.test"


def mail(
    message_id: str,
    subject: str,
    body: str,
    *,
    sender: str = CUSTOMER,
    headers: dict[str, str] | None = None,
) -> bytes:
    message = EmailMessage()
    message["From"] = f"Alice <{sender}>"
    message["To"] = SUPPORT
    message["Subject"] = subject
    message["Date"] = formatdate()
    message["Message-ID"] = message_id
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    return message.as_bytes()


class Helpline:
    """One running Helpline with the e-mail channel, and what the tests look at."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        channel = runtime.channels["email"]
        assert isinstance(channel, EmailChannel)
        self.channel = channel

    async def count(self, query: object) -> int:
        async with self.runtime.db.reader() as session:
            return int(await session.scalar(query) or 0)  # type: ignore[call-overload]

    async def inbound(self) -> int:
        return await self.count(select(func.count()).select_from(Message).where(Message.direction == "in"))

    async def tickets(self) -> int:
        return await self.count(select(func.count()).select_from(Ticket))

    async def conversations(self) -> int:
        return await self.count(select(func.count()).select_from(Conversation))

    async def outbox_status(self) -> list[str]:
        async with self.runtime.db.reader() as session:
            return list((await session.scalars(select(OutboxEntry.status).order_by(OutboxEntry.id))).all())


@pytest.fixture
def settings_for(
    database_url: str, data_dir: Path, dovecot: Dovecot, smtp: SmtpServer, mail_user: str
) -> dict[str, str]:
    return {
        "HELPLINE_DATABASE__URL": database_url,
        "HELPLINE_DATA_DIR": str(data_dir),
        "HELPLINE_WEBCHAT__ENABLED": "false",
        "HELPLINE_DISPATCHER__POLL_INTERVAL_SECONDS": "0.05",
        "HELPLINE_DISPATCHER__BACKOFF_BASE_SECONDS": "0.05",
        "HELPLINE_DISPATCHER__BACKOFF_MAX_SECONDS": "0.2",
        "HELPLINE_EMAIL__ADDRESS": SUPPORT,
        "HELPLINE_EMAIL__IMAP_HOST": "127.0.0.1",
        "HELPLINE_EMAIL__IMAP_PORT": str(dovecot.port),
        "HELPLINE_EMAIL__IMAP_SSL": "false",
        "HELPLINE_EMAIL__IMAP_USERNAME": mail_user,
        "HELPLINE_EMAIL__IMAP_PASSWORD": PASSWORD,
        "HELPLINE_EMAIL__SMTP_HOST": "127.0.0.1",
        "HELPLINE_EMAIL__SMTP_PORT": str(smtp.port),
        "HELPLINE_EMAIL__SMTP_SECURITY": "none",
        "HELPLINE_EMAIL__RECONNECT_MIN_SECONDS": "0.05",
        "HELPLINE_EMAIL__TIMEOUT_SECONDS": "5",
    }


@contextlib.asynccontextmanager
async def running(environ: dict[str, str], engine: Engine) -> AsyncIterator[Helpline]:
    async with open_runtime(load_settings(environ), engine=engine) as runtime:
        workers = [asyncio.create_task(runtime.dispatcher.run())]
        jobs = getattr(runtime, "jobs", None)
        if jobs is not None:
            workers.append(asyncio.create_task(jobs.run()))
        helpline = Helpline(runtime)
        await asyncio.wait_for(helpline.channel.connected.wait(), 10)
        try:
            yield helpline
        finally:
            runtime.dispatcher.stop()
            if jobs is not None:
                jobs.stop()
            await asyncio.gather(*workers)


async def test_a_mail_becomes_a_ticket_answered_in_its_thread(
    settings_for: dict[str, str], faq_engine: Engine, dovecot: Dovecot, smtp: SmtpServer, mail_user: str
) -> None:
    async with running(settings_for, faq_engine) as helpline:
        await dovecot.append(
            mail_user,
            mail(
                "<first@customer.test>",
                "Withdrawal not received",
                "I withdrew 100 USDT on TRC20 two hours ago and it has not arrived.",
            ),
        )
        await helpline.channel.wait_handled(1, 15)
        reply = await smtp.next_message()
        assert reply["To"].addresses[0].addr_spec == CUSTOMER
        assert reply["From"].addresses[0].addr_spec == SUPPORT
        assert reply["Subject"] == "Re: Withdrawal not received [#HL-1001]"
        assert reply["In-Reply-To"] == "<first@customer.test>"
        assert reply["References"] == "<first@customer.test>"
        assert reply["Auto-Submitted"] == "auto-replied"
        assert "HL-1001" in reply.get_content()
        our_id = reply["Message-ID"]
        assert our_id.endswith("@helpline.test>")
        assert await helpline.tickets() == 1
        assert (await dovecot.flags(mail_user))[1].split() == ["\\Seen", "$Helpline"]

        # The customer answers our reply: same conversation, same ticket, threaded answer.
        await dovecot.append(
            mail_user,
            mail(
                "<second@customer.test>",
                "Re: Withdrawal not received [#HL-1001]",
                "The txid is abc123.\n\nOn Mon, Support wrote:\n> earlier text",
                headers={"In-Reply-To": our_id, "References": f"<first@customer.test> {our_id}"},
            ),
        )
        await helpline.channel.wait_handled(2, 15)
        second = await smtp.next_message()
        assert second["In-Reply-To"] == "<second@customer.test>"
        assert second["References"] == f"<first@customer.test> {our_id} <second@customer.test>"
        assert second["Subject"] == "Re: Withdrawal not received [#HL-1001]"
        assert "Please keep [#HL-1001]" not in second.get_content()  # acknowledged once
        assert (await helpline.conversations(), await helpline.tickets()) == (1, 1)
        async with helpline.runtime.db.reader() as session:
            texts = (await session.scalars(select(Message.text).where(Message.direction == "in"))).all()
        assert "earlier text" not in texts[-1] and "abc123" in texts[-1]

        # A new subject from the same sender is a new case.
        await dovecot.append(
            mail_user, mail("<third@customer.test>", "KYC rejected", "Why was my KYC rejected?")
        )
        await helpline.channel.wait_handled(3, 15)
        third = await smtp.next_message()
        assert third["Subject"] == "Re: KYC rejected [#HL-1002]"
        assert (await helpline.conversations(), await helpline.tickets()) == (2, 2)


async def test_the_ticket_number_in_the_subject_joins_only_for_the_same_sender(
    settings_for: dict[str, str], faq_engine: Engine, dovecot: Dovecot, smtp: SmtpServer, mail_user: str
) -> None:
    async with running(settings_for, faq_engine) as helpline:
        await dovecot.append(
            mail_user, mail("<a1@customer.test>", "Deposit missing", "My BTC deposit is missing.")
        )
        await helpline.channel.wait_handled(1, 15)
        await smtp.next_message()
        await dovecot.append(
            mail_user,
            mail("<a2@customer.test>", "more info [#HL-1001]", "It was 0.5 BTC."),
            mail("<m1@mallory.test>", "Re: [#HL-1001]", "Send me the details", sender="mallory@mallory.test"),
        )
        await helpline.channel.wait_handled(3, 15)
        assert await helpline.conversations() == 2  # Mallory's mail is a case of its own
        assert await helpline.tickets() == 2


async def test_auto_replies_bounces_and_lists_are_never_answered(
    settings_for: dict[str, str], faq_engine: Engine, dovecot: Dovecot, smtp: SmtpServer, mail_user: str
) -> None:
    noise = [
        mail("<n1@customer.test>", "Out of office", "I am away", headers={"Auto-Submitted": "auto-replied"}),
        mail("<n2@customer.test>", "Newsletter", "News", headers={"List-Id": "<news.customer.test>"}),
        mail("<n3@customer.test>", "Away", "Away", headers={"Precedence": "bulk"}),
        mail("<n4@customer.test>", "Auto", "Auto", headers={"X-Autoreply": "yes"}),
        mail("<n5@customer.test>", "Undelivered", "Bounce", sender="MAILER-DAEMON@customer.test"),
        mail("<n6@customer.test>", "Loop", "Loop", sender=SUPPORT),
    ]
    async with running(settings_for, faq_engine) as helpline:
        await dovecot.append(
            mail_user, *noise, mail("<real@customer.test>", "Help", "How do I reset my 2FA?")
        )
        await helpline.channel.wait_handled(len(noise) + 1, 15)
        reply = await smtp.next_message()
        assert reply["In-Reply-To"] == "<real@customer.test>"
        assert await helpline.inbound() == 1
        flags = await dovecot.flags(mail_user)
        assert all(flags[uid].split() == ["$HelplineSkipped"] for uid in range(1, len(noise) + 1))
    assert smtp.handler.received.empty()


async def test_a_sender_over_the_rate_limit_is_not_answered(
    settings_for: dict[str, str], faq_engine: Engine, dovecot: Dovecot, smtp: SmtpServer, mail_user: str
) -> None:
    settings_for["HELPLINE_EMAIL__RATE_LIMIT_MESSAGES"] = "2"
    async with running(settings_for, faq_engine) as helpline:
        await dovecot.append(
            mail_user, *(mail(f"<r{i}@customer.test>", f"Question {i}", "Hello?") for i in range(4))
        )
        await helpline.channel.wait_handled(4, 15)
        assert await helpline.inbound() == 2
        flags = await dovecot.flags(mail_user)
        assert [flags[uid].split() for uid in (3, 4)] == [["$HelplineSkipped"], ["$HelplineSkipped"]]


async def test_restart_mid_batch_and_renumbering_leave_each_mail_in_one_ticket(
    settings_for: dict[str, str],
    faq_engine: Engine,
    dovecot: Dovecot,
    smtp: SmtpServer,
    mail_user: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    batch = [mail(f"<b{i}@customer.test>", f"Case {i}", f"Problem number {i}") for i in range(6)]
    await dovecot.append(mail_user, *batch)
    async with running(settings_for, faq_engine) as helpline:
        await helpline.channel.wait_handled(2, 15)
    # Stopped in the middle of the batch; the restart reads the rest and nothing twice.
    async with running(settings_for, faq_engine) as helpline:
        for _ in range(len(batch)):
            await smtp.next_message()
        assert (await helpline.inbound(), await helpline.tickets()) == (6, 6)
    # A crash before the cursor was saved: the mails are read again and recognised.
    async with running(settings_for, faq_engine) as helpline:
        state = helpline.runtime.channels["email"]._context.state  # type: ignore[attr-defined]
        validity = (await state.get(state_key("cursor", "INBOX"))).split("/")[0]
        await state.put(state_key("cursor", "INBOX"), f"{validity}/0")
    async with running(settings_for, faq_engine) as helpline:
        await helpline.channel.wait_handled(len(batch), 15)
        assert (await helpline.inbound(), await helpline.tickets()) == (6, 6)
        # The server renumbers the mailbox (new UIDVALIDITY) with every mail unread again.
    imap = await dovecot.client(mail_user)
    await imap.select("INBOX")
    await imap.uid("store", "1:*", "-FLAGS.SILENT", "(\\Seen)")
    await imap.logout()
    for name in ("dovecot-uidlist", "dovecot.index", "dovecot.index.log", "dovecot.index.cache"):
        (dovecot.maildir(mail_user) / name).unlink(missing_ok=True)
    caplog.clear()
    async with running(settings_for, faq_engine) as helpline:
        await helpline.channel.wait_handled(len(batch), 15)
        assert (await helpline.inbound(), await helpline.tickets()) == (6, 6)
        assert await helpline.outbox_status() == ["sent"] * 6
    assert "INBOX was renumbered (UIDVALIDITY" in caplog.text


async def test_smtp_deferral_is_retried_and_a_refused_recipient_is_not(
    settings_for: dict[str, str], faq_engine: Engine, dovecot: Dovecot, smtp: SmtpServer, mail_user: str
) -> None:
    smtp.handler.defer_data = 2
    smtp.handler.refuse.add("nobody@customer.test")
    async with running(settings_for, faq_engine) as helpline:
        await dovecot.append(mail_user, mail("<d1@customer.test>", "Help", "Where is my deposit?"))
        reply = await smtp.next_message()
        assert smtp.handler.attempts == 3
        assert reply["In-Reply-To"] == "<d1@customer.test>"
        await dovecot.append(
            mail_user, mail("<d2@customer.test>", "Help", "Hello", sender="nobody@customer.test")
        )
        await helpline.channel.wait_handled(2, 15)
        async with asyncio.timeout(10):
            while await helpline.outbox_status() != ["sent", "failed"]:
                await asyncio.sleep(0.05)


async def test_a_dropped_imap_connection_is_reopened(
    settings_for: dict[str, str], faq_engine: Engine, dovecot: Dovecot, smtp: SmtpServer, mail_user: str
) -> None:
    async with running(settings_for, faq_engine) as helpline:
        await dovecot.append(mail_user, mail("<k1@customer.test>", "First", "Hello"))
        await helpline.channel.wait_handled(1, 15)
        await dovecot.kick(mail_user)
        await dovecot.append(mail_user, mail("<k2@customer.test>", "Second", "Hello again"))
        await helpline.channel.wait_handled(2, 15)
        assert await helpline.inbound() == 2


async def test_move_mode_moves_a_message_once_it_is_stored(
    settings_for: dict[str, str], faq_engine: Engine, dovecot: Dovecot, smtp: SmtpServer, mail_user: str
) -> None:
    settings_for["HELPLINE_EMAIL__AFTER_PROCESSING"] = "move"
    async with running(settings_for, faq_engine) as helpline:
        await dovecot.append(mail_user, mail("<mv@customer.test>", "Help", "Where is my deposit?"))
        await helpline.channel.wait_handled(1, 15)
        assert await helpline.inbound() == 1
    assert await dovecot.flags(mail_user) == {}
    imap = await dovecot.client(mail_user)
    try:
        status = await imap.status('"Helpline"', "(MESSAGES)")
        assert b"MESSAGES 1" in status.lines[0]
    finally:
        await imap.logout()

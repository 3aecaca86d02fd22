"""Real mail servers for the e-mail channel: Dovecot (IMAP) and aiosmtpd (SMTP), on free local ports.

Dovecot runs once per test session from a throw-away directory with its own config: plain
authentication (any user name, password ``secret``), one maildir per user, so each test
uses a fresh user as its own mailbox. The SMTP server runs on the test's event loop and
captures every message; it can be told to defer (4xx) or refuse (5xx) deliveries.
"""

from __future__ import annotations

import asyncio
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import aioimaplib
import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session

PASSWORD = "secret"
DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
DOVEADM = shutil.which("doveadm") or "/usr/bin/doveadm"

CONFIG = """
base_dir = {root}/run
state_dir = {root}/state
instance_name = helpline-test-{name}
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = {uid}
first_valid_gid = {gid}
mail_uid = {uid}
mail_gid = {gid}
mail_location = maildir:{root}/mail/%u
passdb {{
  driver = static
  args = password={password}
}}
userdb {{
  driver = static
  args = home={root}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Dovecot:
    """A running Dovecot and how to reach and poke it."""

    port: int
    root: Path
    config: Path

    def maildir(self, user: str) -> Path:
        return self.root / "mail" / user

    async def kick(self, user: str) -> None:
        """Drop every IMAP connection of ``user`` (as a server restart would)."""
        process = await asyncio.create_subprocess_exec(
            DOVEADM, "-c", str(self.config), "kick", user, stdout=subprocess.DEVNULL
        )
        assert await process.wait() == 0

    async def client(self, user: str) -> Any:
        imap = aioimaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        await imap.wait_hello_from_server()
        assert (await imap.login(user, PASSWORD)).result == "OK"
        return imap

    async def append(self, user: str, *messages: bytes) -> None:
        imap = await self.client(user)
        try:
            for data in messages:
                response = await imap.append(data, mailbox="INBOX")
                assert response.result == "OK", response
        finally:
            await imap.logout()

    async def flags(self, user: str) -> dict[int, str]:
        """UID → the FLAGS list of every message in the user's INBOX."""
        imap = await self.client(user)
        try:
            await imap.select("INBOX")
            response = await imap.uid("fetch", "1:*", "(UID FLAGS)")
            found = {}
            for line in response.lines:
                text = bytes(line).decode()
                if "UID " in text and "FLAGS" in text:
                    uid = int(text.split("UID ")[1].split()[0].rstrip(")"))
                    found[uid] = text.split("FLAGS (")[1].split(")")[0]
            return found
        finally:
            await imap.logout()


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    """Dovecot on a free port, from its own config in a fresh directory; stopped at the end."""
    if not Path(DOVECOT).exists():
        reason = "Dovecot is not installed (Debian package dovecot-imapd; `make system-deps`)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    # Dovecot refuses to give mail access to root: run the mailboxes as "nobody" then,
    # in a directory it can enter (pytest's own temp directories are private to us).
    owner = pwd.getpwnam("nobody") if os.getuid() == 0 else pwd.getpwuid(os.getuid())
    root = Path(tempfile.mkdtemp(prefix="helpline-dovecot-"))
    root.chmod(0o755)
    (root / "mail").mkdir()
    os.chown(root / "mail", owner.pw_uid, owner.pw_gid)
    port = free_port()
    config = root / "dovecot.conf"
    config.write_text(
        CONFIG.format(
            root=root,
            name=root.name,
            uid=owner.pw_uid,
            gid=owner.pw_gid,
            password=PASSWORD,
            port=port,
        )
    )
    with (root / "stderr.log").open("wb") as stderr:
        process = subprocess.Popen([DOVECOT, "-F", "-c", str(config)], stderr=stderr)
    try:
        _wait_listening(port, process, root)
        yield Dovecot(port, root, config)
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(root, ignore_errors=True)


def _wait_listening(port: int, process: subprocess.Popen[bytes], root: Path) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            logs = [
                p.read_text(errors="replace")
                for p in (root / "stderr.log", root / "dovecot.log")
                if p.exists()
            ]
            raise RuntimeError(f"dovecot exited: {' '.join(logs)}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.02)  # the server process is starting: there is no event to wait on
    raise RuntimeError(f"dovecot did not listen on port {port}")


@pytest.fixture
def mail_user() -> str:
    """A fresh user: an empty mailbox of its own."""
    return f"support-{uuid.uuid4().hex[:10]}"


@dataclass
class CapturingHandler:
    """aiosmtpd handler: keeps every accepted message; can defer or refuse."""

    received: asyncio.Queue[EmailMessage] = field(default_factory=asyncio.Queue)
    defer_data: int = 0
    refuse: set[str] = field(default_factory=set)
    attempts: int = 0

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.attempts += 1
        if self.defer_data > 0:
            self.defer_data -= 1
            return "451 4.3.0 Try again later"
        content = envelope.original_content or b""
        parsed = message_from_bytes(content, policy=default_policy)
        assert isinstance(parsed, EmailMessage)
        await self.received.put(parsed)
        return "250 Message accepted"


@dataclass
class SmtpServer:
    port: int
    handler: CapturingHandler

    async def next_message(self, timeout: float = 15) -> EmailMessage:
        return await asyncio.wait_for(self.handler.received.get(), timeout)


@pytest.fixture
async def smtp() -> AsyncIterator[SmtpServer]:
    """An SMTP server on the test's loop, on a free port, capturing what Helpline sends."""
    handler = CapturingHandler()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(handler, hostname="smtp.test"), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield SmtpServer(port, handler)
    finally:
        server.close()
        await server.wait_closed()

"""Secrets hygiene: no configured credential reaches a log line, an HTTP answer or the CLI's output.

Every credential Helpline reads is set through its ``HELPLINE_*`` variable to a recognisable
canary (each contains ``Canary``). Logging runs at DEBUG with the JSON format of
:mod:`core.logs`, as an operator chasing a problem would set it, so every library's debug
lines are written too (python-telegram-bot puts the bot token in its URLs, httpx logs every
request URL, tweepy logs its OAuth header, aioimaplib the IMAP commands). Then Helpline starts
with every channel against local fakes, answers good and bad requests (4xx and 500 pages),
fails to reach the platforms, and the ``helpline`` command fails on bad configurations. No
canary may appear in any log line, HTTP body or header, exception text or CLI output.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import quote

import discord
import discord.http
import httpx
import orjson
import pytest
import uvicorn
import yarl

from adapters import runtime as runtime_module
from adapters.console.app import console_settings
from adapters.discord_channel import DiscordChannel, DiscordSettings
from adapters.email_channel import EmailChannel, EmailSettings
from adapters.email_outgoing import deliver
from adapters.runtime import open_runtime
from adapters.telegram_channel import TelegramChannel
from adapters.telegram_settings import TelegramSettings
from adapters.webhook_channel import WebhookSettings, sign
from adapters.x_channel import XChannel
from adapters.x_settings import XSettings
from adapters.x_webhook import signature
from core import logs
from core.channels import ChannelError
from core.engine.base import Decision, Engine, Turn
from core.engine.basic import BasicEngine
from core.logs import SecretMask, configure_logging, hide_secrets
from core.settings import Settings, SettingsError, load_settings
from core.surveys.settings import load_survey_settings
from tests.discord import fake_discord as fd
from tests.email import conftest as email_fixtures
from tests.telegram import fake_bot_api, updates
from tests.telegram.fake_bot_api import FakeBotApi
from tests.x.fake_x import FakeX, LocalResolver

ROOT = Path(__file__).resolve().parents[2]
dovecot = email_fixtures.dovecot  # the real IMAP server of the e-mail tests

TELEGRAM_TOKEN = "7400000001:CanaryTelegramBotToken-q1"
TELEGRAM_WEBHOOK_SECRET = "CanaryTelegramWebhookSecret_q2"
DISCORD_TOKEN = "CanaryDiscordBotToken.q3"
X_CONSUMER_KEY = "CanaryXConsumerKey-q4"
X_CONSUMER_SECRET = "CanaryXConsumerSecret-q5"
X_ACCESS_TOKEN = "7400000002-CanaryXAccessToken-q6"
X_ACCESS_TOKEN_SECRET = "CanaryXAccessTokenSecret-q7"
IMAP_PASSWORD = "CanaryImapPassword-q8"
SMTP_PASSWORD = "CanarySmtpPassword-q9"
WEBHOOK_SECRET = "CanaryWebhookSecret-q10"
CONSOLE_SECRET = "CanaryConsoleSessionSecret-q11-0123456789"
SURVEY_SECRET = "CanarySurveyLinkSecret-q12"
DATABASE_PASSWORD = "CanaryDatabasePassword-q13"
REDIS_PASSWORD = "CanaryRedisPassword-q14"
CANARIES = (
    TELEGRAM_TOKEN,
    TELEGRAM_WEBHOOK_SECRET,
    DISCORD_TOKEN,
    X_CONSUMER_KEY,
    X_CONSUMER_SECRET,
    X_ACCESS_TOKEN,
    X_ACCESS_TOKEN_SECRET,
    IMAP_PASSWORD,
    SMTP_PASSWORD,
    WEBHOOK_SECRET,
    CONSOLE_SECRET,
    SURVEY_SECRET,
    DATABASE_PASSWORD,
    REDIS_PASSWORD,
)
# Every canary contains it: a truncated or re-encoded fragment of a secret is a leak too.
MARKER = "Canary"
WAIT = 20.0


def secret_environment() -> dict[str, str]:
    """Every credential variable Helpline reads, set to its canary (channels stay off)."""
    return {
        "HELPLINE_TELEGRAM__TOKEN": TELEGRAM_TOKEN,
        "HELPLINE_TELEGRAM__WEBHOOK_SECRET": TELEGRAM_WEBHOOK_SECRET,
        "HELPLINE_DISCORD__TOKEN": DISCORD_TOKEN,
        "HELPLINE_X__CONSUMER_KEY": X_CONSUMER_KEY,
        "HELPLINE_X__CONSUMER_SECRET": X_CONSUMER_SECRET,
        "HELPLINE_X__ACCESS_TOKEN": X_ACCESS_TOKEN,
        "HELPLINE_X__ACCESS_TOKEN_SECRET": X_ACCESS_TOKEN_SECRET,
        "HELPLINE_EMAIL__IMAP_PASSWORD": IMAP_PASSWORD,
        "HELPLINE_EMAIL__SMTP_PASSWORD": SMTP_PASSWORD,
        "HELPLINE_WEBHOOK__SECRET": WEBHOOK_SECRET,
        "HELPLINE_CONSOLE__SECRET": CONSOLE_SECRET,
        "HELPLINE_SURVEYS__SECRET": SURVEY_SECRET,
        "HELPLINE_DATABASE__URL": f"postgresql+asyncpg://helpline:{DATABASE_PASSWORD}@127.0.0.1:1/helpline",
        "HELPLINE_RATE_LIMITS__REDIS_URL": f"redis://:{REDIS_PASSWORD}@127.0.0.1:1/0",
    }


def leaks(text: str) -> list[str]:
    """The canaries found in ``text`` (as written or URL-encoded), or fragments of one."""
    found = [c for c in CANARIES if c in text or quote(c, safe="") in text]
    if not found and MARKER in text:
        at = text.index(MARKER)
        found.append(f"a fragment: …{text[max(0, at - 60) : at + 60]}…")
    return found


def assert_clean(where: str, text: str) -> None:
    """Fail naming the canaries ``text`` holds."""
    found = leaks(text)
    assert not found, f"{where} leaks {found}"


def free_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def with_password(url: str, password: str) -> str:
    """``url`` (``scheme://user@host/db``) with ``password`` for ``user``."""
    scheme, _, rest = url.partition("://")
    user, _, host = rest.partition("@")
    return f"{scheme}://{user}:{password}@{host}"


class DebugLogs:
    """What Helpline's own log handler wrote to stderr (DEBUG, JSON lines), accumulated."""

    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self._capsys = capsys
        self._seen: list[str] = []

    def text(self) -> str:
        """Everything written to stdout and stderr so far."""
        out, err = self._capsys.readouterr()
        self._seen += [out, err]
        return "".join(self._seen)

    async def until(self, *fragments: str, timeout: float = WAIT) -> str:
        """Wait until every fragment has been written; the text so far."""
        deadline = time.monotonic() + timeout
        while True:
            text = self.text()
            missing = [f for f in fragments if f not in text]
            if not missing:
                return text
            if time.monotonic() > deadline:
                raise AssertionError(f"never logged: {missing}")
            await asyncio.sleep(0.05)


@pytest.fixture
def debug_logs(capsys: pytest.CaptureFixture[str]) -> Iterator[DebugLogs]:
    """Helpline's logging at DEBUG in JSON (as ``HELPLINE_LOGGING__LEVEL=DEBUG``), restored after."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    configure_logging("DEBUG", json_format=True)
    try:
        yield DebugLogs(capsys)
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


class FailingEngine(Engine):
    """Answers as the basic engine; a message saying "explode" fails as a library error would.

    The error carries the bot token in a URL, as an HTTP client's exception can: the 500 page
    must not show it and the logged traceback must have it masked.
    """

    def __init__(self) -> None:
        self._basic = BasicEngine("Acme Exchange")

    async def respond(self, turn: Turn) -> Decision:
        if "explode" in turn.text:
            raise RuntimeError(f"POST https://api.telegram.org/bot{TELEGRAM_TOKEN}/sendMessage failed")
        return await self._basic.respond(turn)


# -- settings objects ----------------------------------------------------------------------


def test_settings_hold_the_canaries_but_repr_and_str_hide_them() -> None:
    settings = load_settings(secret_environment())
    telegram = TelegramSettings.model_validate(settings.section("telegram"))
    discord_settings = DiscordSettings.model_validate(settings.section("discord"))
    x = XSettings.model_validate(settings.section("x"))
    email = EmailSettings.model_validate(settings.section("email"))
    webhook = WebhookSettings.model_validate(settings.section("webhook"))
    console = console_settings(settings)
    surveys = load_survey_settings(settings.section("surveys"))
    # The values are there for the code that needs them...
    assert telegram.token == TELEGRAM_TOKEN and telegram.webhook_secret == TELEGRAM_WEBHOOK_SECRET
    assert discord_settings.token == DISCORD_TOKEN
    assert (x.consumer_key, x.consumer_secret, x.access_token, x.access_token_secret) == (
        X_CONSUMER_KEY,
        X_CONSUMER_SECRET,
        X_ACCESS_TOKEN,
        X_ACCESS_TOKEN_SECRET,
    )
    assert (email.imap_password, email.smtp_password, webhook.secret) == (
        IMAP_PASSWORD,
        SMTP_PASSWORD,
        WEBHOOK_SECRET,
    )
    assert console.secret is not None and console.secret.get_secret_value() == CONSOLE_SECRET
    assert surveys.secret is not None and surveys.secret.get_secret_value() == SURVEY_SECRET
    assert DATABASE_PASSWORD in settings.database.url and REDIS_PASSWORD in settings.rate_limits.redis_url
    # ...and no repr, str or format of any settings object shows them.
    shown = [
        settings,
        settings.database,
        settings.rate_limits,
        telegram,
        discord_settings,
        x,
        email,
        email.smtp_server(),
        webhook,
        console,
        surveys,
    ]
    for item in shown:
        assert_clean(f"repr({type(item).__name__})", repr(item))
        assert_clean(f"str({type(item).__name__})", str(item))
        assert_clean(f"format({type(item).__name__})", f"{item!s} {item!r}")
    # The structure stays readable: the URL keeps its host, the sections their keys.
    assert "127.0.0.1:1/helpline" in repr(settings.database)
    assert "'token': '**********'" in repr(settings)


def test_invalid_settings_are_explained_without_the_secret_values() -> None:
    bad_core = {**secret_environment(), "HELPLINE_DATABASE__POOL_SIZE": "none"}
    with pytest.raises(SettingsError) as core_error:
        load_settings(bad_core)
    assert "HELPLINE_DATABASE__POOL_SIZE" in str(core_error.value)
    assert_clean("a core settings error", str(core_error.value))

    short = {**secret_environment(), "HELPLINE_CONSOLE__SECRET": "Canary-too-short"}
    with pytest.raises(SettingsError) as console_error:
        console_settings(load_settings(short))
    assert "secret" in str(console_error.value)
    assert_clean("a console settings error", str(console_error.value))


async def test_a_bad_channel_section_fails_the_start_without_the_secret_values(tmp_path: Path) -> None:
    environ = {
        **secret_environment(),
        "HELPLINE_DATABASE__URL": f"sqlite+aiosqlite:///{tmp_path / 'helpline.db'}",
        "HELPLINE_RATE_LIMITS__REDIS_URL": "",
        "HELPLINE_DATA_DIR": str(tmp_path),
        "HELPLINE_ENGINE__KIND": "basic",
        # Not a valid Telegram secret token (spaces and "!"): the value must not be echoed.
        "HELPLINE_TELEGRAM__WEBHOOK_SECRET": "Canary bad secret!",
    }
    with pytest.raises(SettingsError) as error:
        async with open_runtime(load_settings(environ)):
            pass
    assert "webhook_secret" in str(error.value)
    assert_clean("a channel settings error", str(error.value))


# -- the log handler -------------------------------------------------------------------------


@pytest.mark.parametrize("json_format", [True, False], ids=["json", "text"])
def test_the_log_handler_masks_secrets_in_messages_arguments_extras_and_tracebacks(
    json_format: bool, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Only this test's secrets: others registered earlier in the run (a test password
    # "secret", say) would also mask the key "secret_token" asserted below.
    monkeypatch.setattr(logs, "secret_mask", SecretMask())
    load_settings(secret_environment())  # registers every credential it reads
    quoted = 'Canary"quoted\\secret-q15'
    hide_secrets([quoted])
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    configure_logging("DEBUG", json_format=json_format)
    try:
        log = logging.getLogger("httpx")
        log.debug(f"Set Bot API URL: https://api.telegram.org/bot{TELEGRAM_TOKEN}")
        log.info(
            'HTTP Request: %s %s "%s"', "POST", f"https://api.telegram.org/bot{TELEGRAM_TOKEN}/getMe", 200
        )
        log.info("encoded: %s", quote(f"{X_ACCESS_TOKEN}:{DATABASE_PASSWORD}", safe=""))
        log.info("with context", extra={"credential": IMAP_PASSWORD, "payload": {"secret_token": quoted}})
        try:
            raise ConnectionError(f"cannot reach redis://:{REDIS_PASSWORD}@127.0.0.1:1/0")
        except ConnectionError:
            log.exception("the connection failed")
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    err = capsys.readouterr().err
    assert_clean("the log lines", err)
    assert "Canary" not in err
    assert "api.telegram.org/bot***/getMe" in err
    assert "redis://:***@127.0.0.1:1/0" in err and "ConnectionError" in err
    if json_format:
        lines = [orjson.loads(line) for line in err.splitlines() if line.startswith("{")]
        assert len(lines) == 5
        assert lines[3]["credential"] == "***" and lines[3]["payload"] == {"secret_token": "***"}


# -- a running Helpline ----------------------------------------------------------------------


@contextlib.asynccontextmanager
async def serving(settings: Settings, engine: Engine) -> AsyncIterator[runtime_module.Runtime]:
    """Helpline's runtime, HTTP server and dispatcher, on ``settings.http.port``."""
    async with open_runtime(settings, engine=engine) as runtime:
        server = uvicorn.Server(
            uvicorn.Config(
                runtime.app,
                host="127.0.0.1",
                port=settings.http.port,
                log_config=None,
                lifespan="off",
                timeout_graceful_shutdown=1,
            )
        )
        tasks = [asyncio.create_task(server.serve()), asyncio.create_task(runtime.dispatcher.run())]
        try:
            while not server.started:
                await asyncio.sleep(0.01)
            yield runtime
        finally:
            server.should_exit = True
            runtime.dispatcher.stop()
            await asyncio.gather(*tasks)


@pytest.fixture
async def telegram_api(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeBotApi]:
    """The fake Bot API, accepting the canary token."""
    monkeypatch.setattr(fake_bot_api, "TOKEN", TELEGRAM_TOKEN)
    fake = FakeBotApi()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def x_api(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeX]:
    """The fake X API (TLS), accepting the canary consumer key; the X channel is pointed at it."""
    fake = FakeX()
    fake.consumer_key, fake.consumer_secret = X_CONSUMER_KEY, X_CONSUMER_SECRET
    await fake.start()
    factory = lambda section, context: XChannel.configure(  # noqa: E731
        section, context, session_factory=fake.session_factory()
    )
    monkeypatch.setitem(runtime_module.CHANNEL_FACTORIES, "x", factory)
    yield fake
    await fake.stop()


@pytest.fixture
async def discord_api(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[fd.FakeDiscord]:
    """The fake Discord, with discord.py's REST base and gateway pointed at it."""
    async with fd.FakeDiscord() as server:
        monkeypatch.setattr(discord.http.Route, "BASE", server.api_base)
        monkeypatch.setattr(discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(server.gateway_url))
        yield server


async def test_a_running_helpline_leaks_no_secret_in_logs_pages_or_headers(
    postgres_url: str,
    tmp_path: Path,
    debug_logs: DebugLogs,
    telegram_api: FakeBotApi,
    x_api: FakeX,
    discord_api: fd.FakeDiscord,
) -> None:
    port, closed = free_port(), free_port()
    base = f"http://127.0.0.1:{port}"
    environ = {
        **secret_environment(),
        # Trust authentication: the password is sent only if asked for, so it is a real setting here.
        "HELPLINE_DATABASE__URL": with_password(postgres_url, DATABASE_PASSWORD),
        "HELPLINE_RATE_LIMITS__REDIS_URL": "",
        "HELPLINE_DATA_DIR": str(tmp_path),
        "HELPLINE_ENGINE__KIND": "basic",
        "HELPLINE_HTTP__PORT": str(port),
        "HELPLINE_HTTP__PUBLIC_URL": base,
        "HELPLINE_DISPATCHER__POLL_INTERVAL_SECONDS": "0.05",
        "HELPLINE_DISPATCHER__BACKOFF_BASE_SECONDS": "0.1",
        "HELPLINE_WEBHOOK__ENABLED": "true",
        "HELPLINE_WEBHOOK__DELIVER_URL": f"http://127.0.0.1:{closed}/replies",
        "HELPLINE_TELEGRAM__MODE": "webhook",
        "HELPLINE_TELEGRAM__WEBHOOK_URL": f"{base}/api/telegram/updates",
        "HELPLINE_TELEGRAM__API_BASE_URL": telegram_api.base_url,
        "HELPLINE_TELEGRAM__FILE_BASE_URL": telegram_api.base_file_url,
        "HELPLINE_TELEGRAM__REQUEST_TIMEOUT_SECONDS": "5",
        "HELPLINE_X__ENABLED": "true",
        "HELPLINE_X__INTAKE": "webhook",
        "HELPLINE_DISCORD__SUPPORT_CHANNEL_IDS": f"[{fd.SUPPORT_CHANNEL_ID}]",
        "HELPLINE_DISCORD__SUPPORT_ROLE_ID": str(fd.SUPPORT_ROLE_ID),
        "HELPLINE_DISCORD__READY_TIMEOUT_SECONDS": "0.05",
    }
    pages: list[tuple[str, httpx.Response]] = []
    async with serving(load_settings(environ), FailingEngine()) as runtime:
        telegram, x, discord_channel = (runtime.channels[n] for n in ("telegram", "x", "discord"))
        assert isinstance(telegram, TelegramChannel) and isinstance(x, XChannel)
        assert isinstance(discord_channel, DiscordChannel) and discord_channel.client is not None
        await asyncio.wait_for(telegram.ready.wait(), WAIT)
        await asyncio.wait_for(x.ready.wait(), WAIT)
        await asyncio.wait_for(discord_channel.client.wait_until_ready(), WAIT)
        # The credentials were really used: the fakes of Telegram and X accept only the canaries.
        assert telegram_api.webhook is not None
        assert telegram_api.webhook.get("secret_token") == TELEGRAM_WEBHOOK_SECRET

        async with httpx.AsyncClient(base_url=base, timeout=WAIT) as client:

            async def status(what: str, method: str, path: str, **kwargs: Any) -> int:
                response = await client.request(method, path, **kwargs)
                pages.append((what, response))
                return response.status_code

            assert await status("health", "GET", "/healthz") == 200
            assert await status("metrics", "GET", "/metrics") == 200
            assert await status("unknown page", "GET", "/nowhere") == 404
            chat = {"session_id": "s-1", "message_id": "m-1", "text": "hello"}
            assert await status("web chat", "POST", "/api/chat/messages", json=chat) == 200
            bad_chat = {"session_id": "s-1", "message_id": "m-2"}
            assert await status("bad chat", "POST", "/api/chat/messages", json=bad_chat) == 422
            failing = {"session_id": "s-2", "message_id": "m-3", "text": "explode"}
            assert await status("500 page", "POST", "/api/chat/messages", json=failing) == 500
            # The console: signed out, a forged sign-in, an unknown page.
            assert await status("console", "GET", "/console/") in (302, 303, 307)
            assert await status("sign-in page", "GET", "/console/login") == 200
            forged = {"email": "a@example.com", "password": "wrong-password", "csrf": "forged"}
            assert await status("forged sign-in", "POST", "/console/login", data=forged) in (400, 403)
            assert await status("console 404", "GET", "/console/nowhere") in (303, 404)
            # The signed webhook: unsigned (401), then signed, whose reply cannot be delivered.
            hook = "/api/webhook/messages"
            body = orjson.dumps(
                {"conversation_id": "c-1", "message_id": "w-1", "user": {"id": "u-1"}, "text": "hello"}
            )
            assert await status("unsigned webhook", "POST", hook, content=body) == 401
            stamp = str(int(time.time()))
            signed = {
                "X-Helpline-Timestamp": stamp,
                "X-Helpline-Signature": sign(WEBHOOK_SECRET, stamp, body),
            }
            assert await status("webhook", "POST", hook, content=body, headers=signed) == 202
            # Telegram's webhook: a wrong secret, a bad body, then an update answered through the Bot API.
            tg = "/api/telegram/updates"
            wrong = {"X-Telegram-Bot-Api-Secret-Token": "wrong"}
            assert await status("telegram 403", "POST", tg, json={}, headers=wrong) == 403
            right = {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_WEBHOOK_SECRET}
            assert await status("telegram 400", "POST", tg, content=b"{", headers=right) == 400
            update = updates.text_update("hello")
            assert await status("telegram update", "POST", tg, json=update, headers=right) == 200
            await telegram_api.wait_for(lambda: bool(telegram_api.sent()), WAIT)
            # X's webhook: no CRC token, a CRC answer, a forged signature, a signed event.
            x_hook = "/api/x/webhook"
            assert await status("x crc 400", "GET", x_hook) == 400
            assert await status("x crc", "GET", x_hook, params={"crc_token": "challenge"}) == 200
            forged_event = {"x-twitter-webhooks-signature": "sha256=forged"}
            assert await status("x 403", "POST", x_hook, content=b"{}", headers=forged_event) == 403
            good = {"x-twitter-webhooks-signature": signature(X_CONSUMER_SECRET, b"{}")}
            assert await status("x event", "POST", x_hook, content=b"{}", headers=good) == 200

        await debug_logs.until("webhook message", "Exception in ASGI application")
    logs = debug_logs.text()

    for what, response in pages:
        assert_clean(f"the {what} answer's body", response.text)
        assert_clean(f"the {what} answer's headers", repr(response.headers.multi_items()))
    assert_clean("the DEBUG logs", logs)
    # The paths that would have leaked were taken: masked, not silent.
    assert "/bot***/getMe" in logs  # httpx's request line (INFO) and python-telegram-bot's URL
    assert "Calling Bot API endpoint `setWebhook`" in logs  # its parameters hold the secret (DEBUG)
    assert "bot***/sendMessage failed" in logs  # the 500's traceback
    assert "oauth_consumer_key" in logs  # tweepy's debug line with the OAuth header
    assert next(r.text for w, r in pages if w == "500 page") == "Internal Server Error"


# The channels alone matter here, not the store.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_channels_that_cannot_connect_leak_no_secret(
    database_url: str,
    tmp_path: Path,
    debug_logs: DebugLogs,
    dovecot: email_fixtures.Dovecot,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    closed = free_port()
    # X: the API host resolves to a port nothing listens on.
    x_session = FakeX().session_factory()

    def x_factory(section: object, context: object) -> object:
        def refused(settings: XSettings) -> object:
            session = x_session(settings)
            session.connector._resolver = LocalResolver(closed)  # type: ignore[union-attr]
            return session

        return XChannel.configure(section, context, session_factory=refused)  # type: ignore[arg-type]

    monkeypatch.setitem(runtime_module.CHANNEL_FACTORIES, "x", x_factory)
    monkeypatch.setattr(discord.http.Route, "BASE", f"http://127.0.0.1:{closed}/api/v10")
    environ = {
        **secret_environment(),
        "HELPLINE_DATABASE__URL": database_url,
        "HELPLINE_RATE_LIMITS__REDIS_URL": "",
        "HELPLINE_DATA_DIR": str(tmp_path),
        "HELPLINE_ENGINE__KIND": "basic",
        "HELPLINE_TELEGRAM__MODE": "polling",
        "HELPLINE_TELEGRAM__API_BASE_URL": f"http://127.0.0.1:{closed}/bot",
        "HELPLINE_TELEGRAM__REQUEST_TIMEOUT_SECONDS": "2",
        "HELPLINE_X__ENABLED": "true",
        "HELPLINE_EMAIL__ADDRESS": "support@example.com",
        # Dovecot answers, and refuses the (canary) password at LOGIN.
        "HELPLINE_EMAIL__IMAP_HOST": "127.0.0.1",
        "HELPLINE_EMAIL__IMAP_PORT": str(dovecot.port),
        "HELPLINE_EMAIL__IMAP_SSL": "false",
        "HELPLINE_EMAIL__SMTP_HOST": "127.0.0.1",
        "HELPLINE_EMAIL__SMTP_PORT": str(closed),
        "HELPLINE_EMAIL__SMTP_SECURITY": "none",
        "HELPLINE_EMAIL__RECONNECT_MIN_SECONDS": "0.2",
    }
    settings = load_settings(environ)
    async with open_runtime(settings, engine=BasicEngine("Acme Exchange")) as runtime:
        assert {"telegram", "x", "discord", "email"} <= set(runtime.channels)
        assert isinstance(runtime.channels["email"], EmailChannel)
        await debug_logs.until(
            "telegram: getMe failed",
            "x: cannot look up the account",
            "discord: the gateway connection ended",
            "email: IMAP 127.0.0.1",
            "LOGIN support@example.com",  # aioimaplib's DEBUG line of the command sent
        )
        reply = EmailMessage()
        reply["From"], reply["To"], reply["Subject"] = "support@example.com", "ada@example.com", "Re: help"
        reply.set_content("hello")
        with pytest.raises(ChannelError) as refused:
            await deliver(reply, EmailSettings.model_validate(settings.section("email")).smtp_server())
        assert str(closed) in str(refused.value)
        assert_clean("the SMTP error", f"{refused.value!s} {refused.value!r} {refused.value.__cause__!r}")
    assert_clean("the DEBUG logs", debug_logs.text())


# -- the helpline command ----------------------------------------------------------------------


def run_cli(*args: str, environ: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``helpline ARGS`` in a fresh process, at DEBUG with JSON logs, with only ``environ`` as settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELPLINE_")}
    env.update(environ, HELPLINE_LOGGING__LEVEL="DEBUG", HELPLINE_LOGGING__JSON="true")
    return subprocess.run(
        [sys.executable, "-m", "adapters.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.slow
def test_the_helpline_command_prints_no_secret(postgres_url: str, tmp_path: Path) -> None:
    common = {**secret_environment(), "HELPLINE_DATA_DIR": str(tmp_path), "HELPLINE_ENGINE__KIND": "basic"}
    # A bad configuration: one invalid channel value among every credential.
    sqlite = f"sqlite+aiosqlite:///{tmp_path / 'helpline.db'}"
    bad_secret = "Canary bad secret!"
    bad = run_cli(
        "run",
        environ={**common, "HELPLINE_DATABASE__URL": sqlite, "HELPLINE_TELEGRAM__WEBHOOK_SECRET": bad_secret},
    )
    # The database cannot be reached (the canary password is in its URL).
    unreachable = run_cli("run", environ=common)
    # The schema revision of a reachable database, named in the output.
    current = run_cli(
        "db",
        "current",
        environ={**common, "HELPLINE_DATABASE__URL": with_password(postgres_url, DATABASE_PASSWORD)},
    )
    outputs: dict[str, subprocess.CompletedProcess[str]] = {
        "helpline run (bad config)": bad,
        "helpline run (database unreachable)": unreachable,
        "helpline db current": current,
    }
    for what, done in outputs.items():
        assert_clean(f"{what} stdout", done.stdout)
        assert_clean(f"{what} stderr", done.stderr)
    assert bad.returncode == 2 and "webhook_secret" in bad.stderr, bad.stderr[-2000:]
    # One line saying what to do, with the password hidden; no traceback.
    assert unreachable.returncode == 1, unreachable.stderr[-2000:]
    assert (
        "cannot reach the database at postgresql+asyncpg://helpline:***@127.0.0.1:1/helpline"
        in unreachable.stderr
    )
    assert "HELPLINE_DATABASE__URL" in unreachable.stderr and "Traceback" not in unreachable.stderr
    assert current.returncode == 0, current.stderr[-2000:]
    assert "postgres:***@127.0.0.1" in current.stdout


def test_leaks_finds_fragments_and_encodings() -> None:
    # The detector itself: a test that cannot fail proves nothing.
    assert leaks(f"x {TELEGRAM_TOKEN} y") == [TELEGRAM_TOKEN]
    assert leaks(quote(TELEGRAM_TOKEN, safe="")) == [TELEGRAM_TOKEN]
    assert leaks("…CanaryTelegramBot…") != []
    assert leaks("nothing here: *** **********") == []

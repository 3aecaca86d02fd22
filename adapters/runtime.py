"""The composition root: picks the store, engine and channels from settings and runs them.

``helpline run`` calls :func:`serve`; tests and benchmarks use :func:`open_runtime` to get
the same parts without the HTTP server's socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import socket
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Collection, Generator, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.routing import BaseRoute

from adapters.console.app import build_console, console_secret, log_sign_in_hint
from adapters.discord_channel import DiscordChannel
from adapters.email_channel import EmailChannel
from adapters.http_app import build_app
from adapters.http_helpers import validation_message
from adapters.redis_limits import RedisLimits
from adapters.survey_links import survey_routes
from adapters.telegram_channel import TelegramChannel
from adapters.webchat_channel import WebchatChannel
from adapters.webhook_channel import WebhookChannel
from adapters.x_channel import XChannel
from conversations.channel_state import ChannelStateStore, ThreadDirectory
from conversations.database import Database
from conversations.errors import SchemaOutdated
from conversations.leases import Lease
from conversations.migrate import current_revision, head_revision, upgrade
from core.abuse import InboundThrottle
from core.channels import Channel, ChannelContext
from core.dispatcher import Dispatcher
from core.engine.base import Engine
from core.engine.basic import BasicEngine
from core.engine.faq_engine import FaqEngine
from core.faq.kb import KnowledgeBase, KnowledgeBaseError, load_knowledge_base
from core.faq.matcher import FaqMatcher
from core.faq.tuning import TuningPlan
from core.faults import FaultPoints
from core.forms import FormConfigError, FormRunner, load_forms
from core.jobs import JobRunner
from core.leader import Elected
from core.mentions import MentionQueue
from core.pipeline import OPEN_TICKET, Pipeline
from core.scheduler import Scheduler, backlog_watchdog, sla_watch, sqlite_checkpoints
from core.settings import ROOT, Settings, SettingsError
from core.surveys.wiring import follow_up_scheduler, register_follow_up_jobs
from core.tickets import TicketService, load_ticket_settings
from core.validation import CatalogError, load_asset_catalog

log = logging.getLogger(__name__)

# Channels configured from their own settings section; each factory returns the channel,
# or the reason it stays off (a missing credential), which is logged once at start.
# A factory validates its settings section and returns the channel, or why it stays off.
ChannelFactory = Callable[[Mapping[str, Any], ChannelContext], Channel | str]
CHANNEL_FACTORIES: dict[str, ChannelFactory] = {
    "webhook": WebhookChannel.configure,
    "telegram": TelegramChannel.configure,
    "x": XChannel.configure,
    "discord": DiscordChannel.configure,
    "email": EmailChannel.configure,
}


@dataclass(slots=True)
class Runtime:
    """Every running part of one Helpline process."""

    settings: Settings
    db: Database
    engine: Engine
    pipeline: Pipeline
    dispatcher: Dispatcher
    scheduler: Scheduler
    tickets: TicketService
    channels: dict[str, Channel]
    app: Starlette
    jobs: JobRunner
    intake: list[Elected]


async def open_database(settings: Settings) -> Database:
    """Connect, and bring an SQLite database up to date (PostgreSQL is upgraded explicitly).

    Raises:
        SchemaOutdated: A PostgreSQL database needs ``helpline db upgrade``.

    """
    db = Database(settings.database.url, **settings.database.options())
    current, head = await current_revision(db), head_revision()
    if current != head:
        if not db.is_sqlite:
            await db.dispose()
            raise SchemaOutdated(
                f"the database at {db.safe_url} is at schema {current or 'empty'}, this Helpline needs "
                f"{head}: run `helpline db upgrade` first"
            )
        log.info("upgrading the SQLite database %s from %s to %s", db.safe_url, current or "empty", head)
        await upgrade(db)
    return db


def load_kb(settings: Settings) -> KnowledgeBase:
    """Load the configured knowledge base.

    Raises:
        SettingsError: It cannot be loaded; the message names the file and topic.

    """
    path = Path(settings.engine.knowledge_base)
    if not path.is_absolute() and not path.exists():
        path = ROOT / path
    try:
        return load_knowledge_base(path)
    except (KnowledgeBaseError, OSError) as exc:
        raise SettingsError(f"cannot load the knowledge base {path}: {exc}") from None


def build_matcher(
    settings: Settings, kb: KnowledgeBase, *, embeddings: bool, tune: bool = False
) -> FaqMatcher:
    """Index the knowledge base (cached on disk under the data directory).

    With ``tune`` the encoder is first tuned on the knowledge base (minutes on a first start,
    cached afterwards; needs PyTorch).
    """
    started = time.monotonic()
    matcher = FaqMatcher.build(
        kb,
        cache_dir=Path(settings.data_dir) / "cache" / "faq",
        embeddings=embeddings,
        tune=tune and embeddings,
        tuning=TuningPlan(steps=settings.engine.tune_steps),
        progress=_ProgressLog("tuning the FAQ encoder" if tune else "indexing the knowledge base"),
    )
    kind = "hybrid (lexical + embeddings)" if embeddings else "lexical"
    if tune and embeddings:
        kind = "hybrid (lexical + embeddings tuned on the knowledge base)"
    log.info(
        "knowledge base: %d topics, %s matcher ready in %.1fs", len(kb), kind, time.monotonic() - started
    )
    return matcher


def build_forms() -> FormRunner:
    """The detail-collection forms (``config/forms.yaml``) and the asset catalogue they validate against.

    Raises:
        SettingsError: A definition is invalid; the message names the file and entry.

    """
    try:
        return FormRunner(load_forms(), load_asset_catalog())
    except (FormConfigError, CatalogError, OSError) as exc:
        raise SettingsError(f"cannot load the forms or the asset catalogue: {exc}") from None


def build_engine(settings: Settings) -> FaqEngine:
    """The dialogue engine with its full matcher, built before returning."""
    kb = load_kb(settings)
    matcher = build_matcher(
        settings, kb, embeddings=settings.engine.embeddings, tune=settings.engine.tune_encoder
    )
    return FaqEngine(matcher, kb, settings.brand, settings.engine.default_language, build_forms())


async def start_engine(settings: Settings, tasks: list[asyncio.Task[None]]) -> FaqEngine:
    """An engine that answers at once with lexical matching while the embeddings index builds.

    The first start embeds every example (a minute on two cores); meanwhile customers get
    lexical answers rather than a server that is not there. Later starts read the cache. With
    ``engine.tune_encoder`` the tuned matcher follows the stock one when its tuning is done.
    """
    kb = load_kb(settings)
    forms = build_forms()
    if not settings.engine.embeddings:
        matcher = await asyncio.to_thread(build_matcher, settings, kb, embeddings=False)
        return FaqEngine(matcher, kb, settings.brand, settings.engine.default_language, forms)
    lexical = await asyncio.to_thread(build_matcher, settings, kb, embeddings=False)
    engine = FaqEngine(lexical, kb, settings.brand, settings.engine.default_language, forms)

    loop = asyncio.get_running_loop()
    built: asyncio.Future[FaqMatcher] = loop.create_future()
    tuned: asyncio.Future[FaqMatcher] = loop.create_future()

    def build() -> None:
        try:
            matcher = build_matcher(settings, kb, embeddings=True)
        except Exception as exc:  # reported on the loop below
            loop.call_soon_threadsafe(_settle, built, None, exc)
            return
        loop.call_soon_threadsafe(_settle, built, matcher, None)
        if settings.engine.tune_encoder:
            try:
                better = build_matcher(settings, kb, embeddings=True, tune=True)
            except Exception as exc:
                loop.call_soon_threadsafe(_settle, tuned, None, exc)
            else:
                loop.call_soon_threadsafe(_settle, tuned, better, None)

    # A daemon thread, not the loop's executor: stopping during a first start must not
    # wait a minute for the embeddings to finish (the cache is written atomically).
    threading.Thread(target=build, name="faq-index", daemon=True).start()

    async def upgrade() -> None:
        try:
            engine.use_matcher(await built)
        except Exception:  # lexical answers go on; the log says why the index failed
            log.exception("the embeddings index could not be built; answering with lexical matching")
            return
        if not settings.engine.tune_encoder:
            return
        try:
            engine.use_matcher(await tuned)
        except Exception:  # the stock model goes on answering
            log.exception("the FAQ encoder could not be tuned; answering with the stock model")

    tasks.append(asyncio.create_task(upgrade()))
    return engine


def _settle(future: asyncio.Future[FaqMatcher], matcher: FaqMatcher | None, exc: Exception | None) -> None:
    if future.done():
        return
    if exc is not None:
        future.set_exception(exc)
    else:
        assert matcher is not None
        future.set_result(matcher)


class _ProgressLog:
    """Logs a long build's progress every 10 %, so a first start does not look hung."""

    def __init__(self, what: str) -> None:
        self._what = what
        self._last: dict[str, int] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        percent = 100 * done // total if total else 100
        if percent >= self._last.get(stage, -10) + 10 or done == total:
            self._last[stage] = percent
            log.info("%s: %s %d%% (%d/%d)", self._what, stage, percent, done, total)


def build_channels(settings: Settings, db: Database, tickets: TicketService) -> dict[str, Channel]:
    """Every channel that is enabled and has its credentials; one log line for each skipped."""
    channels: dict[str, Channel] = {}
    if settings.webchat.enabled:
        channels["webchat"] = WebchatChannel(
            db,
            settings.webchat,
            settings.http.max_body_bytes,
            secret=console_secret(settings),
            secure_cookies=settings.http.public_url.lower().startswith("https://"),
        )
    else:
        log.info("webchat: disabled (HELPLINE_WEBCHAT__ENABLED=false)")
    for name, factory in CHANNEL_FACTORIES.items():
        try:
            context = ChannelContext(
                settings, ChannelStateStore(db, name), ThreadDirectory(db, name), tickets
            )
            configured = factory(settings.section(name), context)
        except ValidationError as exc:
            raise SettingsError(f"invalid {name} settings: {validation_message(exc)}") from None
        if isinstance(configured, str):
            log.info("%s: %s", name, configured)
        else:
            channels[name] = configured
    return channels


@contextlib.asynccontextmanager
async def open_runtime(
    settings: Settings,
    engine: Engine | None = None,
    *,
    index_in_background: bool = False,
    roles: Collection[str] = ("web", "worker", "dispatcher", "intake"),
) -> AsyncIterator[Runtime]:
    """Build and start every part but the HTTP server; stop them on exit.

    Args:
        settings: The configuration.
        engine: An engine built already (tests share one); by default :func:`build_engine`.
        index_in_background: Answer with lexical matching until the embeddings index is
            built, instead of waiting for it (the server does; ``helpline chat`` waits).
        roles: With ``intake``, the single-instance pollers run here while this process
            holds their leases (see :func:`serve`).

    """
    background: list[asyncio.Task[None]] = []
    db = await open_database(settings)
    faults = FaultPoints(settings.faults)
    wiring: dict[str, Callable[..., None]] = {}
    tickets = TicketService(
        db,
        load_ticket_settings(settings.section("tickets")),
        # The dispatcher and the pipeline are built after the channels, which need the service.
        on_queued=lambda: wiring["queued"](),
        on_conversation_changed=lambda channel, thread: wiring["changed"](channel, thread),
        follow_ups=follow_up_scheduler(settings),
        max_tickets_per_day=settings.abuse.max_tickets_per_day,
    )
    channels = build_channels(settings, db, tickets)
    if engine is None and settings.engine.kind == "basic":
        engine = BasicEngine(settings.brand.name, settings.engine.default_language)
    if engine is None:
        if index_in_background:
            engine = await start_engine(settings, background)
        else:
            engine = await asyncio.to_thread(build_engine, settings)
    limits = RedisLimits(settings.rate_limits.redis_url) if settings.rate_limits.redis_url else None
    dispatcher = Dispatcher(db, channels, settings.dispatcher, faults, limits)
    jobs = JobRunner(db)
    jobs.register(OPEN_TICKET, tickets.open_requested, completes=True)
    surveys = register_follow_up_jobs(jobs, db, settings, tickets, on_queued=dispatcher.wake)
    pipeline = Pipeline(
        db,
        engine,
        on_committed=dispatcher.wake,
        faults=faults,
        answering_channels=frozenset(n for n, c in channels.items() if c.answers_in_response),
        on_jobs=jobs.wake,
        link_allow_list=settings.brand.link_allow_list,
        max_in_flight=settings.pipeline.max_in_flight,
        max_waiting=settings.pipeline.max_waiting,
        throttle=InboundThrottle.from_settings(settings.abuse, limits, settings.engine.default_language),
    )
    wiring["queued"] = dispatcher.wake
    wiring["changed"] = pipeline.forget
    routes = [route for channel in channels.values() for route in _routes(channel)]
    routes += survey_routes(surveys)
    console = build_console(settings, db, tickets, MentionQueue(db, on_queued=dispatcher.wake))
    app = build_app(db, routes, list(channels), console)
    started: list[Channel] = []
    intake: list[Elected] = []
    try:
        for name, channel in channels.items():
            await channel.start(pipeline)
            started.append(channel)
            log.info("%s: started", name)
        scheduler = Scheduler()
        scheduler.add(backlog_watchdog(db, warn_after_seconds=300))
        if db.is_sqlite:
            scheduler.add(sqlite_checkpoints(db))
        scheduler.add(sla_watch(tickets))
        if isinstance(engine, FaqEngine):
            engine.use_ticket_status(tickets.status_for_customer)
        await log_sign_in_hint(db, settings.http.public_url)
        intake += [
            Elected(Lease(db, f"intake:{name}"), channel.start_intake, channel.stop_intake)
            for name, channel in channels.items()
            if channel.single_intake
        ]
        if "intake" in roles:
            # Each poller runs in whichever process holds its lease (all of them on SQLite).
            background.extend(asyncio.create_task(elected.run()) for elected in intake)
        yield Runtime(
            settings, db, engine, pipeline, dispatcher, scheduler, tickets, channels, app, jobs, intake
        )
    finally:
        for elected in intake:
            elected.stop()
        for task in background:
            task.cancel()
        await asyncio.gather(*background, return_exceptions=True)
        for channel in reversed(started):
            await channel.stop()
        if limits is not None:
            await limits.close()
        await db.dispose()


def _routes(channel: Channel) -> Iterable[BaseRoute]:
    routes = getattr(channel, "routes", None)
    return routes() if callable(routes) else ()


class _Server(uvicorn.Server):
    # Helpline owns the signals: it stops the dispatcher and the channels too.
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


ROLES = ("web", "worker", "dispatcher", "intake")


async def serve(settings: Settings, roles: Collection[str] = ROLES) -> None:
    """Run Helpline until SIGINT or SIGTERM.

    Args:
        settings: The configuration.
        roles: What this process does; several processes on one PostgreSQL database
            share the work. ``web``: the HTTP server (web chat, webhooks, console,
            metrics), whose inbound messages are answered in the receiving process;
            ``worker``: durable jobs (tickets, surveys) and periodic checks;
            ``dispatcher``: delivery from the outbox; ``intake``: the single-instance
            pollers (Telegram long polling, IMAP, X), run by whichever process holds
            each one's lease.

    """
    async with open_runtime(settings, index_in_background=True, roles=roles) as runtime:
        # Everything built so far lives as long as the process: keep the cyclic garbage
        # collector from rescanning it (full collections otherwise pause every turn ~60 ms).
        gc.collect()
        gc.freeze()
        # The event loop shares the GIL with the FAQ matcher's embedding thread (and, on
        # SQLite, the writer thread): hand it over sooner than the default 5 ms. Each embedding
        # takes the GIL several times (tokens, inputs, scores); at 300 turns/s on two cores the
        # default interval made questions wait > 100 ms for the model in bursts.
        sys.setswitchinterval(0.0005)
        config = uvicorn.Config(
            runtime.app,
            host=settings.http.host,
            port=settings.http.port,
            log_config=None,
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=5,
        )
        server = _Server(config)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)

        async def until_stopped() -> None:
            await stop.wait()
            log.info("stopping: finishing the work in hand")
            server.should_exit = True
            runtime.dispatcher.stop()
            runtime.jobs.stop()
            runtime.scheduler.stop()

        async with asyncio.TaskGroup() as tasks:
            if "web" in roles:
                tasks.create_task(server.serve(sockets=[_listen(settings.http.host, settings.http.port)]))
            if "dispatcher" in roles:
                tasks.create_task(runtime.dispatcher.run())
            if "worker" in roles:
                tasks.create_task(runtime.jobs.run())
                tasks.create_task(runtime.scheduler.run())
            tasks.create_task(until_stopped())
            if "web" in roles:
                await _announce(server, settings)
            else:
                log.info("Helpline is running as %s", "+".join(r for r in ROLES if r in roles))

        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)


def _listen(host: str, port: int) -> socket.socket:
    """The HTTP listening socket; with SO_REUSEPORT several web processes share one port."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if hasattr(socket, "SO_REUSEPORT"):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


async def _announce(server: uvicorn.Server, settings: Settings) -> None:
    while not server.started and not server.should_exit:
        await asyncio.sleep(0.05)
    if server.started:
        base = f"http://{settings.http.host}:{settings.http.port}"
        log.info("Helpline is running: web chat at %s/chat, health at %s/healthz", base, base)

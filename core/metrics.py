"""Prometheus metrics: what operators watch on a dashboard and alert on.

Counters and the latency histogram are updated where the work happens (pipeline,
dispatcher); backlog, ticket and survey figures are read from the database when
``/metrics`` is scraped, so every process reports the same truth about shared state.
"""

from __future__ import annotations

from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from sqlalchemy import func, select

from conversations import outbox
from conversations.database import Database
from conversations.tables import Survey, Ticket

REGISTRY = CollectorRegistry(auto_describe=True)

MESSAGES_IN = Counter(
    "helpline_messages_in", "Inbound customer messages stored", ["channel"], registry=REGISTRY
)
DUPLICATES_IN = Counter(
    "helpline_duplicates_in",
    "Inbound messages delivered again and not stored twice",
    ["channel"],
    registry=REGISTRY,
)
THROTTLED_IN = Counter(
    "helpline_throttled_in",
    "Inbound messages stored but not answered: their sender was over the flood limit",
    ["channel"],
    registry=REGISTRY,
)
REFUSED_BUSY = Counter(
    "helpline_refused_busy",
    "Inbound messages refused (send again) because too many were waiting to be stored",
    ["channel"],
    registry=REGISTRY,
)
MESSAGES_OUT = Counter(
    "helpline_messages_out", "Messages delivered to a platform", ["channel"], registry=REGISTRY
)
SEND_FAILURES = Counter(
    "helpline_send_failures",
    "Delivery attempts that failed (retried, held or given up)",
    ["channel", "kind"],
    registry=REGISTRY,
)
ENGINE_SECONDS = Histogram(
    "helpline_engine_seconds",
    "Time the dialogue engine took to decide a turn",
    # Finer around 100 ms, the target's p99 (issue 11).
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5),
    registry=REGISTRY,
)
TURN_SECONDS = Histogram(
    "helpline_turn_seconds",
    "Time from receiving an inbound message to its turn being committed",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
    registry=REGISTRY,
)
OUTBOX_PENDING = Gauge("helpline_outbox_pending", "Replies waiting for delivery", registry=REGISTRY)
OUTBOX_FAILED = Gauge("helpline_outbox_failed", "Replies that failed for good", registry=REGISTRY)
OUTBOX_OLDEST_AGE = Gauge(
    "helpline_outbox_oldest_age_seconds", "Age of the oldest undelivered reply", registry=REGISTRY
)
TICKETS = Gauge("helpline_tickets", "Tickets by status", ["status"], registry=REGISTRY)
SURVEYS = Gauge("helpline_surveys", "Surveys by status", ["status"], registry=REGISTRY)


def exposition() -> tuple[bytes, str]:
    """The current metrics in Prometheus' text format, with its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


async def refresh_store_gauges(db: Database) -> None:
    """Read the shared figures (backlog, tickets, surveys) from the database into the gauges."""
    async with db.reader() as session:
        backlog = await outbox.backlog(session)
        tickets = (await session.execute(select(Ticket.status, func.count()).group_by(Ticket.status))).all()
        surveys = (await session.execute(select(Survey.status, func.count()).group_by(Survey.status))).all()
    OUTBOX_PENDING.set(backlog.pending)
    OUTBOX_FAILED.set(backlog.failed)
    oldest = backlog.oldest_created_at
    OUTBOX_OLDEST_AGE.set((datetime.now(UTC) - oldest).total_seconds() if oldest else 0.0)
    for status, count in tickets:
        TICKETS.labels(status).set(count)
    for status, count in surveys:
        SURVEYS.labels(status).set(count)

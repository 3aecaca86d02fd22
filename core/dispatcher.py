"""The dispatcher: delivers queued replies from the outbox, with retries and backoff.

Each round leases a batch of due deliveries, sends them (one conversation's messages in
order, different conversations concurrently) and records every outcome. Failures are
retried with exponential backoff and jitter, or after the platform's ``retry_after``;
a rejected message or one that used up its attempts is marked failed for an agent to see.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import defaultdict
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from conversations import outbox
from conversations.database import Database
from conversations.values import Author, Button, OutboundMessage, Surface
from core import metrics
from core.channels import Channel, ChannelError, DeliveryRejected, HeldForReview
from core.faults import FaultPoints
from core.logs import conversation_context
from core.pipeline import utcnow
from core.ratelimit import LocalLimits, RateLimits, wait_for_slot
from core.rounds import Rounds
from core.settings import DispatcherSettings

log = logging.getLogger(__name__)


class Dispatcher(Rounds):
    """Sends what the outbox holds through the running channels.

    Args:
        db: The store.
        channels: Running channels by name; deliveries for other channels wait.
        settings: Batch size, leases, retry policy.
        faults: Crash points for fault-injection tests.

    """

    def __init__(
        self,
        db: Database,
        channels: Mapping[str, Channel],
        settings: DispatcherSettings,
        faults: FaultPoints | None = None,
        limits: RateLimits | None = None,
    ) -> None:
        super().__init__("outbox", settings.poll_interval_seconds)
        self._db = db
        self._channels = channels
        self._settings = settings
        self._faults = faults or FaultPoints()
        self._limits: RateLimits = limits or LocalLimits()
        self._sending = asyncio.Semaphore(settings.concurrency)

    async def round(self) -> int:
        """One round of :meth:`run`."""
        return await self.dispatch_once()

    async def dispatch_once(self) -> int:
        """Run one round: lease, send, record. Returns how many deliveries were attempted."""
        now = utcnow()
        # The lease is one statement: it needs no transaction around it.
        async with self._db.single_writes() as connection:
            claimed = await outbox.claim(
                connection,
                sorted(self._channels),
                now,
                timedelta(seconds=self._settings.lease_seconds),
                self._settings.batch_size,
            )
        if not claimed:
            return 0
        self._faults.reach("dispatcher.after_claim")
        by_conversation: dict[int, list[outbox.ClaimedDelivery]] = defaultdict(list)
        for delivery in claimed:
            by_conversation[delivery.conversation_id].append(delivery)
        results = await asyncio.gather(*(self._send_in_order(group) for group in by_conversation.values()))
        outcomes = [outcome for group in results for outcome in group]
        self._faults.reach("dispatcher.before_record")
        await outbox.store_outcomes(self._db, outcomes, utcnow())
        return len(claimed)

    async def _send_in_order(self, deliveries: list[outbox.ClaimedDelivery]) -> list[outbox.DeliveryOutcome]:
        outcomes = []
        for delivery in deliveries:
            async with self._sending:
                outcomes.append(await self._send(delivery))
        return outcomes

    async def _send(self, delivery: outbox.ClaimedDelivery) -> outbox.DeliveryOutcome:
        with conversation_context(delivery.conversation_id):
            outcome = await self._attempt(delivery)
        if outcome.external_id is None:
            kind = "held" if outcome.held else ("retry" if outcome.retry_at is not None else "failed")
            metrics.SEND_FAILURES.labels(delivery.channel, kind).inc()
        return outcome

    async def _attempt(self, delivery: outbox.ClaimedDelivery) -> outbox.DeliveryOutcome:
        channel = self._channels[delivery.channel]
        for limit in channel.rate_limits:
            key = (
                delivery.channel if limit.scope == "channel" else f"{delivery.channel}:{delivery.thread_key}"
            )
            await wait_for_slot(self._limits, key, limit)
        message = OutboundMessage(
            message_id=delivery.message_id,
            idempotency_key=f"helpline-{delivery.message_id}",
            channel=delivery.channel,
            thread_key=delivery.thread_key,
            text=delivery.text,
            surface=Surface(delivery.surface),
            buttons=tuple(Button(label, action) for label, action in delivery.buttons),
            reply_to_external_id=delivery.reply_to_external_id,
            author=Author(delivery.author),
            metadata=_metadata(delivery),
        )
        try:
            external_id = await asyncio.wait_for(channel.send(message), self._settings.send_timeout_seconds)
        except HeldForReview as exc:
            log.info("%s holds message %s for review: %s", delivery.channel, delivery.message_id, exc)
            return outbox.DeliveryOutcome(delivery.outbox_id, delivery.message_id, error=str(exc), held=True)
        except DeliveryRejected as exc:
            log.error("%s rejected message %s for good: %s", delivery.channel, delivery.message_id, exc)
            return outbox.DeliveryOutcome(delivery.outbox_id, delivery.message_id, error=str(exc))
        except (ChannelError, TimeoutError) as exc:
            error = str(exc) or "timed out"
            retry_after = exc.retry_after if isinstance(exc, ChannelError) else None
            return self._retry_or_fail(delivery, error, retry_after)
        except Exception as exc:  # the per-message boundary: one bad message must not stop the rest
            log.exception("%s failed to send message %s", delivery.channel, delivery.message_id)
            return self._retry_or_fail(delivery, f"{type(exc).__name__}: {exc}", None)
        self._faults.reach("dispatcher.after_send")
        metrics.MESSAGES_OUT.labels(delivery.channel).inc()
        return outbox.DeliveryOutcome(delivery.outbox_id, delivery.message_id, external_id=external_id)

    def _retry_or_fail(
        self, delivery: outbox.ClaimedDelivery, error: str, retry_after: float | None
    ) -> outbox.DeliveryOutcome:
        if delivery.attempts >= self._settings.max_attempts:
            log.error(
                "giving up on %s message %s after %d attempts: %s",
                delivery.channel,
                delivery.message_id,
                delivery.attempts,
                error,
            )
            return outbox.DeliveryOutcome(delivery.outbox_id, delivery.message_id, error=error)
        delay = retry_after if retry_after is not None else self.backoff(delivery.attempts)
        log.warning(
            "%s message %s failed (attempt %d), retrying in %.1fs: %s",
            delivery.channel,
            delivery.message_id,
            delivery.attempts,
            delay,
            error,
        )
        retry_at: datetime = utcnow() + timedelta(seconds=delay)
        return outbox.DeliveryOutcome(delivery.outbox_id, delivery.message_id, error=error, retry_at=retry_at)

    def backoff(self, attempts: int) -> float:
        """Seconds before the next attempt: exponential with full jitter in its upper half."""
        ceiling: float = min(
            self._settings.backoff_max_seconds, self._settings.backoff_base_seconds * 2.0 ** (attempts - 1)
        )
        return ceiling * random.uniform(0.5, 1.0)


def _metadata(delivery: outbox.ClaimedDelivery) -> dict[str, Any]:
    """What a channel may want besides the text: the ticket (e-mail subjects), topic, approval."""
    metadata: dict[str, Any] = {"conversation_id": delivery.conversation_id, "approved": delivery.approved}
    if delivery.topic is not None:
        metadata["topic"] = delivery.topic
    if delivery.ticket_number is not None:
        metadata["ticket_number"] = delivery.ticket_number
        metadata["ticket_subject"] = delivery.ticket_subject
    return metadata

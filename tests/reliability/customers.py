"""Customers of an integrator writing through the signed webhook channel, and what the store holds."""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx
from sqlalchemy import func, select

from adapters.webhook_channel import sign
from conversations.database import Database
from conversations.tables import Job, Message, OutboxEntry
from tests.e2e.test_crash_recovery import SECRET, FakePlatform

PATH = "/api/webhook/messages"


def signed_headers(body: bytes) -> dict[str, str]:
    timestamp = str(int(time.time()))
    return {
        "Content-Type": "application/json",
        "X-Helpline-Timestamp": timestamp,
        "X-Helpline-Signature": sign(SECRET, timestamp, body),
    }


@dataclass
class Customers:
    """``conversations`` customers, each sending numbered messages one at a time.

    A message stays ``outstanding`` until Helpline answers 202 (stored, or a duplicate of a
    stored one); the client sends the same message again after any other outcome, as an
    integrator that honours "send it again" does.
    """

    conversations: int
    sent: int = 0
    accepted: list[str] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    _next: dict[int, int] = field(default_factory=dict)
    _outstanding: dict[int, tuple[str, bytes]] = field(default_factory=dict)

    def outstanding(self, conversation: int) -> tuple[str, bytes]:
        """The message this customer is sending: the unaccepted one, or a new one."""
        if conversation not in self._outstanding:
            n = self._next.get(conversation, 0)
            self._next[conversation] = n + 1
            body = json.dumps(
                {
                    "conversation_id": f"c{conversation}",
                    "message_id": f"m{n}",
                    "user": {"id": f"user-{conversation}"},
                    "text": f"message {n} of conversation {conversation}: my withdrawal is stuck",
                }
            ).encode()
            self._outstanding[conversation] = (f"c{conversation}:m{n}", body)
        return self._outstanding[conversation]

    def waiting(self) -> list[int]:
        """Customers whose message has not been accepted yet."""
        return sorted(self._outstanding)

    async def send(self, client: httpx.AsyncClient, url: str, conversation: int) -> httpx.Response:
        """Send this customer's outstanding message once; a 202 settles it.

        Raises:
            httpx.TransportError: The process did not answer (it may have died).

        """
        external_id, body = self.outstanding(conversation)
        self.sent += 1
        response = await client.post(f"{url}{PATH}", content=body, headers=signed_headers(body))
        self.statuses[response.status_code] += 1
        if response.status_code == 202:
            self.accepted.append(external_id)
            del self._outstanding[conversation]
        return response


@dataclass(frozen=True)
class Stored:
    """What the store holds: inbound external ids, replies per inbound, undelivered work."""

    inbound: list[str]
    replies_per_inbound: Counter[int]
    inbound_ids: dict[int, str]
    outbox: Counter[str]
    unfinished_jobs: int


async def stored(db: Database) -> Stored:
    async with db.reader() as session:
        inbound = (
            await session.execute(select(Message.id, Message.external_id).where(Message.direction == "in"))
        ).all()
        replies = (
            await session.execute(
                select(Message.in_reply_to_id, func.count())
                .where(Message.direction == "out")
                .group_by(Message.in_reply_to_id)
            )
        ).all()
        outbox = (
            await session.execute(select(OutboxEntry.status, func.count()).group_by(OutboxEntry.status))
        ).all()
        jobs = await session.scalar(select(func.count()).select_from(Job).where(Job.status != "done"))
    return Stored(
        inbound=[str(row.external_id) for row in inbound],
        replies_per_inbound=Counter({int(row[0]): int(row[1]) for row in replies if row[0] is not None}),
        inbound_ids={int(row.id): str(row.external_id) for row in inbound},
        outbox=Counter({str(row[0]): int(row[1]) for row in outbox}),
        unfinished_jobs=int(jobs or 0),
    )


def check_once(customers: Customers, store: Stored, platform: FakePlatform) -> None:
    """Every accepted message stored once and answered once, on the platform once, nothing pending."""
    assert not customers.waiting(), f"messages never accepted: {customers.waiting()}"
    duplicates = [key for key, n in Counter(store.inbound).items() if n > 1]
    assert not duplicates, f"stored more than once: {duplicates}"
    assert sorted(store.inbound) == sorted(set(customers.accepted)), "stored != accepted by Helpline"
    unanswered = [e for i, e in store.inbound_ids.items() if store.replies_per_inbound[i] != 1]
    assert not unanswered, f"not answered exactly once: {unanswered}"
    total = len(store.inbound)
    assert store.outbox == Counter({"sent": total}), f"outbox not drained: {store.outbox}"
    assert store.unfinished_jobs == 0
    answered = Counter(str(body["in_reply_to"]) for body in platform.accepted.values())
    assert sorted(answered) == sorted(store.inbound), "the platform's replies do not match the messages"
    assert set(answered.values()) == {1}, f"a message answered under two keys: {answered.most_common(3)}"
    # A resend after a crash carries the same key and the same body: the platform drops it.
    for attempt in platform.attempts:
        assert platform.accepted[f"helpline-{attempt['message_id']}"] == attempt

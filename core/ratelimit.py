"""Delivery rate limits per channel, shared by every dispatcher process.

A channel declares its platform's limits (:class:`Limit`: e.g. Telegram's 30 messages a
second overall and one a second per chat); the dispatcher waits for a slot before each
send. The slots are kept with GCRA (the generic cell rate algorithm: one timestamp per
key), in process by :class:`LocalLimits` or in Redis by
:class:`adapters.redis_limits.RedisLimits` when several processes deliver, so five
dispatchers together still stay within one bot's limits.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Literal, Protocol


@dataclass(frozen=True, slots=True)
class Limit:
    """A platform limit.

    Attributes:
        scope: ``"channel"`` (all sends of the channel), ``"thread"`` (per conversation) or
            ``"sender"`` (per customer identity: the inbound flood limit of :mod:`core.abuse`).
        per_second: Sustained rate.
        burst: Sends allowed at once before the rate applies.

    """

    scope: Literal["channel", "thread", "sender"]
    per_second: float
    burst: int = 1


class RateLimits(Protocol):
    """Where delivery slots are taken."""

    async def reserve(self, key: str, limit: Limit) -> float:
        """Take a slot for ``key`` if one is free: 0.0; otherwise the seconds to wait first."""
        ...


async def wait_for_slot(limits: RateLimits, key: str, limit: Limit, max_wait: float = 60.0) -> None:
    """Wait until a slot for ``key`` is free and take it."""
    waited = 0.0
    while True:
        delay = await limits.reserve(key, limit)
        if delay <= 0 or waited >= max_wait:
            return
        await asyncio.sleep(delay)
        waited += delay


class LocalLimits:
    """GCRA slots kept in this process (one process, or no Redis configured)."""

    def __init__(self) -> None:
        self._tat: dict[str, float] = {}

    async def reserve(self, key: str, limit: Limit) -> float:
        """See :meth:`RateLimits.reserve`."""
        now = time.monotonic()
        interval = 1.0 / limit.per_second
        tat = max(self._tat.get(key, now), now)
        allowed_at = tat - interval * (limit.burst - 1)
        if now < allowed_at:
            return allowed_at - now
        self._tat[key] = tat + interval
        if len(self._tat) > 100_000:  # forget keys idle long enough to be at full burst again
            self._tat = {k: v for k, v in self._tat.items() if v > now}
        return 0.0

"""Delivery rate limits kept in Redis, so every dispatcher process shares one budget.

The GCRA step runs as one Lua script (atomic in Redis, timed by Redis' own clock), so
processes on different machines agree without coordinating otherwise.
"""

from __future__ import annotations

import logging

from redis.asyncio import Redis
from redis.exceptions import RedisError

from core.ratelimit import Limit, LocalLimits

log = logging.getLogger(__name__)

# KEYS[1] the slot key; ARGV: interval in microseconds, burst. Returns the wait in microseconds.
_GCRA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local allowed_at = tat - interval * (burst - 1)
if now < allowed_at then return allowed_at - now end
local new_tat = tat + interval
redis.call('SET', KEYS[1], new_tat, 'PX', math.ceil((new_tat - now) / 1000) + 1000)
return 0
"""


class RedisLimits:
    """GCRA slots in Redis.

    Args:
        url: E.g. ``redis://127.0.0.1:6379/0``.
        prefix: Key prefix, so several Helpline installations can share one Redis.

    If Redis is unreachable, slots are taken in process instead (each process then keeps
    its own budget) and a warning is logged: delivery goes on rather than stopping.

    """

    def __init__(self, url: str, prefix: str = "helpline:rate:") -> None:
        self._redis: Redis = Redis.from_url(url)
        self._prefix = prefix
        self._script = self._redis.register_script(_GCRA)
        self._fallback = LocalLimits()
        self._warned = False

    async def reserve(self, key: str, limit: Limit) -> float:
        """See :meth:`core.ratelimit.RateLimits.reserve`."""
        interval = int(1_000_000 / limit.per_second)
        try:
            wait = await self._script(keys=[self._prefix + key], args=[interval, limit.burst])
        except (RedisError, OSError) as exc:
            if not self._warned:
                log.warning("Redis rate limits unavailable (%s); limiting per process until it is back", exc)
                self._warned = True
            return await self._fallback.reserve(key, limit)
        self._warned = False
        return int(wait) / 1_000_000

    async def close(self) -> None:
        """Close the connection pool."""
        await self._redis.aclose()

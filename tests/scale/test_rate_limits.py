"""Delivery budgets: GCRA in process and in Redis, shared by several dispatchers."""

from __future__ import annotations

import time
import uuid

from adapters.redis_limits import RedisLimits
from core.ratelimit import Limit, LocalLimits, wait_for_slot


async def test_local_limits_allow_the_burst_then_space_sends() -> None:
    limits = LocalLimits()
    limit = Limit("thread", per_second=1, burst=3)
    waits = [await limits.reserve("telegram:42", limit) for _ in range(5)]
    assert waits[:3] == [0.0, 0.0, 0.0]
    assert all(0.9 < w <= 1.0 for w in waits[3:])
    assert await limits.reserve("telegram:43", limit) == 0.0  # another chat has its own budget


async def test_two_dispatchers_share_one_redis_budget(redis_url: str) -> None:
    first, second = RedisLimits(redis_url), RedisLimits(redis_url)
    key = f"test:{uuid.uuid4().hex}"
    limit = Limit("channel", per_second=1, burst=3)
    try:
        waits = [await limiter.reserve(key, limit) for _ in range(4) for limiter in (first, second)]
    finally:
        await first.close()
        await second.close()
    assert sum(w == 0.0 for w in waits) == 3  # three slots in all, not three each
    assert all(w > 0.5 for w in waits if w)


async def test_waiting_for_slots_keeps_the_rate(redis_url: str) -> None:
    limits = RedisLimits(redis_url)
    key = f"test:{uuid.uuid4().hex}"
    limit = Limit("channel", per_second=40, burst=1)
    started = time.monotonic()
    try:
        for _ in range(10):
            await wait_for_slot(limits, key, limit)
    finally:
        await limits.close()
    assert time.monotonic() - started >= 9 / 40 - 0.01


async def test_unreachable_redis_falls_back_to_per_process_limits() -> None:
    limits = RedisLimits("redis://127.0.0.1:1/0")
    try:
        assert await limits.reserve("k", Limit("channel", per_second=1, burst=1)) == 0.0
        assert await limits.reserve("k", Limit("channel", per_second=1, burst=1)) > 0.5
    finally:
        await limits.close()

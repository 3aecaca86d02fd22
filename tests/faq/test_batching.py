"""Micro-batching of blocking work for concurrent coroutines."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence

import pytest

from core.faq.batching import AsyncBatcher


async def test_concurrent_calls_share_batches_off_the_loop() -> None:
    batches: list[int] = []
    loop_thread = threading.get_ident()
    threads: set[int] = set()
    gate = threading.Event()

    def work(items: Sequence[int]) -> list[int]:
        threads.add(threading.get_ident())
        batches.append(len(items))
        gate.wait(1.0)  # the first batch blocks until the others have queued up
        return [i * 10 for i in items]

    batcher: AsyncBatcher[int, int] = AsyncBatcher(work, max_batch=8)
    tasks = [asyncio.create_task(batcher.submit(i)) for i in range(20)]
    await asyncio.sleep(0.05)
    gate.set()
    assert await asyncio.gather(*tasks) == [i * 10 for i in range(20)]
    assert loop_thread not in threads
    assert sum(batches) == 20
    assert max(batches) > 1
    assert all(size <= 8 for size in batches)


async def test_errors_reach_every_caller_and_the_batcher_recovers() -> None:
    calls = 0

    def work(items: Sequence[str]) -> list[str]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("model crashed")
        return [s.upper() for s in items]

    batcher: AsyncBatcher[str, str] = AsyncBatcher(work)
    with pytest.raises(RuntimeError, match="model crashed"):
        await batcher.submit("a")
    assert await batcher.submit("b") == "B"

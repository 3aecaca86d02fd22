"""Micro-batching of blocking work requested by concurrent coroutines.

While one batch runs in a worker thread, new requests queue up; the next batch takes all of
them (up to a limit). A lone caller is served at once, and under load one hop to the thread
serves every request that arrived meanwhile. The event loop never runs the blocking work
itself.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")


class AsyncBatcher(Generic[T, R]):
    """Runs ``function(items) -> results`` (same length, same order) in batches off the loop."""

    def __init__(self, function: Callable[[Sequence[T]], Sequence[R]], max_batch: int = 32) -> None:
        """Wrap ``function``; at most ``max_batch`` items go into one call."""
        self._function = function
        self._max_batch = max_batch
        self._pending: list[tuple[T, asyncio.Future[R]]] = []
        self._worker: asyncio.Task[None] | None = None

    async def submit(self, item: T) -> R:
        """Queue ``item`` and wait for its result (exceptions of the batch are re-raised here)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[R] = loop.create_future()
        self._pending.append((item, future))
        if self._worker is None or self._worker.done():
            self._worker = loop.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        while self._pending:
            batch = self._pending[: self._max_batch]
            del self._pending[: self._max_batch]
            live = [(item, future) for item, future in batch if not future.cancelled()]
            if not live:
                continue
            try:
                results = await asyncio.to_thread(self._function, [item for item, _ in live])
            except Exception as exc:
                for _, future in live:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, future), result in zip(live, results, strict=True):
                if not future.done():
                    future.set_result(result)

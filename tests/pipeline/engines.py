"""Engines written for the tests: real implementations of the Engine port."""

from __future__ import annotations

import asyncio
import contextlib
import random

from core.engine.base import Decision, Engine, Reply, Turn


class EchoEngine(Engine):
    """Answers every message with its text; records the order it saw them in."""

    def __init__(self, jitter: float = 0.0, replies: int = 1, meet: int = 0) -> None:
        self.seen: list[tuple[str, str]] = []
        # With ``meet``, each call waits (up to 5 s) until that many calls are in progress at
        # once: concurrency is proven by the meeting, not by a race against the clock.
        self._meet = meet
        self._met = asyncio.Event()
        self.calls = 0
        self._jitter = jitter
        self._replies = replies
        self.active = 0
        self.max_active = 0

    async def respond(self, turn: Turn) -> Decision:
        self.calls += 1
        self.active += 1
        self.max_active = max(self.max_active, self.active)
        try:
            if self._meet:
                if self.active >= self._meet:
                    self._met.set()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._met.wait(), 5)
            if self._jitter:
                await asyncio.sleep(random.uniform(0, self._jitter))
            self.seen.append((turn.message.thread_key, turn.text))
            count = int(turn.conversation.bot_state.get("count", 0)) + 1
            replies = tuple(Reply(f"echo {turn.text} #{n}") for n in range(self._replies))
            return Decision(replies, bot_state={"count": count}, language="en")
        finally:
            self.active -= 1

"""Pacing of outgoing messages within Telegram's flood limits, globally and per chat.

Telegram allows a bot about 30 messages a second overall, about one a second in a private
chat (short bursts pass) and 20 a minute in a group; going over earns a 429 with a
``retry_after`` that can be long. Each send reserves a slot in the global schedule and in
its chat's (a generic cell rate algorithm: a small burst, then one slot per interval). A
slot due soon is waited for; one further away than ``max_wait`` is not taken: the send is
handed back to the outbox with that delay, so the dispatcher is never held for long.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from core.channels import RateLimited

# Sends one chat may make at once before spacing starts.
BURST = 3
# Forgotten chats: a schedule entry this far in the past no longer limits anything.
_PRUNE_EVERY = 1024


class SendPacer:
    """Spaces sends to stay under the global and per-chat limits.

    Args:
        global_per_second: Messages per second across all chats.
        chat_per_second: Messages per second in one private chat.
        group_per_minute: Messages per minute in one group.
        max_wait: Waits longer than this raise :class:`RateLimited` instead.
        clock: Monotonic seconds (tests move it).

    """

    def __init__(
        self,
        global_per_second: float,
        chat_per_second: float,
        group_per_minute: float,
        max_wait: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._global = 1.0 / global_per_second
        self._global_burst = max(1, int(global_per_second))  # one second's worth at once
        self._chat = 1.0 / chat_per_second
        self._group = 60.0 / group_per_minute
        self._max_wait = max_wait
        self._clock = clock
        self._due: dict[int | None, float] = {}
        self._reserved = 0

    def reserve(self, chat_id: int) -> float:
        """Take the next slot for ``chat_id`` and return how long to wait for it.

        Raises:
            RateLimited: The slot is more than ``max_wait`` away; nothing was reserved.

        """
        now = self._clock()
        interval = self._group if chat_id < 0 else self._chat
        wait_global, due_global = self._slot(None, self._global, self._global_burst, now)
        wait_chat, due_chat = self._slot(chat_id, interval, BURST, now)
        wait = max(wait_global, wait_chat)
        if wait > self._max_wait:
            raise RateLimited(f"pacing chat {chat_id} within Telegram's limits", retry_after=wait)
        self._due[None], self._due[chat_id] = due_global, due_chat
        self._reserved += 1
        if self._reserved % _PRUNE_EVERY == 0:
            self._due = {k: v for k, v in self._due.items() if v > now}
        return wait

    async def wait(self, chat_id: int) -> None:
        """Reserve a slot and sleep until it is due.

        Raises:
            RateLimited: The slot is more than ``max_wait`` away.

        """
        delay = self.reserve(chat_id)
        if delay > 0:
            await asyncio.sleep(delay)

    def _slot(self, key: int | None, interval: float, burst: int, now: float) -> tuple[float, float]:
        due = max(self._due.get(key, now), now)
        return max(0.0, due - now - (burst - 1) * interval), due + interval

"""A bounded in-process cache of conversation state, so a turn starts without a query.

Only the pipeline writes a conversation's bot state, holding that conversation's lock, and
it refreshes the cache after each commit. What others change (an agent takes the ticket,
possibly in another process) is caught when the turn is written: the turn writer compares
status, ticket and assignee with the stored row and the turn is decided again if they differ.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class LruCache(Generic[V]):
    """A least-recently-used mapping holding at most ``capacity`` entries."""

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._items: OrderedDict[Hashable, V] = OrderedDict()

    def get(self, key: Hashable) -> V | None:
        """The value of ``key``, marked as recently used, or ``None``."""
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def put(self, key: Hashable, value: V) -> None:
        """Store ``value``, evicting the least recently used entry when full."""
        self._items[key] = value
        self._items.move_to_end(key)
        if len(self._items) > self._capacity:
            self._items.popitem(last=False)

    def discard(self, key: Hashable) -> None:
        """Forget ``key``."""
        self._items.pop(key, None)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._items

    def __len__(self) -> int:
        return len(self._items)

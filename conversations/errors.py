"""Errors raised by the store.

``StoreError``
 └── ``StoreUnavailable`` — the database cannot be reached; retry later.
      └── ``StoreBusy`` — more messages wait for the store than it takes; retry later.
 └── ``SchemaOutdated`` — the database needs ``helpline db upgrade``.
"""


class StoreError(Exception):
    """Base class of every store error."""


class StoreUnavailable(StoreError):
    """The database cannot be reached right now."""


class StoreBusy(StoreUnavailable):
    """More work is waiting for the store than it is allowed to queue: nothing was stored."""


class SchemaOutdated(StoreError):
    """The database schema is older than this version of Helpline."""

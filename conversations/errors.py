"""Errors raised by the store.

``StoreError``
 └── ``StoreUnavailable`` — the database cannot be reached; retry later.
 └── ``SchemaOutdated`` — the database needs ``helpline db upgrade``.
"""


class StoreError(Exception):
    """Base class of every store error."""


class StoreUnavailable(StoreError):
    """The database cannot be reached right now."""


class SchemaOutdated(StoreError):
    """The database schema is older than this version of Helpline."""

"""A clock the tests move by hand, for services that take a ``clock`` callable."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass
class Clock:
    """A clock the test moves by hand.

    Attributes:
        now: What the clock says until the test moves it.

    """

    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        """Move the clock on (``advance(hours=1)``: the arguments of :class:`~datetime.timedelta`)."""
        self.now += timedelta(**delta)

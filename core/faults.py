"""Named crash points for fault-injection tests.

``HELPLINE_FAULTS__KILL_AT=pipeline.after_commit`` makes the process SIGKILL itself the
first time (or the ``kill_after``-th time) it reaches that point, exactly as a power cut
or an OOM kill would: no ``finally`` blocks, no flushing. Production never sets it.
"""

from __future__ import annotations

import os
import signal

from core.settings import FaultSettings

# Every point the code reaches; the crash tests pick from these.
POINTS = (
    "pipeline.before_commit",  # a turn is decided, nothing of it durable yet (its rows written, or about to be by one statement)
    "pipeline.after_commit",  # the turn is durable, the dispatcher not yet woken
    "dispatcher.after_claim",  # deliveries leased, nothing sent
    "dispatcher.after_send",  # the platform accepted a reply, the outcome not yet recorded
    "dispatcher.before_record",  # a round's sends are done, none of their outcomes recorded
)


class FaultPoints:
    """Kills the process at the configured point; a no-op otherwise."""

    def __init__(self, settings: FaultSettings | None = None) -> None:
        self._target = settings.kill_at if settings else None
        self._remaining = settings.kill_after if settings else 0

    def reach(self, name: str) -> None:
        """Mark that execution reached ``name``; kill the process if it is the target."""
        if self._target != name:
            return
        self._remaining -= 1
        if self._remaining <= 0:
            os.kill(os.getpid(), signal.SIGKILL)

"""Progress lines on a terminal (stderr) while a large knowledge base is indexed."""

from __future__ import annotations

import sys
import time
from typing import TextIO

# Redraw at most this often on a terminal; a log file gets a line every few seconds only.
_INTERVAL_S = 0.25
_LOG_INTERVAL_S = 5.0


class ProgressPrinter:
    """A ``progress(stage, done, total)`` callback that prints ``stage done/total`` to a stream."""

    def __init__(self, stream: TextIO | None = None, prefix: str = "") -> None:
        """Print to ``stream`` (default ``sys.stderr``), each line starting with ``prefix``."""
        self._stream = stream if stream is not None else sys.stderr
        self._prefix = prefix
        self._last = 0.0
        self._stage: str | None = None
        self._interactive = bool(getattr(self._stream, "isatty", lambda: False)())
        self._interval = _INTERVAL_S if self._interactive else _LOG_INTERVAL_S

    def __call__(self, stage: str, done: int, total: int) -> None:
        """Report that ``done`` of ``total`` units of ``stage`` are finished."""
        now = time.monotonic()
        finished = done >= total
        if stage == self._stage and not finished and now - self._last < self._interval:
            return
        if stage != self._stage and done == 0 and total > 0 and not self._interactive:
            self._stage = stage
            self._last = now
            return
        self._stage = stage
        self._last = now
        percent = 100.0 * done / total if total else 100.0
        line = f"{self._prefix}{stage}: {done}/{total} ({percent:.0f}%)"
        if self._interactive:
            self._stream.write("\r\x1b[2K" + line + ("\n" if finished else ""))
        else:
            self._stream.write(line + "\n")
        self._stream.flush()

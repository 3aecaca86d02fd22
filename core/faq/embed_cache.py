"""On-disk cache of a knowledge base's derived arrays, keyed by content hash and model name.

Embedding thousands of examples takes minutes on a small CPU; restarting the service with an
unchanged KB must not pay that again. Entries are written atomically (temporary file, then
rename) so a crash or a concurrent writer never leaves a half-written file that a later start
would trust.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import numpy.typing as npt

logger = logging.getLogger(__name__)

# Bumped whenever what is cached (features, training recipe) changes meaning.
CACHE_FORMAT = 6


class ArrayCache:
    """A directory of ``.npz`` entries named by a key."""

    def __init__(self, directory: Path) -> None:
        """Use ``directory`` (created on first write)."""
        self.directory = directory

    def path(self, key: str) -> Path:
        """File that holds ``key``."""
        return self.directory / f"{key}.v{CACHE_FORMAT}.npz"

    def load(self, key: str) -> dict[str, npt.NDArray[np.generic]] | None:
        """Return the arrays stored under ``key``, or ``None`` if absent or unreadable."""
        path = self.path(key)
        if not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as archive:
                return {name: archive[name] for name in archive.files}
        except (OSError, ValueError, EOFError) as exc:
            logger.warning("ignoring unreadable cache entry %s: %s", path, exc)
            return None

    def store(self, key: str, arrays: Mapping[str, npt.NDArray[np.generic]]) -> None:
        """Write ``arrays`` under ``key``; failures are logged, never raised (the cache is optional)."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".npz", dir=self.directory)
            try:
                with os.fdopen(fd, "wb") as handle:
                    np.savez(handle, **arrays)  # type: ignore[arg-type]
                os.replace(tmp, self.path(key))
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            logger.warning("could not write cache entry %s: %s", self.path(key), exc)

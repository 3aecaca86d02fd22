"""Word segmentation: jieba for Chinese runs, whitespace for everything else."""

from __future__ import annotations

import logging
import re
import threading
import warnings
from collections.abc import Callable
from functools import lru_cache

logger = logging.getLogger(__name__)

# Runs of Han characters (segmented by jieba) versus runs of anything else that is not a space.
_RUNS = re.compile(
    r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+|[^\s\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+"
)
_init_lock = threading.Lock()


def _is_han_run(run: str) -> bool:
    return "\u3400" <= run[0] <= "\u9fff" or "\uf900" <= run[0] <= "\ufaff"


@lru_cache(maxsize=1)
def _jieba_cut() -> Callable[[str], list[str]]:
    with _init_lock, warnings.catch_warnings():
        # jieba 0.42 predates Python 3.12's escape checks and may import pkg_resources.
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", SyntaxWarning)
        warnings.simplefilter("ignore", UserWarning)
        import jieba

        # jieba logs its dictionary loading at DEBUG on its own stderr handler.
        jieba.setLogLevel(logging.WARNING)
        tokenizer = jieba.Tokenizer()
        tokenizer.initialize()
    logger.debug("jieba dictionary loaded")

    def cut(text: str) -> list[str]:
        return [word for word in tokenizer.lcut(text, HMM=True) if word.strip()]

    return cut


def warm_up() -> None:
    """Load the Chinese dictionary now instead of on the first Chinese message."""
    _jieba_cut()


def segment(text: str) -> list[str]:
    """Split normalised text into words.

    Chinese runs are segmented with jieba; Latin words, numbers and anything else are split on
    whitespace. Call it on the output of :func:`core.text.normalize.normalize`.

    Args:
        text: Normalised text.

    Returns:
        The words in order of appearance.

    """
    words: list[str] = []
    for match in _RUNS.finditer(text):
        run = match.group()
        if _is_han_run(run):
            words.extend(_jieba_cut()(run))
        else:
            words.append(run)
    return words

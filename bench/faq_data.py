"""What the FAQ benchmarks share: where the intent data sets and caches are, and the embedding memo.

Imported by ``faq_accuracy.py`` and ``faq_speed.py`` (run as scripts, so this folder is on
``sys.path``); importing it puts the repository root there too, for ``core``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.faq.embeddings import Embedder, MemoEmbedder, max_tokens  # noqa: E402

# A labelled sentence: (text, intent).
Row = tuple[str, str]


def log(message: str) -> None:
    """Progress and notes go to stderr; only figures go to stdout."""
    print(message, file=sys.stderr, flush=True)


def add_data_options(parser: argparse.ArgumentParser) -> None:
    """Add ``--data`` (the folder holding ``intents/``) and ``--cache-dir`` (vectors, indexes)."""
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    default_cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "helpline" / "faq-bench"
    parser.add_argument("--cache-dir", type=Path, default=default_cache)


def banking77_file(data: Path) -> Path:
    """Banking77's ``train.csv`` under the ``--data`` folder."""
    return data / "intents" / "banking77" / "train.csv"


def clinc150_file(data: Path) -> Path:
    """CLINC150's ``data_full.json`` under the ``--data`` folder."""
    return data / "intents" / "clinc150" / "data_full.json"


def index_dir(cache_dir: Path) -> Path:
    """Where built matcher indexes are kept."""
    return cache_dir / "index"


def memo_embedder(inner: Embedder, model: str, cache_dir: Path) -> MemoEmbedder:
    """``inner`` (the model called ``model``) remembering its vectors in ``cache_dir``.

    One file per model and token cut, shared by both benchmarks.
    """
    return MemoEmbedder(inner, cache_dir / f"vectors-{inner.name}-{max_tokens(model)}.npz")

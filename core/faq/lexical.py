"""BM25 index over knowledge-base documents, scored with one vectorised pass per query.

bm25s computes the BM25 weight of every (feature, document) pair once, as a sparse column
matrix. A query then only gathers the columns of its own features and sums them per document
with ``numpy.bincount``: no Python loop over documents, so a 10,000-topic index answers in well
under a millisecond for typical questions.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]

# Queries longer than this many distinct features add cost without changing the ranking much.
MAX_QUERY_FEATURES = 256
# In a large index, features found in more documents than this (and than MAX_DF_SHARE of them)
# are ignored at query time, like stop words: their postings would be most of the work for
# almost no ranking information. Indexes of up to this many documents are never affected.
MIN_DF_LIMIT = 1000
MAX_DF_SHARE = 0.1


@dataclass(frozen=True, slots=True)
class LexicalScores:
    """BM25 scores of every document for one query."""

    scores: FloatArray
    """Score per document, in index order."""
    self_score: float
    """Sum of the query's feature IDF weights: an upper bound on a document's score, scale-free."""


class LexicalIndex:
    """BM25 index mapping documents (lists of features) to scores."""

    __slots__ = ("_data", "_df_limit", "_idf", "_indices", "_indptr", "_vocab", "num_docs")

    def __init__(
        self,
        data: FloatArray,
        indices: npt.NDArray[np.int32],
        indptr: npt.NDArray[np.int64],
        idf: FloatArray,
        vocab: dict[str, int],
        num_docs: int,
    ) -> None:
        """Wrap precomputed BM25 matrices; use :meth:`build` or :meth:`load` instead."""
        self._data = data
        self._indices = indices
        self._indptr = indptr
        self._idf = idf
        self._vocab = vocab
        self.num_docs = num_docs
        self._df_limit = max(MIN_DF_LIMIT, int(MAX_DF_SHARE * num_docs))

    @classmethod
    def build(cls, documents: Sequence[Sequence[str]], *, k1: float = 1.2, b: float = 0.75) -> LexicalIndex:
        """Index ``documents``, each a sequence of features (repeats count as term frequency).

        Args:
            documents: One feature list per document; an empty list makes a document no query hits.
            k1: BM25 term-frequency saturation.
            b: BM25 document-length normalisation.

        Returns:
            The index.

        """
        import bm25s

        logging.getLogger("bm25s").setLevel(logging.WARNING)
        # bm25s needs at least one feature overall: a KB whose texts yield none (or no document at
        # all) gets a placeholder feature that no query can contain.
        corpus = [list(doc) for doc in documents]
        if not any(corpus):
            corpus = [["\x00empty"], *corpus[1:]]
        retriever = bm25s.BM25(k1=k1, b=b, method="lucene")
        retriever.index(corpus, show_progress=False, create_empty_token=False)
        matrix = retriever.scores
        indptr = np.asarray(matrix["indptr"], dtype=np.int64)
        df = np.diff(indptr).astype(np.float64)
        n = float(matrix["num_docs"])
        idf = np.log1p((n - df + 0.5) / (df + 0.5)).astype(np.float32)
        return cls(
            data=np.asarray(matrix["data"], dtype=np.float32),
            indices=np.asarray(matrix["indices"], dtype=np.int32),
            indptr=indptr,
            idf=idf,
            vocab={str(token): int(i) for token, i in retriever.vocab_dict.items()},
            num_docs=len(documents),
        )

    def feature_ids(self, features: Sequence[str]) -> IntArray:
        """Distinct vocabulary ids of ``features``; unknown and stop-word-like features are dropped."""
        vocab = self._vocab
        ids = {vocab[f] for f in features if f in vocab}
        if self.num_docs > self._df_limit and ids:
            indptr = self._indptr
            ids = {i for i in ids if indptr[i + 1] - indptr[i] <= self._df_limit}
        if len(ids) > MAX_QUERY_FEATURES:
            # Keep the rarest (most informative) features of a very long query.
            ranked = sorted(ids, key=lambda i: -float(self._idf[i]))
            ids = set(ranked[:MAX_QUERY_FEATURES])
        return np.fromiter(ids, dtype=np.int64, count=len(ids))

    def score(self, features: Sequence[str]) -> LexicalScores:
        """Score every document against the query ``features``.

        Args:
            features: Query features, as produced by the same feature function as the documents.

        Returns:
            Scores per document and the query's self score.

        """
        ids = self.feature_ids(features)
        if ids.size == 0:
            return LexicalScores(np.zeros(self.num_docs, dtype=np.float32), 0.0)
        starts = self._indptr[ids]
        ends = self._indptr[ids + 1]
        spans = [np.arange(s, e) for s, e in zip(starts.tolist(), ends.tolist(), strict=True) if e > s]
        if not spans:
            return LexicalScores(np.zeros(self.num_docs, dtype=np.float32), float(self._idf[ids].sum()))
        positions = np.concatenate(spans)
        scores = np.bincount(
            self._indices[positions], weights=self._data[positions], minlength=self.num_docs
        ).astype(np.float32)
        return LexicalScores(scores, float(self._idf[ids].sum()))

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, npt.NDArray[np.generic]]) -> LexicalIndex:
        """Rebuild an index from the arrays of :meth:`export` (raises ``KeyError`` if one is missing)."""
        tokens = arrays["tokens"].tolist()
        return cls(
            data=arrays["data"].astype(np.float32),
            indices=arrays["indices"].astype(np.int32),
            indptr=arrays["indptr"].astype(np.int64),
            idf=arrays["idf"].astype(np.float32),
            vocab={str(token): i for i, token in enumerate(tokens)},
            num_docs=int(arrays["num_docs"]),
        )

    def export(self) -> dict[str, npt.NDArray[np.generic]]:
        """The index as named arrays (for the on-disk cache); :meth:`from_arrays` is the inverse."""
        tokens = np.array(sorted(self._vocab, key=self._vocab.__getitem__), dtype=np.str_)
        return {
            "data": self._data,
            "indices": self._indices,
            "indptr": self._indptr,
            "idf": self._idf,
            "tokens": tokens,
            "num_docs": np.array(self.num_docs),
        }

"""Everything a matcher derives from a knowledge base, built once and cached on disk.

Building means: lexical features and the BM25 index, embeddings of every example and title,
trained topic prototypes, and thresholds calibrated by cross-validation on the examples (each
fold's examples scored by a model built without them) plus optional out-of-scope questions.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from core.faq.calibration import Observations, Thresholds, choose_thresholds
from core.faq.classifier import Prototypes, train_prototypes
from core.faq.corpus import Corpus, build_corpus
from core.faq.embed_cache import ArrayCache
from core.faq.embeddings import Embedder
from core.faq.features import lexical_features
from core.faq.kb import KnowledgeBase
from core.faq.lexical import LexicalIndex
from core.faq.scoring import fused_probabilities, lexical_evidence, lexical_probabilities
from core.text.normalize import light_question, normalize_question

logger = logging.getLogger(__name__)

ProgressFn = Callable[[str, int, int], None]
Matrix = npt.NDArray[np.float32]

FOLDS = 5
MAX_CV_QUESTIONS = 3000
EMBED_CHUNK = 64
_SEED = 20240601


@dataclass(frozen=True, slots=True)
class Artifacts:
    """Lexical index, prototypes (``None`` without embeddings) and thresholds."""

    lexical: LexicalIndex
    prototypes: Prototypes | None
    thresholds: Thresholds


def _noop(_stage: str, _done: int, _total: int) -> None:
    return None


def embed_all(embedder: Embedder, texts: Sequence[str], progress: ProgressFn, stage: str) -> Matrix:
    """Embed ``texts`` in chunks, reporting progress after each."""
    parts: list[Matrix] = []
    progress(stage, 0, len(texts))
    for start in range(0, len(texts), EMBED_CHUNK):
        parts.append(embedder.embed(texts[start : start + EMBED_CHUNK]))
        progress(stage, min(start + EMBED_CHUNK, len(texts)), len(texts))
    if not parts:
        return np.zeros((0, embedder.dim), dtype=np.float32)
    return np.vstack(parts)


def observe(
    index: LexicalIndex,
    features: Sequence[Sequence[str]],
    gold: npt.NDArray[np.int64],
    prototypes: Prototypes | None,
    vectors: Matrix | None,
) -> Observations:
    """Score questions given as features (and vectors) against an index and prototypes.

    Args:
        index: Lexical index of the topics.
        features: Lexical features of each question.
        gold: Right topic index per question (-1: out of scope).
        prototypes: Topic prototypes, or ``None`` for lexical-only scoring.
        vectors: Question embeddings (with ``prototypes``).

    Returns:
        The observations.

    """
    n = len(features)
    probability = np.zeros(n, dtype=np.float32)
    correct = np.zeros(n, dtype=np.bool_)
    lex_best = np.zeros(n, dtype=np.float32)
    lex_margin = np.zeros(n, dtype=np.float32)
    lex_correct = np.zeros(n, dtype=np.bool_)
    logits = prototypes.logits(vectors) if prototypes is not None and vectors is not None else None
    for i, feats in enumerate(features):
        raw = index.score(feats)
        evidence = lexical_evidence(raw.scores, raw.self_score)
        probs = (
            lexical_probabilities(evidence) if logits is None else fused_probabilities(evidence, logits[i])
        )
        top = int(np.argmax(probs))
        probability[i] = probs[top]
        correct[i] = top == gold[i]
        lex_best[i] = evidence.best
        lex_margin[i] = evidence.margin
        lex_correct[i] = evidence.top == gold[i]
    return Observations(probability, correct, lex_best, lex_margin, lex_correct)


def _concat(parts: Sequence[Observations]) -> Observations:
    return Observations(
        probability=np.concatenate([p.probability for p in parts]),
        correct=np.concatenate([p.correct for p in parts]),
        lex_best=np.concatenate([p.lex_best for p in parts]),
        lex_margin=np.concatenate([p.lex_margin for p in parts]),
        lex_correct=np.concatenate([p.lex_correct for p in parts]),
    )


def _fold_ids(labels: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    folds = np.zeros(labels.size, dtype=np.int64)
    seen: dict[int, int] = {}
    for i, label in enumerate(labels.tolist()):
        folds[i] = seen.get(label, 0) % FOLDS
        seen[label] = seen.get(label, 0) + 1
    return folds


def cross_validate(
    corpus: Corpus,
    topics: int,
    example_vectors: Matrix | None,
    title_vectors: Matrix | None,
    progress: ProgressFn = _noop,
) -> Observations:
    """Score every fold's held-out examples with a model built from the other folds.

    Args:
        corpus: The knowledge base's texts, with features.
        topics: Number of topics.
        example_vectors: Embeddings of ``corpus.example_texts`` (``None``: lexical only).
        title_vectors: Embeddings of ``corpus.title_texts``.
        progress: Progress callback.

    Returns:
        Observations of at most :data:`MAX_CV_QUESTIONS` held-out examples.

    """
    labels = corpus.example_labels
    folds = _fold_ids(labels)
    asked = np.ones(labels.size, dtype=np.bool_)
    if labels.size > MAX_CV_QUESTIONS:
        asked[:] = False
        asked[np.random.default_rng(_SEED).choice(labels.size, MAX_CV_QUESTIONS, replace=False)] = True
    parts: list[Observations] = []
    for fold in range(FOLDS):
        progress("calibrating", fold, FOLDS)
        held = folds == fold
        queries = np.flatnonzero(held & asked)
        if queries.size == 0:
            continue
        train_x = query_x = None
        if example_vectors is not None and title_vectors is not None:
            train_x = np.vstack([example_vectors[~held], title_vectors])
            query_x = example_vectors[queries]
        parts.append(_score_held(corpus, topics, held, queries, train_x, query_x))
    progress("calibrating", FOLDS, FOLDS)
    return _concat(parts) if parts else observe(LexicalIndex.build([[]]), [], labels[:0], None, None)


def _score_held(
    corpus: Corpus,
    topics: int,
    held: npt.NDArray[np.bool_],
    queries: npt.NDArray[np.int64],
    train_vectors: Matrix | None,
    query_vectors: Matrix | None,
    prototype_steps: int | None = None,
) -> Observations:
    """Score the ``queries`` (held examples) with an index and prototypes built without ``held``.

    ``train_vectors`` embed the examples outside ``held`` followed by the titles; ``None`` scores
    lexically only.
    """
    labels = corpus.example_labels
    index = LexicalIndex.build(corpus.documents(~held))
    prototypes = None
    if train_vectors is not None:
        train_y = np.concatenate([labels[~held], corpus.title_labels])
        prototypes = train_prototypes(train_vectors, train_y, topics, steps=prototype_steps)
    features = [corpus.example_features[i] for i in queries]
    return observe(index, features, labels[queries], prototypes, query_vectors)


def calibration_fold(labels: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
    """The examples a tuned model is calibrated on: the first of the :data:`FOLDS` folds."""
    held: npt.NDArray[np.bool_] = _fold_ids(labels) == 0
    return held


def hold_out(
    corpus: Corpus,
    topics: int,
    held: npt.NDArray[np.bool_],
    embedder: Embedder,
    progress: ProgressFn = _noop,
    prototype_steps: int | None = None,
) -> Observations:
    """Score the ``held`` examples with a model that never saw them, not even while tuning.

    Cross-validation over one embedding model is no test of a model tuned on every example:
    the held-out examples would have shaped the vectors they are scored with. Here ``embedder``
    was tuned without the ``held`` examples, and the index and prototypes are built without them.

    Args:
        corpus: The knowledge base's texts, with features.
        topics: Number of topics.
        held: Examples to score (the rest, with the titles, trains the prototypes).
        embedder: An embedding model tuned without the ``held`` examples.
        progress: Progress callback.
        prototype_steps: Training steps of the prototypes (``0``: centroids), as in the model.

    Returns:
        Observations of at most :data:`MAX_CV_QUESTIONS` held-out examples.

    """
    queries = np.flatnonzero(held)
    if queries.size > MAX_CV_QUESTIONS:
        queries = np.sort(np.random.default_rng(_SEED).choice(queries, MAX_CV_QUESTIONS, replace=False))
    texts = [corpus.example_texts[i] for i in np.flatnonzero(~held)] + list(corpus.title_texts)
    vectors = embed_all(
        embedder, [*texts, *(corpus.example_texts[i] for i in queries)], progress, "calibrating"
    )
    n = len(texts)
    return _score_held(corpus, topics, held, queries, vectors[:n], vectors[n:], prototype_steps)


def _cache_key(
    kb: KnowledgeBase, model: str | None, negatives: Sequence[str], prototype_steps: int | None
) -> str:
    import hashlib

    extra = hashlib.sha256("\n".join(negatives).encode()).hexdigest()[:8]
    steps = "" if prototype_steps is None else f"-p{prototype_steps}"
    return f"{model or 'lexical'}-{kb.content_hash[:32]}-{extra}{steps}"


def _from_cache(arrays: dict[str, npt.NDArray[np.generic]], embeddings: bool) -> Artifacts | None:
    try:
        lexical = LexicalIndex.from_arrays(
            {name[4:]: value for name, value in arrays.items() if name.startswith("lex_")}
        )
        prototypes = None
        if embeddings:
            prototypes = Prototypes(arrays["weights"].astype(np.float32), arrays["bias"].astype(np.float32))
        thresholds = Thresholds.from_array(arrays["thresholds"].astype(np.float64))
    except KeyError as exc:
        logger.warning("cache entry lacks %s: rebuilding", exc)
        return None
    return Artifacts(lexical, prototypes, thresholds)


def build_artifacts(
    kb: KnowledgeBase,
    embedder: Embedder | None,
    *,
    cache_dir: Path | None = None,
    negatives: Sequence[str] = (),
    progress: ProgressFn | None = None,
    holdout: Callable[[Corpus], tuple[Embedder, npt.NDArray[np.bool_]]] | None = None,
    prototype_steps: int | None = None,
) -> Artifacts:
    """Build (or load from ``cache_dir``) the matcher's artifacts for ``kb``.

    Args:
        kb: The knowledge base.
        embedder: Embedding model, or ``None`` for a lexical-only matcher.
        cache_dir: Where to cache; ``None`` disables caching.
        negatives: Out-of-scope questions for calibration (never answers).
        progress: Called as ``progress(stage, done, total)`` while building.
        holdout: For an ``embedder`` tuned on the knowledge base: gives a model tuned without
            some examples and those examples' mask; thresholds are calibrated on them
            (:func:`hold_out`) instead of by cross-validation. Called only when building.
        prototype_steps: Training steps of the topic prototypes (``None``: the classifier's
            default; ``0``: plain centroids, for an encoder already tuned to separate topics).

    Returns:
        The artifacts.

    """
    report = progress or _noop
    model = embedder.name if embedder is not None else None
    cache = ArrayCache(cache_dir) if cache_dir is not None else None
    key = _cache_key(kb, model, negatives, prototype_steps)
    if cache is not None:
        arrays = cache.load(key)
        if arrays is not None:
            cached = _from_cache(arrays, embedder is not None)
            if cached is not None:
                logger.info("loaded FAQ index for %d topics from %s", len(kb.topics), cache.path(key))
                return cached
    topics = len(kb.topics)
    report("features", 0, topics)
    corpus = build_corpus(kb)
    report("features", topics, topics)
    lexical = LexicalIndex.build(corpus.documents())
    negative_features = [lexical_features(normalize_question(text)) for text in negatives]
    example_vectors = title_vectors = negative_vectors = None
    prototypes = None
    if embedder is not None:
        texts = [*corpus.example_texts, *corpus.title_texts, *(light_question(t) for t in negatives)]
        vectors = embed_all(embedder, texts, report, "embedding")
        n_ex, n_title = len(corpus.example_texts), len(corpus.title_texts)
        example_vectors = vectors[:n_ex]
        title_vectors = vectors[n_ex : n_ex + n_title]
        negative_vectors = vectors[n_ex + n_title :]
        report("training", 0, 1)
        prototypes = train_prototypes(
            np.vstack([example_vectors, title_vectors]),
            np.concatenate([corpus.example_labels, corpus.title_labels]),
            topics,
            steps=prototype_steps,
        )
        report("training", 1, 1)
    if holdout is not None and embedder is not None:
        calibration_embedder, held = holdout(corpus)
        in_scope = hold_out(corpus, topics, held, calibration_embedder, report, prototype_steps)
    else:
        in_scope = cross_validate(corpus, topics, example_vectors, title_vectors, report)
    negative_obs = None
    if negatives:
        no_topic = np.full(len(negatives), -1, dtype=np.int64)
        negative_obs = observe(lexical, negative_features, no_topic, prototypes, negative_vectors)
    thresholds = choose_thresholds(in_scope, negative_obs, use_gate=embedder is not None)
    artifacts = Artifacts(lexical, prototypes, thresholds)
    if cache is not None:
        cache.store(key, _to_arrays(artifacts))
    return artifacts


def _to_arrays(artifacts: Artifacts) -> dict[str, npt.NDArray[np.generic]]:
    lexical = artifacts.lexical.export()
    arrays: dict[str, npt.NDArray[np.generic]] = {f"lex_{name}": value for name, value in lexical.items()}
    arrays["thresholds"] = artifacts.thresholds.as_array()
    if artifacts.prototypes is not None:
        arrays["weights"] = artifacts.prototypes.weights
        arrays["bias"] = artifacts.prototypes.bias
    return arrays

"""Hybrid FAQ matcher: exact match, then BM25, then sentence embeddings only when BM25 is unsure.

Every question gets one of three outcomes: a confident answer, "did you mean" with up to three
suggestions, or a fallback (offer a human). The thresholds between them are calibrated when the
matcher is built (see :mod:`core.faq.calibration`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt

from core.faq.artifacts import Artifacts, build_artifacts, calibration_fold, embed_all, observe
from core.faq.calibration import Observations, Thresholds
from core.faq.corpus import Corpus, build_corpus
from core.faq.embeddings import DEFAULT_MODEL, Embedder, create_embedder
from core.faq.features import lexical_features
from core.faq.kb import KnowledgeBase, Topic
from core.faq.out_of_scope import OUT_OF_SCOPE
from core.faq.scoring import (
    LexicalEvidence,
    Vector,
    fused_probabilities,
    lexical_evidence,
    lexical_probabilities,
    ranked,
)
from core.faq.tuning import TuningPlan
from core.text.language import reply_language
from core.text.normalize import light_question, normalize_question
from core.text.segment import warm_up

logger = logging.getLogger(__name__)

# Longer input is cut before any processing: a question is at its start, and a 10,000-character
# paste must not cost more than a normal question.
MAX_INPUT_CHARS = 1000
MAX_SUGGESTIONS = 3
# A topic is offered as "did you mean" only with at least this probability.
SUGGESTION_FLOOR = 0.05


class Outcome(StrEnum):
    """What the matcher recommends doing with a question."""

    ANSWER = "answer"
    SUGGEST = "suggest"
    FALLBACK = "fallback"


@dataclass(frozen=True, slots=True)
class MatchResult:
    """The matcher's verdict on one question."""

    question: str
    lang: Literal["zh", "en"]
    """Language to reply in."""
    outcome: Outcome
    topic: Topic | None
    """The answer (``ANSWER``), the best guess (``SUGGEST``) or ``None`` (``FALLBACK``)."""
    score: float
    """Estimated probability that ``topic`` is right (0 when nothing matched)."""
    suggestions: tuple[Topic, ...]
    """Up to three topics for "did you mean" buttons, best first (only with ``SUGGEST``)."""


@dataclass(frozen=True, slots=True)
class _Pending:
    """A question after the cheap stages, waiting for its embedding."""

    question: str
    lang: Literal["zh", "en"]
    embed_text: str
    evidence: LexicalEvidence


class FaqMatcher:
    """Matches customer questions to knowledge-base topics; safe to share between threads."""

    def __init__(
        self,
        kb: KnowledgeBase,
        artifacts: Artifacts,
        embedder: Embedder | None,
        exact: dict[str, int],
    ) -> None:
        """Assemble a matcher from built parts; use :meth:`build` instead."""
        self.kb = kb
        self._artifacts = artifacts
        self._embedder = embedder
        self._exact = exact
        # Its one thread starts with the first question that needs the model.
        self._embedding_thread = ThreadPoolExecutor(1, thread_name_prefix="faq-embedding")
        self.embedded_questions = 0
        """How many questions needed the embedding model (for statistics and benchmarks)."""

    @classmethod
    def build(
        cls,
        kb: KnowledgeBase,
        *,
        cache_dir: Path | None = None,
        embeddings: bool = True,
        progress: Callable[[str, int, int], None] | None = None,
        model: str = DEFAULT_MODEL,
        embedder: Embedder | None = None,
        negatives: Sequence[str] = OUT_OF_SCOPE,
        tune: bool = False,
        tuning: TuningPlan | None = None,
    ) -> FaqMatcher:
        """Build a matcher for ``kb``, reusing cached artifacts from ``cache_dir`` when valid.

        Args:
            kb: The knowledge base.
            cache_dir: Directory for the embedding/index cache (keyed by KB content hash and model).
            embeddings: ``False`` builds a lexical-only matcher (no model is loaded).
            progress: Called as ``progress(stage, done, total)`` during a build.
            model: Embedding model name (see :data:`core.faq.embeddings.MODELS`).
            embedder: An already loaded embedder (overrides ``model``).
            negatives: Out-of-scope questions used to calibrate thresholds.
            tune: Tune the encoder on the knowledge base's examples (``e5int8`` only; needs
                PyTorch when the tuned model is not cached; see :mod:`core.faq.tuning`).
            tuning: How to tune (default :class:`~core.faq.tuning.TuningPlan`).

        Returns:
            The matcher.

        Raises:
            ValueError: ``tune`` with a model that cannot be tuned.
            core.faq.tuning.TuningUnavailable: Tuning is needed and PyTorch is missing.

        """
        if embeddings and embedder is None:
            embedder = create_embedder(model, cache_dir=cache_dir)
        if not embeddings:
            embedder = None
        plain = build_corpus(kb, with_features=False)
        holdout = None
        prototype_steps = None
        if embedder is not None and tune:
            embedder, holdout = _tuned(plain, len(kb.topics), embedder, tuning, progress)
            # The tuned encoder already separates the examples; prototypes trained further on
            # its vectors of those same examples overfit them (Banking77 10-shot: centroids
            # 82.5 %, trained prototypes 81.8 %, before lexical fusion).
            prototype_steps = 0
        artifacts = build_artifacts(
            kb,
            embedder,
            cache_dir=cache_dir,
            negatives=negatives,
            progress=progress,
            holdout=holdout,
            prototype_steps=prototype_steps,
        )
        exact = plain.exact
        # Load the Chinese dictionary now rather than during the first Chinese question.
        warm_up()
        return cls(kb, artifacts, embedder, exact)

    @property
    def thresholds(self) -> Thresholds:
        """The decision thresholds in use."""
        return self._artifacts.thresholds

    @property
    def model_name(self) -> str | None:
        """The embedding model's name (a tuned model's includes its variant); ``None``: lexical."""
        return self._embedder.name if self.uses_embeddings and self._embedder is not None else None

    @property
    def uses_embeddings(self) -> bool:
        """Whether an embedding model backs the lexical stage."""
        return self._embedder is not None and self._artifacts.prototypes is not None

    def with_thresholds(self, thresholds: Thresholds) -> FaqMatcher:
        """A matcher sharing this one's index and model, with other thresholds."""
        artifacts = Artifacts(self._artifacts.lexical, self._artifacts.prototypes, thresholds)
        return FaqMatcher(self.kb, artifacts, self._embedder, self._exact)

    def match(self, text: str) -> MatchResult:
        """Match one question (blocking; embeds it when the lexical stage is unsure)."""
        return self.match_many([text])[0]

    async def match_async(self, text: str) -> MatchResult:
        """Match one question; the embedding model runs off the event loop.

        The cheap stages (exact match, the lexical index) run right here: they take a fraction
        of a millisecond at a support KB's size (p99 0.7 ms at 1,000 topics), and a question
        they settle must not wait behind other questions' embeddings. A question that needs
        the model queues for the matcher's one embedding thread, which takes the questions in
        turn and hands each back as soon as its own pass is done: on one thread a batch saves
        nothing (see :mod:`core.faq.e5_onnx`) and would hold every question of it until the
        last one is done.
        """
        outcome = self._cheap_stages(text)
        if not isinstance(outcome, _Pending):
            return outcome
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._embedding_thread, self._embedded, outcome)

    def _embedded(self, item: _Pending) -> MatchResult:
        return self._finish([item])[0]

    def match_many(self, texts: Sequence[str]) -> list[MatchResult]:
        """Match several questions, embedding those that need it in one call."""
        results: list[MatchResult | None] = []
        pending: list[tuple[int, _Pending]] = []
        for i, text in enumerate(texts):
            outcome = self._cheap_stages(text)
            if isinstance(outcome, _Pending):
                pending.append((i, outcome))
                results.append(None)
            else:
                results.append(outcome)
        for (i, _), result in zip(pending, self._finish([p for _, p in pending]), strict=True):
            results[i] = result
        return [r for r in results if r is not None]

    def _finish(self, pending: Sequence[_Pending]) -> list[MatchResult]:
        """Decide the questions the cheap stages left open, with the embedding model."""
        if not pending:
            return []
        assert self._embedder is not None and self._artifacts.prototypes is not None
        vectors = self._embedder.embed([p.embed_text for p in pending])
        logits = self._artifacts.prototypes.logits(vectors)
        self.embedded_questions += len(pending)
        return [
            self._decide(item.question, item.lang, fused_probabilities(item.evidence, logits[row]))
            for row, item in enumerate(pending)
        ]

    def _cheap_stages(self, text: str) -> MatchResult | _Pending:
        cut = text[:MAX_INPUT_CHARS]
        lang = reply_language(cut)
        normalized = normalize_question(cut)
        if not normalized:
            return MatchResult(text, lang, Outcome.FALLBACK, None, 0.0, ())
        exact = self._exact.get(normalized)
        if exact is not None:
            return MatchResult(text, lang, Outcome.ANSWER, self.kb.topics[exact], 1.0, ())
        raw = self._artifacts.lexical.score(lexical_features(normalized))
        evidence = lexical_evidence(raw.scores, raw.self_score)
        thresholds = self._artifacts.thresholds
        if not self.uses_embeddings:
            return self._decide(text, lang, lexical_probabilities(evidence))
        if (
            evidence.top >= 0
            and evidence.best >= thresholds.gate_best
            and evidence.margin >= thresholds.gate_margin
        ):
            # Shortcut answers passed a gate calibrated to be at least as precise as the answer
            # threshold: report no less than it, so that score and outcome never disagree.
            score = max(float(lexical_probabilities(evidence)[evidence.top]), thresholds.answer)
            return MatchResult(text, lang, Outcome.ANSWER, self.kb.topics[evidence.top], score, ())
        return _Pending(text, lang, light_question(cut), evidence)

    def _decide(self, question: str, lang: Literal["zh", "en"], probs: Vector) -> MatchResult:
        order = ranked(probs, MAX_SUGGESTIONS)
        if not order:
            return MatchResult(question, lang, Outcome.FALLBACK, None, 0.0, ())
        best = order[0]
        score = float(probs[best])
        thresholds = self._artifacts.thresholds
        topics = self.kb.topics
        if score >= thresholds.answer:
            return MatchResult(question, lang, Outcome.ANSWER, topics[best], score, ())
        if score >= thresholds.suggest:
            suggestions = tuple(topics[i] for i in order if probs[i] >= SUGGESTION_FLOOR)
            return MatchResult(question, lang, Outcome.SUGGEST, topics[best], score, suggestions)
        return MatchResult(question, lang, Outcome.FALLBACK, None, score, ())

    def observe(self, texts: Sequence[str], gold: Sequence[str | None]) -> Observations:
        """Score labelled questions for calibration (``gold`` topic ids; ``None`` = out of scope).

        Probabilities are the full model's, as if the lexical shortcut did not exist, so that the
        thresholds apply to every question that reaches the embedding stage.
        """
        index = {topic.id: i for i, topic in enumerate(self.kb.topics)}
        features = [lexical_features(normalize_question(t[:MAX_INPUT_CHARS])) for t in texts]
        labels = np.array([index[g] if g is not None else -1 for g in gold], dtype=np.int64)
        vectors = None
        if self.uses_embeddings:
            assert self._embedder is not None
            vectors = embed_all(
                self._embedder, [light_question(t[:MAX_INPUT_CHARS]) for t in texts], _ignore, "observing"
            )
        return observe(self._artifacts.lexical, features, labels, self._artifacts.prototypes, vectors)


def _ignore(_stage: str, _done: int, _total: int) -> None:
    return None


def _tuned(
    corpus: Corpus,
    topics: int,
    base: Embedder,
    plan: TuningPlan | None,
    progress: Callable[[str, int, int], None] | None,
) -> tuple[Embedder, Callable[[Corpus], tuple[Embedder, npt.NDArray[np.bool_]]]]:
    """The encoder tuned on all of ``corpus``, and how to get one tuned without its calibration fold."""
    from core.faq.e5_onnx import E5OnnxEmbedder
    from core.faq.tuning import tuned_embedder

    if not isinstance(base, E5OnnxEmbedder):
        raise ValueError(f"only the e5int8 model can be tuned, not {base.name!r}")
    texts = [*corpus.example_texts, *corpus.title_texts]
    labels = [*corpus.example_labels.tolist(), *corpus.title_labels.tolist()]
    tuned = tuned_embedder(base, texts, labels, topics, plan, progress)

    def holdout(built: Corpus) -> tuple[Embedder, npt.NDArray[np.bool_]]:
        held = calibration_fold(built.example_labels)
        keep = np.flatnonzero(~held)
        texts = [*(built.example_texts[i] for i in keep), *built.title_texts]
        labels = [*built.example_labels[keep].tolist(), *built.title_labels.tolist()]
        return tuned_embedder(base, texts, labels, topics, plan, progress), held

    return tuned, holdout

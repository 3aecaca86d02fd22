"""Thresholds that turn a topic probability into answer / did-you-mean / fallback.

They are chosen from scored questions whose topic is known — held-out folds of the knowledge
base's own examples, or a validation set — plus optional out-of-scope questions. Never from a
test set.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

logger = logging.getLogger(__name__)

Vector = npt.NDArray[np.float32]
Mask = npt.NDArray[np.bool_]

# Share of correctly matched questions that must stay above the fallback threshold.
RETAIN = 0.97
# Precision required of confident answers (in-scope questions, held-out).
ANSWER_PRECISION = 0.95
# Largest share of out-of-scope questions allowed a confident answer / a lexical shortcut.
NEGATIVE_ANSWER_RATE = 0.02
GATE_PRECISION = 0.99
NEGATIVE_GATE_RATE = 0.01
_GATE_BEST = (0.3, 0.4, 0.5, 0.6, 0.7)
_GATE_MARGIN = (0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5)
# Fewer scored questions than this cannot support the quantiles above.
MIN_OBSERVATIONS = 20


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Decision thresholds of a matcher."""

    answer: float
    """Topic probability at or above which the matcher answers."""
    suggest: float
    """Topic probability at or above which it offers "did you mean"; below it falls back."""
    gate_best: float = math.inf
    """Self-normalised BM25 score the best topic needs to be answered without embeddings."""
    gate_margin: float = math.inf
    """Lead over the runner-up the best topic needs to be answered without embeddings."""

    def as_array(self) -> Vector:
        """Serialise for the cache."""
        return np.array([self.answer, self.suggest, self.gate_best, self.gate_margin], dtype=np.float64)

    @classmethod
    def from_array(cls, values: npt.NDArray[np.floating]) -> Thresholds:
        """Inverse of :meth:`as_array`."""
        answer, suggest, gate_best, gate_margin = (float(v) for v in values)
        return cls(answer, suggest, gate_best, gate_margin)


DEFAULT_THRESHOLDS = Thresholds(answer=0.8, suggest=0.35)


@dataclass(frozen=True, slots=True)
class Observations:
    """Measurements of scored questions, one entry per question."""

    probability: Vector
    """Probability of the best topic (fused, or lexical when there are no embeddings)."""
    correct: Mask
    """Whether that best topic is the right one (always false for out-of-scope questions)."""
    lex_best: Vector
    lex_margin: Vector
    lex_correct: Mask

    def __len__(self) -> int:
        return int(self.probability.size)


def _answer_threshold(
    in_scope: Observations, negatives: Observations | None, floor: float, precision: float
) -> float:
    candidates = np.unique(np.concatenate([in_scope.probability[in_scope.probability >= floor], [floor]]))
    for threshold in candidates:
        above = in_scope.probability >= threshold
        if not above.any():
            break
        ok = in_scope.correct[above].mean() >= precision
        if negatives is not None and len(negatives):
            ok = ok and float((negatives.probability >= threshold).mean()) <= NEGATIVE_ANSWER_RATE
        if ok:
            return float(threshold)
    return float(max(floor, 0.99))


def _gate(in_scope: Observations, negatives: Observations | None) -> tuple[float, float]:
    best: tuple[float, float, float] | None = None
    for gate_best in _GATE_BEST:
        for gate_margin in _GATE_MARGIN:
            passed = (in_scope.lex_best >= gate_best) & (in_scope.lex_margin >= gate_margin)
            if passed.sum() < MIN_OBSERVATIONS // 2:
                continue
            if in_scope.lex_correct[passed].mean() < GATE_PRECISION:
                continue
            if negatives is not None and len(negatives):
                leaked = (negatives.lex_best >= gate_best) & (negatives.lex_margin >= gate_margin)
                if leaked.mean() > NEGATIVE_GATE_RATE:
                    continue
            coverage = float(passed.mean())
            if best is None or coverage > best[0]:
                best = (coverage, gate_best, gate_margin)
    if best is None:
        return math.inf, math.inf
    return best[1], best[2]


def choose_thresholds(
    in_scope: Observations,
    negatives: Observations | None = None,
    *,
    retain: float = RETAIN,
    answer_precision: float = ANSWER_PRECISION,
    use_gate: bool = True,
) -> Thresholds:
    """Pick thresholds from scored in-scope questions and optional out-of-scope ones.

    The fallback threshold keeps ``retain`` of the correctly matched questions out of the
    fallback; the answer threshold is the lowest whose answers reach ``answer_precision`` and
    let at most :data:`NEGATIVE_ANSWER_RATE` of out-of-scope questions through; the lexical gate
    is the widest whose shortcut answers are :data:`GATE_PRECISION` precise.

    Args:
        in_scope: Held-out questions with known topics.
        negatives: Out-of-scope questions, if any.
        retain: Share of correct matches to keep above the fallback threshold.
        answer_precision: Precision required of confident answers.
        use_gate: Whether a lexical shortcut may skip the embedding stage.

    Returns:
        The thresholds (defaults when there are too few observations).

    """
    if len(in_scope) < MIN_OBSERVATIONS or not in_scope.correct.any():
        logger.info("only %d calibration questions: using default thresholds", len(in_scope))
        return DEFAULT_THRESHOLDS
    suggest = float(np.quantile(in_scope.probability[in_scope.correct], 1.0 - retain))
    answer = _answer_threshold(in_scope, negatives, suggest, answer_precision)
    gate_best, gate_margin = _gate(in_scope, negatives) if use_gate else (math.inf, math.inf)
    thresholds = Thresholds(answer, suggest, gate_best, gate_margin)
    logger.info("calibrated thresholds on %d questions: %s", len(in_scope), thresholds)
    return thresholds


def fallback_threshold_for_accuracy(in_scope: Observations, target_accuracy: float) -> float:
    """Highest fallback threshold that keeps held-out in-scope accuracy at ``target_accuracy``.

    In-scope accuracy counts a question as right when its best topic is correct and it does not
    fall back. Used when a validation set with out-of-scope questions exists (e.g. CLINC150's
    ``val``): the higher the threshold, the more out-of-scope questions fall back.

    Args:
        in_scope: Validation questions with known topics.
        target_accuracy: Accuracy to preserve, e.g. 0.95.

    Returns:
        The threshold (0 if even no threshold reaches the target).

    """
    order = np.sort(in_scope.probability[in_scope.correct])
    allowed_losses = math.floor(float(in_scope.correct.sum()) - target_accuracy * len(in_scope))
    if allowed_losses < 0 or order.size == 0:
        return 0.0
    return float(order[min(allowed_losses, order.size - 1)])

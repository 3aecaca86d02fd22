"""Threshold calibration from scored questions."""

from __future__ import annotations

import math

import numpy as np
import pytest

from core.faq.calibration import (
    DEFAULT_THRESHOLDS,
    Observations,
    Thresholds,
    choose_thresholds,
    fallback_threshold_for_accuracy,
)


def observations(
    probability: list[float],
    correct: list[bool],
    lex_best: list[float] | None = None,
    lex_margin: list[float] | None = None,
    lex_correct: list[bool] | None = None,
) -> Observations:
    n = len(probability)
    return Observations(
        probability=np.array(probability, dtype=np.float32),
        correct=np.array(correct, dtype=np.bool_),
        lex_best=np.array(lex_best or [0.0] * n, dtype=np.float32),
        lex_margin=np.array(lex_margin or [0.0] * n, dtype=np.float32),
        lex_correct=np.array(lex_correct or [False] * n, dtype=np.bool_),
    )


def test_thresholds_order_and_precision() -> None:
    rng = np.random.default_rng(0)
    right = rng.uniform(0.5, 1.0, 400).tolist()
    wrong = rng.uniform(0.1, 0.7, 100).tolist()
    in_scope = observations(right + wrong, [True] * 400 + [False] * 100)
    thresholds = choose_thresholds(in_scope, use_gate=False)
    assert thresholds.suggest <= thresholds.answer
    kept = sum(p >= thresholds.suggest for p in right) / len(right)
    assert 0.96 <= kept <= 0.98
    answered = [
        (p, c)
        for p, c in zip(right + wrong, [True] * 400 + [False] * 100, strict=True)
        if p >= thresholds.answer
    ]
    assert sum(c for _, c in answered) / len(answered) >= 0.95
    assert math.isinf(thresholds.gate_best)


def test_negatives_push_the_answer_threshold_up() -> None:
    in_scope = observations([0.6] * 50 + [0.9] * 50, [True] * 100)
    without = choose_thresholds(in_scope, use_gate=False)
    negatives = observations([0.85] * 10, [False] * 10)
    with_negatives = choose_thresholds(in_scope, negatives, use_gate=False)
    assert without.answer == pytest.approx(0.6)
    assert with_negatives.answer == pytest.approx(0.9)


def test_gate_needs_precise_lexical_shortcuts() -> None:
    n = 200
    lex_best = [0.8] * 100 + [0.2] * 100
    lex_margin = [0.5] * 100 + [0.05] * 100
    in_scope = observations([0.9] * n, [True] * n, lex_best, lex_margin, [True] * 100 + [False] * 100)
    gated = choose_thresholds(in_scope)
    assert gated.gate_best <= 0.8 and gated.gate_margin <= 0.5
    sloppy = observations([0.9] * n, [True] * n, [0.8] * n, [0.5] * n, [True] * 150 + [False] * 50)
    assert math.isinf(choose_thresholds(sloppy).gate_margin)


def test_too_few_questions_give_defaults() -> None:
    assert choose_thresholds(observations([0.9] * 5, [True] * 5)) == DEFAULT_THRESHOLDS


def test_fallback_threshold_for_accuracy() -> None:
    probability = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95]
    correct = [True] * 9 + [False]
    in_scope = observations(probability, correct)
    # 90 % right without fallback; keeping 80 % allows losing one right answer: the lowest.
    assert fallback_threshold_for_accuracy(in_scope, 0.8) == np.float32(0.2)
    assert fallback_threshold_for_accuracy(in_scope, 0.95) == 0.0


def test_thresholds_round_trip() -> None:
    thresholds = Thresholds(0.9, 0.4, 0.5, math.inf)
    assert Thresholds.from_array(thresholds.as_array()) == thresholds

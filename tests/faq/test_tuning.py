"""Tuning the encoder on a knowledge base: the PyTorch port, the tuned int8 graph, the matcher."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
import torch

from core.faq.corpus import build_corpus
from core.faq.e5_onnx import E5OnnxEmbedder, OverriddenWeights
from core.faq.e5_torch import E5Encoder
from core.faq.embeddings import Embedder, Matrix
from core.faq.kb import load_knowledge_base
from core.faq.matcher import FaqMatcher, Outcome
from core.faq.tuning import TuningPlan, TuningUnavailable, tune_weights
from tests.faq.conftest import FIXTURE_KB, SAMPLE_QUESTIONS

# Enough steps to move the encoder, few enough for a test (about a second each on two cores).
PLAN = TuningPlan(steps=12)

TEXTS = SAMPLE_QUESTIONS[:5]


@pytest.fixture(scope="module")
def base(faq_cache_dir: Path) -> E5OnnxEmbedder:
    return E5OnnxEmbedder(cache_dir=faq_cache_dir / "models", max_tokens=64)


def torch_vectors(encoder: E5Encoder, embedder: E5OnnxEmbedder, texts: Sequence[str]) -> Matrix:
    hidden, mask = embedder.inputs([embedder.token_ids(t) for t in texts])
    with torch.no_grad():
        out: Matrix = encoder(torch.from_numpy(hidden), torch.from_numpy(mask)).numpy()
    return out


def separation(embedder: Embedder, texts: Sequence[str], labels: Sequence[int]) -> float:
    """Mean over texts of (cosine to the own topic's centroid − best cosine to another centroid)."""
    vectors = embedder.embed(texts)
    y = np.asarray(labels)
    centroids = np.vstack([vectors[y == k].mean(axis=0) for k in range(y.max() + 1)])
    centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
    cosines = vectors @ centroids.T
    own = cosines[np.arange(len(y)), y]
    cosines[np.arange(len(y)), y] = -np.inf
    return float((own - cosines.max(axis=1)).mean())


def test_the_pytorch_encoder_is_the_network_of_the_int8_graph(base: E5OnnxEmbedder) -> None:
    ours = torch_vectors(E5Encoder(base.weights_file), base, TEXTS)
    graph = base.embed(TEXTS)
    cosine = (ours * graph).sum(axis=1)
    # float32 against int8 activations and weights: the same network within quantisation noise.
    assert cosine.min() > 0.97
    assert cosine.mean() > 0.985


def test_tuning_pulls_topics_apart_and_the_tuned_graph_carries_it(base: E5OnnxEmbedder) -> None:
    kb = load_knowledge_base(FIXTURE_KB)
    corpus = build_corpus(kb, with_features=False)
    texts = list(corpus.example_texts)
    labels = corpus.example_labels.tolist()
    steps: list[tuple[str, int, int]] = []

    weights = tune_weights(base, texts, labels, len(kb.topics), PLAN, lambda *event: steps.append(event))

    assert steps[0] == ("tuning", 0, PLAN.steps)
    assert steps[-1] == ("tuning", PLAN.steps, PLAN.steps)
    assert len(steps) == PLAN.steps + 1
    stock_ln = base.weights_file.floats("l11.oln.w", (base.dim,))
    assert not np.allclose(weights["l11.oln.w"], stock_ln)
    tuned = base.variant(f"test-{uuid.uuid4().hex[:8]}", lambda: weights)
    assert tuned.name != base.name
    before = separation(base, texts, labels)
    after = separation(tuned, texts, labels)
    assert after > before + 0.02, (before, after)
    # The int8 graph runs the tuned weights, not the stock ones.
    reference = torch_vectors(E5Encoder(OverriddenWeights(base.weights_file, weights)), base, TEXTS)
    agreement = (tuned.embed(TEXTS) * reference).sum(axis=1)
    stock = (base.embed(TEXTS) * reference).sum(axis=1)
    # Tuned weights lose a little more to int8 than the stock ones (0.95-0.97 here, not > 0.97).
    assert agreement.min() > 0.93
    assert agreement.mean() > stock.mean() + 0.01


def build_tuned(cache: Path, base: E5OnnxEmbedder, events: list[tuple[str, int, int]]) -> FaqMatcher:
    return FaqMatcher.build(
        load_knowledge_base(FIXTURE_KB),
        cache_dir=cache,
        embedder=base,
        tune=True,
        tuning=PLAN,
        progress=lambda *event: events.append(event),
    )


def test_a_tuned_matcher_is_tuned_once_and_answers(tmp_path: Path, base: E5OnnxEmbedder) -> None:
    events: list[tuple[str, int, int]] = []

    matcher = build_tuned(tmp_path, base, events)

    # One model tuned on every example, one without the calibration fold.
    assert events.count(("tuning", 0, PLAN.steps)) == 2
    assert "calibrating" in {stage for stage, _, _ in events}
    assert matcher.uses_embeddings
    english = matcher.match("I forgot my password, how do I reset it")
    chinese = matcher.match("忘了密码怎么找回")
    assert english.topic is not None and english.topic.id == "account.password_reset"
    assert chinese.topic is not None and chinese.topic.id == "account.password_reset"
    assert chinese.lang == "zh"
    assert matcher.match("what will the weather be in Paris tomorrow").outcome is not Outcome.ANSWER
    thresholds = matcher.thresholds
    assert 0.0 < thresholds.suggest <= thresholds.answer <= 1.0

    again: list[tuple[str, int, int]] = []
    rebuilt = build_tuned(tmp_path, base, again)

    assert not {stage for stage, _, _ in again} & {"tuning", "embedding", "calibrating"}
    assert rebuilt.match("忘了密码怎么找回").topic == chinese.topic
    assert rebuilt.thresholds == thresholds


def test_a_changed_plan_or_knowledge_base_is_tuned_anew(base: E5OnnxEmbedder) -> None:
    kb = load_knowledge_base(FIXTURE_KB)
    corpus = build_corpus(kb, with_features=False)
    texts = list(corpus.example_texts)
    labels = corpus.example_labels.tolist()

    from core.faq.tuning import tuned_embedder

    first = tuned_embedder(base, texts, labels, len(kb.topics), TuningPlan(steps=1))
    same = tuned_embedder(base, texts, labels, len(kb.topics), TuningPlan(steps=1))
    other_plan = tuned_embedder(base, texts, labels, len(kb.topics), TuningPlan(steps=2))
    other_kb = tuned_embedder(
        base, [*texts[:-1], "a new example"], labels, len(kb.topics), TuningPlan(steps=1)
    )

    assert first.name == same.name
    assert len({first.name, other_plan.name, other_kb.name}) == 3


def test_only_the_int8_model_can_be_tuned() -> None:
    class Constant:
        name = "constant"
        dim = 4

        def embed(self, texts: Sequence[str]) -> Matrix:
            return np.full((len(texts), 4), 0.5, dtype=np.float32)

    with pytest.raises(ValueError, match="only the e5int8 model can be tuned"):
        FaqMatcher.build(load_knowledge_base(FIXTURE_KB), embedder=Constant(), tune=True)


def test_without_pytorch_tuning_says_what_to_install(
    base: E5OnnxEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)

    with pytest.raises(TuningUnavailable, match="pip install torch"):
        tune_weights(base, ["deposit missing", "reset password"], [0, 1], 2, PLAN)


def test_one_topic_is_nothing_to_tune(base: E5OnnxEmbedder) -> None:
    with pytest.raises(ValueError, match="at least two topics"):
        tune_weights(base, ["deposit missing", "deposit not credited"], [0, 0], 1, PLAN)

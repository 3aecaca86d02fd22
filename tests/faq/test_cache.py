"""The on-disk cache: reused when the KB is unchanged, rebuilt when it changes."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from core.faq.embeddings import MemoEmbedder
from core.faq.kb import load_knowledge_base
from core.faq.matcher import FaqMatcher
from tests.faq.conftest import FIXTURE_KB


class CountingEmbedder:
    """Deterministic pseudo-embeddings (from a text hash) that count what they embed."""

    name = "counting-test"
    dim = 16

    def __init__(self) -> None:
        self.texts = 0

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.texts += len(texts)
        rows = []
        for text in texts:
            seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
            row = np.random.default_rng(seed).standard_normal(self.dim).astype(np.float32)
            rows.append(row / np.linalg.norm(row))
        return np.vstack(rows) if rows else np.zeros((0, self.dim), dtype=np.float32)


def copy_kb(tmp_path: Path) -> Path:
    target = tmp_path / "kb"
    shutil.copytree(FIXTURE_KB, target)
    return target


def test_second_build_reuses_the_cache(tmp_path: Path) -> None:
    kb = load_knowledge_base(FIXTURE_KB)
    cache = tmp_path / "cache"
    first = CountingEmbedder()
    built = FaqMatcher.build(kb, cache_dir=cache, embedder=first, negatives=("what's the weather",))
    assert first.texts > 0
    assert list(cache.glob("counting-test-*.npz"))
    second = CountingEmbedder()
    reused = FaqMatcher.build(kb, cache_dir=cache, embedder=second, negatives=("what's the weather",))
    assert second.texts == 0
    assert reused.thresholds == built.thresholds
    question = "withdrawal still pending"
    assert reused.match(question).score == built.match(question).score


def test_changed_kb_or_model_is_rebuilt(tmp_path: Path) -> None:
    kb_dir = copy_kb(tmp_path)
    cache = tmp_path / "cache"
    FaqMatcher.build(load_knowledge_base(kb_dir), cache_dir=cache, embedder=CountingEmbedder(), negatives=())
    money = kb_dir / "money.yaml"
    money.write_text(
        money.read_text(encoding="utf-8").replace("deposit stuck", "deposit frozen"), encoding="utf-8"
    )
    changed = CountingEmbedder()
    FaqMatcher.build(load_knowledge_base(kb_dir), cache_dir=cache, embedder=changed, negatives=())
    assert changed.texts > 0
    other_model = CountingEmbedder()
    other_model.name = "another-model"
    FaqMatcher.build(load_knowledge_base(kb_dir), cache_dir=cache, embedder=other_model, negatives=())
    assert other_model.texts > 0
    assert len(list(cache.glob("*.npz"))) == 3


def test_corrupt_cache_entry_is_rebuilt(tmp_path: Path) -> None:
    kb = load_knowledge_base(FIXTURE_KB)
    cache = tmp_path / "cache"
    FaqMatcher.build(kb, cache_dir=cache, embedder=CountingEmbedder(), negatives=())
    for entry in cache.glob("*.npz"):
        entry.write_bytes(b"not a zip file")
    again = CountingEmbedder()
    matcher = FaqMatcher.build(kb, cache_dir=cache, embedder=again, negatives=())
    assert again.texts > 0
    assert matcher.match("forgot my password").topic is not None


def test_unwritable_cache_does_not_fail_the_build(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    matcher = FaqMatcher.build(
        load_knowledge_base(FIXTURE_KB),
        cache_dir=blocker / "cache",
        embedder=CountingEmbedder(),
        negatives=(),
    )
    assert matcher.match("my deposit has not arrived").topic is not None


def test_memo_embedder_embeds_each_text_once_and_persists(tmp_path: Path) -> None:
    store = tmp_path / "vectors.npz"
    inner = CountingEmbedder()
    memo = MemoEmbedder(inner, store)
    first = memo.embed(["a", "b", "a"])
    assert inner.texts == 2 and first.shape == (3, 16)
    memo.embed(["b", "c"])
    assert inner.texts == 3
    memo.save()
    reloaded = MemoEmbedder(CountingEmbedder(), store)
    assert np.allclose(reloaded.embed(["c", "a"]), np.vstack([memo.embed(["c"]), first[:1]]))

"""Lexical features, the BM25 index and score fusion."""

from __future__ import annotations

import numpy as np

from core.faq.features import lexical_features
from core.faq.lexical import LexicalIndex
from core.faq.scoring import fused_probabilities, lexical_evidence, lexical_probabilities, ranked
from core.text import normalize

DOCS = [
    "my withdrawal is still pending withdrawal processing for hours",
    "my deposit has not arrived deposit missing from account",
    "how do i reset my password forgot my password",
    "提现一直在处理中 提币还在审核",
    "充值还没到账 充币一直没到",
]


def build() -> LexicalIndex:
    return LexicalIndex.build([lexical_features(normalize(d)) for d in DOCS])


def best(index: LexicalIndex, question: str) -> int:
    return int(np.argmax(index.score(lexical_features(normalize(question))).scores))


def test_features_cover_words_ngrams_and_chinese_characters() -> None:
    features = lexical_features(normalize("Withdrawl 充值到账"))
    assert "w:withdrawl" in features
    assert "c:<wi" in features and "c:wl>" in features
    assert "w:充值" in features
    assert "z:到账" in features  # character bigram, whatever jieba's split
    assert lexical_features("") == []


def test_ranks_the_matching_document() -> None:
    index = build()
    assert best(index, "withdrawal pending") == 0
    assert best(index, "forgot password") == 2
    assert best(index, "提现还在处理") == 3
    assert best(index, "充值没到账") == 4


def test_survives_typos_and_traditional_chinese() -> None:
    index = build()
    assert best(index, "widthdrawl pendng") == 0
    assert best(index, "pasword resset") == 2
    assert best(index, "充值還沒到賬") == 4


def test_unknown_words_score_nothing() -> None:
    scores = build().score(lexical_features(normalize("zzqx vvkw")))
    assert scores.self_score == 0.0
    assert not scores.scores.any()


def test_export_round_trip() -> None:
    index = build()
    copy = LexicalIndex.from_arrays(index.export())
    query = lexical_features(normalize("deposit missing"))
    assert np.allclose(copy.score(query).scores, index.score(query).scores)


def test_self_normalised_evidence_and_fusion() -> None:
    index = build()
    raw = index.score(lexical_features(normalize("my deposit has not arrived")))
    evidence = lexical_evidence(raw.scores, raw.self_score)
    assert evidence.top == 1
    assert 0 < evidence.best <= 1.0
    assert evidence.margin > 0
    lexical = lexical_probabilities(evidence)
    assert abs(float(lexical.sum()) - 1) < 1e-5
    # Embedding logits that favour another topic pull the fused distribution towards it.
    logits = np.zeros(len(DOCS), dtype=np.float32)
    logits[2] = 20.0
    fused = fused_probabilities(evidence, logits)
    assert fused[2] > lexical[2]
    assert ranked(fused, 3)[0] in {1, 2}
    assert ranked(fused, 10) == sorted(range(len(DOCS)), key=lambda i: -fused[i])


def test_empty_evidence() -> None:
    evidence = lexical_evidence(np.zeros(3, dtype=np.float32), 0.0)
    assert evidence.top == -1
    assert np.allclose(lexical_probabilities(evidence), 1 / 3)

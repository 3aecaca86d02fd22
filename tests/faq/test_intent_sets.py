"""Intent data sets as knowledge bases; smoke tests on small slices of Banking77 and CLINC150."""

from __future__ import annotations

from pathlib import Path

from core.faq.intent_sets import (
    knowledge_base_from_intents,
    read_clinc,
    read_intent_csv,
    topic_id,
    write_knowledge_base,
)
from core.faq.kb import load_knowledge_base
from core.faq.matcher import FaqMatcher, Outcome
from tests.shared_data import shared_path


def test_rows_become_topics_and_survive_a_yaml_round_trip(tmp_path: Path) -> None:
    rows = [
        ("where is my card", "card_arrival"),
        ("card still not here", "card_arrival"),
        ("top up failed", "top-up failed"),
    ]
    kb = knowledge_base_from_intents(rows, category="bank")
    assert [t.id for t in kb.topics] == ["bank.card_arrival", "bank.top-up_failed"]
    assert kb.get("bank.card_arrival").examples == {"en": ("where is my card", "card still not here")}
    assert kb.get("bank.card_arrival").title == {"en": "card arrival"}
    path = tmp_path / "bank.yaml"
    write_knowledge_base(kb, path)
    assert load_knowledge_base(path).content_hash == kb.content_hash


def test_banking77_slice(faq_cache_dir: Path) -> None:
    rows = read_intent_csv(shared_path("intents", "banking77", "train.csv"))
    intents = sorted({intent for _, intent in rows})[:8]
    kb_rows: list[tuple[str, str]] = []
    questions: list[tuple[str, str]] = []
    seen = dict.fromkeys(intents, 0)
    for text, intent in rows:
        if intent in seen:
            (kb_rows if seen[intent] < 8 else questions).append((text, intent))
            seen[intent] += 1
    questions = questions[::25][:40]
    matcher = FaqMatcher.build(knowledge_base_from_intents(kb_rows, category="b77"), cache_dir=faq_cache_dir)
    results = matcher.match_many([text for text, _ in questions])
    right = sum(
        r.topic is not None and r.topic.id == topic_id("b77", i)
        for r, (_, i) in zip(results, questions, strict=True)
    )
    assert right / len(questions) >= 0.75


def test_clinc150_slice(faq_cache_dir: Path) -> None:
    data = read_clinc(shared_path("intents", "clinc150", "data_full.json"))
    intents = sorted({intent for _, intent in data["train"]})[:10]
    kb_rows = [(t, i) for t, i in data["train"] if i in intents]
    kb_rows = [row for k, row in enumerate(kb_rows) if k % 5 == 0]
    matcher = FaqMatcher.build(
        knowledge_base_from_intents(kb_rows, category="clinc"), cache_dir=faq_cache_dir
    )
    test = [(t, i) for t, i in data["test"] if i in intents][::3]
    results = matcher.match_many([t for t, _ in test])
    right = sum(
        r.topic is not None and r.topic.id == topic_id("clinc", i)
        for r, (_, i) in zip(results, test, strict=True)
    )
    assert right / len(test) >= 0.85
    oos = matcher.match_many([t for t, _ in data["oos_test"][:30]])
    assert sum(r.outcome is Outcome.ANSWER for r in oos) <= 6

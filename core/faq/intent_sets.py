"""Intent-classification data sets as knowledge bases (one topic per intent).

Used by the benchmarks and to turn any labelled set of questions into a KB file that
``helpline faq-match --kb`` can load: each intent becomes a topic whose examples are the
training sentences and whose answer is a placeholder naming the intent.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType

import yaml

from core.faq.kb import KnowledgeBase, Topic

Row = tuple[str, str]
_UNSAFE = re.compile(r"[^A-Za-z0-9_\-]+")


def topic_id(category: str, intent: str) -> str:
    """Topic id of ``intent`` in ``category`` (characters outside ``[A-Za-z0-9_-]`` become ``_``)."""
    return f"{category}.{_UNSAFE.sub('_', intent)}"


def knowledge_base_from_intents(
    rows: Iterable[Row], *, category: str, lang: str = "en", titles: bool = True
) -> KnowledgeBase:
    """Build a knowledge base from ``(text, intent)`` rows, topics in order of first appearance.

    Args:
        rows: Labelled sentences.
        category: Category (and id prefix) of every topic, e.g. ``"banking77"``.
        lang: Language of the sentences.
        titles: Derive a title from the intent name ("card_arrival" -> "card arrival"), as a
            real FAQ topic has one; ``False`` leaves topics with the id-derived fallback only.

    Returns:
        The knowledge base.

    """
    examples: dict[str, list[str]] = {}
    for text, intent in rows:
        examples.setdefault(intent, []).append(text)
    topics = []
    for intent, texts in examples.items():
        title = intent.replace("_", " ").replace("-", " ").strip().lower()[:40]
        topics.append(
            Topic(
                id=topic_id(category, intent),
                category=category,
                title=MappingProxyType({lang: title} if titles else {}),
                answer=MappingProxyType({lang: f"[{category} intent: {intent}]"}),
                examples=MappingProxyType(
                    {lang: tuple(dict.fromkeys(t.strip() for t in texts if t.strip()))}
                ),
                keywords=MappingProxyType({}),
            )
        )
    return KnowledgeBase.from_topics(topics)


def read_intent_csv(path: Path, text_column: str = "text", label_column: str = "category") -> list[Row]:
    """Read ``(text, intent)`` rows from a CSV file with a header (Banking77's layout by default)."""
    with path.open(encoding="utf-8", newline="") as handle:
        return [(row[text_column], row[label_column]) for row in csv.DictReader(handle)]


def read_clinc(path: Path) -> dict[str, list[Row]]:
    """Read CLINC150's ``data_full.json``: split name -> ``(text, intent)`` rows."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return {split: [(str(text), str(intent)) for text, intent in rows] for split, rows in data.items()}


def _plain(mapping: Mapping[str, Sequence[str] | str]) -> dict[str, object]:
    return {k: (list(v) if not isinstance(v, str) else v) for k, v in mapping.items()}


def write_knowledge_base(kb: KnowledgeBase, path: Path) -> None:
    """Write ``kb`` as one YAML file in the knowledge-base format."""
    topics = []
    for topic in kb.topics:
        entry: dict[str, object] = {"id": topic.id, "category": topic.category}
        if topic.title:
            entry["title"] = dict(topic.title)
        entry["answer"] = dict(topic.answer)
        entry["examples"] = _plain(topic.examples)
        if topic.keywords:
            entry["keywords"] = _plain(topic.keywords)
        topics.append(entry)
    path.write_text(yaml.safe_dump({"topics": topics}, allow_unicode=True, sort_keys=False), encoding="utf-8")

"""``/faq`` autocomplete: knowledge-base topics matching what the customer has typed so far.

Discord asks on every keystroke and waits at most three seconds, so this is a plain word
match over titles, keywords and examples, computed in microseconds; the real matching
happens when the question is sent.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.faq.kb import KnowledgeBase

MAX_CHOICES = 25
TOPIC_ACTION = "topic:"


@dataclass(frozen=True, slots=True)
class _Entry:
    topic_id: str
    titles: dict[str, str]
    haystack: str


class TopicIndex:
    """Titles and words of every topic, for suggestions.

    Args:
        kb: The knowledge base (``None``: no suggestions, e.g. the basic engine).

    """

    def __init__(self, kb: KnowledgeBase | None) -> None:
        self._entries: list[_Entry] = []
        for topic in kb.topics if kb is not None else ():
            words = [*topic.title.values(), *(w for ws in topic.keywords.values() for w in ws)]
            words += [*topic.all_examples()]
            self._entries.append(_Entry(topic.id, dict(topic.title), " ".join(words).lower()))
        self._ids = frozenset(e.topic_id for e in self._entries)

    def knows(self, topic_id: str) -> bool:
        """Whether ``topic_id`` is a topic of the knowledge base."""
        return topic_id in self._ids

    def suggest(self, current: str, lang: str, limit: int = MAX_CHOICES) -> list[tuple[str, str]]:
        """Up to ``limit`` ``(title, "topic:<id>")`` pairs, the best match first."""
        words = [w for w in current.lower().split() if w]
        scored: list[tuple[int, int, _Entry]] = []
        for order, entry in enumerate(self._entries):
            # Nothing typed yet: offer every topic, in the knowledge base's order.
            score = sum(1 for w in words if w in entry.haystack) if words else 1
            if score:
                scored.append((-score, order, entry))
        scored.sort(key=lambda item: (item[0], item[1]))
        return [(_title(e, lang), TOPIC_ACTION + e.topic_id) for _, _, e in scored[:limit]]


def _title(entry: _Entry, lang: str) -> str:
    title = entry.titles.get(lang) or next(iter(entry.titles.values()), None) or entry.topic_id
    return title[:100]

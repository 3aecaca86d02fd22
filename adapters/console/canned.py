"""Canned responses: the knowledge base's answers, in the customer's language, ready to edit and send."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from core.faq.kb import KnowledgeBase, KnowledgeBaseError, brand_placeholders, load_knowledge_base
from core.settings import ROOT, Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Canned:
    """One ready answer."""

    id: str
    title: str
    text: str


class CannedResponses:
    """The knowledge base's answers with the brand's names and links filled in.

    Args:
        path: The knowledge base (a directory of YAML files or one file); loaded on first use.
        placeholders: Values of ``{brand}``, ``{help_center_url}``...

    """

    def __init__(self, path: Path, placeholders: Mapping[str, str]) -> None:
        self._path = path
        self._placeholders = dict(placeholders)
        self._kb: KnowledgeBase | None = None
        self._failed = False

    @classmethod
    def from_settings(cls, settings: Settings) -> CannedResponses:
        """The configured knowledge base and brand."""
        path = Path(settings.engine.knowledge_base)
        if not path.is_absolute() and not path.exists():
            path = ROOT / path
        return cls(path, brand_placeholders(settings.brand))

    def for_language(self, lang: str) -> list[Canned]:
        """Every answer in ``lang`` (falling back to another language), by title."""
        kb = self._load()
        if kb is None:
            return []
        found = []
        for topic in kb.topics:
            template = topic.answer.get(lang) or next(iter(topic.answer.values()), "")
            if template:
                found.append(
                    Canned(topic.id, topic.title.get(lang) or topic.label(lang), self._fill(template))
                )
        return sorted(found, key=lambda c: c.title.casefold())

    def _fill(self, template: str) -> str:
        for name, value in self._placeholders.items():
            template = template.replace("{" + name + "}", value)
        return template

    def _load(self) -> KnowledgeBase | None:
        if self._kb is None and not self._failed:
            try:
                self._kb = load_knowledge_base(self._path)
            except (KnowledgeBaseError, OSError) as exc:
                self._failed = True
                log.warning(
                    "console: no canned responses, the knowledge base %s cannot be read: %s", self._path, exc
                )
        return self._kb

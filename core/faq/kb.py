"""The FAQ knowledge base: topics loaded from YAML and validated with actionable errors."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from core.settings import BrandSettings

LANGUAGES = ("en", "zh")
TITLE_MAX_CHARS = 40
PLACEHOLDERS = frozenset(
    {"brand", "help_center_url", "status_url", "fees_url", "api_docs_url", "app_url", "official_handles"}
)
FORMS = frozenset(
    {
        "missing_deposit",
        "withdrawal_not_received",
        "account_compromised",
        "lost_2fa",
        "kyc_rejected",
        "p2p_dispute",
        "unfilled_order",
        "talk_to_human",
    }
)
_ID = re.compile(r"^[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-.]+$")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
# libyaml's parser is about ten times faster than the pure-Python one on a large KB.
_YAML_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_TOPIC_KEYS = frozenset(
    {"id", "category", "title", "answer", "examples", "keywords", "form", "ticket", "safe_public"}
)


class KnowledgeBaseError(ValueError):
    """A knowledge-base file that cannot be loaded; the message names file, topic and the fix."""


@dataclass(frozen=True, slots=True)
class Topic:
    """One FAQ topic: its answer per language and the phrasings that should reach it."""

    id: str
    category: str
    title: Mapping[str, str]
    answer: Mapping[str, str]
    examples: Mapping[str, tuple[str, ...]]
    keywords: Mapping[str, tuple[str, ...]]
    form: str | None = None
    ticket: bool = False
    safe_public: bool = False

    def all_examples(self) -> tuple[str, ...]:
        """Examples of every language, English first."""
        return tuple(text for lang in sorted(self.examples) for text in self.examples[lang])

    def __hash__(self) -> int:
        return hash(self.id)

    def label(self, lang: str) -> str:
        """Button label in ``lang``, falling back to another language or to the id."""
        return self.title.get(lang) or next(iter(self.title.values()), None) or self.id


@dataclass(frozen=True, slots=True)
class KnowledgeBase:
    """An immutable set of topics with a hash of their content (for cache keys)."""

    topics: tuple[Topic, ...]
    content_hash: str
    _by_id: Mapping[str, Topic] = field(repr=False, compare=False)

    @classmethod
    def from_topics(cls, topics: Iterable[Topic]) -> KnowledgeBase:
        """Build a knowledge base from topics, rejecting duplicate ids."""
        ordered = tuple(topics)
        by_id: dict[str, Topic] = {}
        for topic in ordered:
            if topic.id in by_id:
                raise KnowledgeBaseError(f"topic {topic.id!r} is defined twice: give each topic a unique id")
            by_id[topic.id] = topic
        return cls(ordered, _content_hash(ordered), MappingProxyType(by_id))

    def __hash__(self) -> int:
        return hash(self.content_hash)

    def get(self, topic_id: str) -> Topic:
        """Return the topic with ``topic_id``; raises ``KeyError`` if there is none."""
        return self._by_id[topic_id]

    def __len__(self) -> int:
        return len(self.topics)


def brand_placeholders(brand: BrandSettings) -> dict[str, str]:
    """The values of the :data:`PLACEHOLDERS` in answers: the brand's name, links and handles."""
    return {
        "brand": brand.name,
        "help_center_url": brand.help_center_url,
        "status_url": brand.status_url,
        "fees_url": brand.fees_url,
        "api_docs_url": brand.api_docs_url,
        "app_url": brand.app_url,
        "official_handles": ", ".join(brand.official_handles),
    }


def _content_hash(topics: tuple[Topic, ...]) -> str:
    canonical = [
        {
            "id": t.id,
            "category": t.category,
            "title": dict(sorted(t.title.items())),
            "answer": dict(sorted(t.answer.items())),
            "examples": {k: list(v) for k, v in sorted(t.examples.items())},
            "keywords": {k: list(v) for k, v in sorted(t.keywords.items())},
            "form": t.form,
            "ticket": t.ticket,
            "safe_public": t.safe_public,
        }
        for t in topics
    ]
    payload = json.dumps(canonical, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()


class _Context:
    """Where a value came from, to make error messages point at the fix."""

    def __init__(self, source: Path, topic_id: str | None = None) -> None:
        self.source = source
        self.topic_id = topic_id

    def error(self, problem: str) -> KnowledgeBaseError:
        where = f"{self.source}"
        if self.topic_id is not None:
            where += f", topic {self.topic_id!r}"
        return KnowledgeBaseError(f"{where}: {problem}")


def _text_map(value: Any, key: str, ctx: _Context, *, required: bool) -> dict[str, str]:
    if value is None:
        if required:
            raise ctx.error(f"'{key}' is missing: add {key}: {{en: ..., zh: ...}}")
        return {}
    if not isinstance(value, Mapping):
        raise ctx.error(f"'{key}' must be a mapping of language to text, like {key}: {{en: ..., zh: ...}}")
    result: dict[str, str] = {}
    for lang, text in value.items():
        if lang not in LANGUAGES:
            raise ctx.error(f"'{key}' has language {lang!r}: use only {', '.join(LANGUAGES)}")
        if not isinstance(text, str) or not text.strip():
            raise ctx.error(f"'{key}.{lang}' must be a non-empty string")
        result[lang] = text.strip()
    if required and not result:
        raise ctx.error(f"'{key}' is empty: give the text in at least one language")
    return result


def _list_map(value: Any, key: str, ctx: _Context) -> dict[str, tuple[str, ...]]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ctx.error(f"'{key}' must be a mapping of language to a list of strings")
    result: dict[str, tuple[str, ...]] = {}
    for lang, items in value.items():
        if lang not in LANGUAGES:
            raise ctx.error(f"'{key}' has language {lang!r}: use only {', '.join(LANGUAGES)}")
        if items is None:
            continue
        if not isinstance(items, list) or not all(isinstance(s, str) for s in items):
            raise ctx.error(f"'{key}.{lang}' must be a list of strings")
        cleaned = tuple(dict.fromkeys(s.strip() for s in items if s.strip()))
        if cleaned:
            result[lang] = cleaned
    return result


def _check_answer(answer: Mapping[str, str], ctx: _Context) -> None:
    for lang, text in answer.items():
        for name in _PLACEHOLDER.findall(text):
            if name not in PLACEHOLDERS:
                allowed = ", ".join("{" + p + "}" for p in sorted(PLACEHOLDERS))
                raise ctx.error(f"answer.{lang} uses unknown placeholder {{{name}}}: use one of {allowed}")


def _flag(raw: Mapping[str, Any], key: str, ctx: _Context) -> bool:
    value = raw.get(key, False)
    if not isinstance(value, bool):
        raise ctx.error(f"'{key}' must be true or false, not {value!r}")
    return value


def parse_topic(raw: Any, source: Path, index: int) -> Topic:
    """Validate one topic mapping read from ``source``.

    Args:
        raw: The YAML value of the topic.
        source: File it came from (for messages).
        index: Position in the file's ``topics`` list (for messages when the id is missing).

    Returns:
        The topic.

    Raises:
        KnowledgeBaseError: The topic is malformed; the message says what to change.

    """
    ctx = _Context(source, None)
    if not isinstance(raw, Mapping):
        raise ctx.error(f"topic #{index + 1} must be a mapping with id, category, answer and examples")
    topic_id = raw.get("id")
    if not isinstance(topic_id, str) or not _ID.match(topic_id):
        raise ctx.error(f"topic #{index + 1} needs an id like 'deposit.not_credited' (<category>.<name>)")
    ctx.topic_id = topic_id
    unknown = sorted(set(raw) - _TOPIC_KEYS)
    if unknown:
        raise ctx.error(
            f"unknown field(s) {', '.join(unknown)}: allowed are {', '.join(sorted(_TOPIC_KEYS))}"
        )
    category = raw.get("category", topic_id.split(".", 1)[0])
    if not isinstance(category, str) or not topic_id.startswith(category + "."):
        raise ctx.error(f"category {category!r} does not match the id: the id must start with '{category}.'")
    title = _text_map(raw.get("title"), "title", ctx, required=False)
    for lang, text in title.items():
        if len(text) > TITLE_MAX_CHARS:
            raise ctx.error(
                f"title.{lang} is {len(text)} characters: shorten it to {TITLE_MAX_CHARS} at most"
            )
    if not title:
        title = {"en": topic_id.split(".", 1)[1].replace("_", " ").replace("-", " ")[:TITLE_MAX_CHARS]}
    answer = _text_map(raw.get("answer"), "answer", ctx, required=True)
    _check_answer(answer, ctx)
    examples = _list_map(raw.get("examples"), "examples", ctx)
    if not examples:
        raise ctx.error(
            "'examples' is empty: add questions customers ask, e.g. examples: {en: [...], zh: [...]}"
        )
    keywords = _list_map(raw.get("keywords"), "keywords", ctx)
    form = raw.get("form")
    if form is not None and form not in FORMS:
        raise ctx.error(f"form {form!r} is unknown: use one of {', '.join(sorted(FORMS))}")
    return Topic(
        id=topic_id,
        category=category,
        title=MappingProxyType(title),
        answer=MappingProxyType(answer),
        examples=MappingProxyType(examples),
        keywords=MappingProxyType(keywords),
        form=form,
        ticket=_flag(raw, "ticket", ctx),
        safe_public=_flag(raw, "safe_public", ctx),
    )


def _read_file(path: Path) -> list[Topic]:
    ctx = _Context(path)
    try:
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER)
    except yaml.YAMLError as exc:
        raise ctx.error(f"is not valid YAML ({exc}): fix the syntax") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ctx.error(f"cannot be read as UTF-8 text ({exc})") from exc
    if document is None:
        return []
    if not isinstance(document, Mapping) or not isinstance(document.get("topics"), list):
        raise ctx.error("must be a mapping with a list 'topics:'")
    return [parse_topic(raw, path, i) for i, raw in enumerate(document["topics"])]


def load_knowledge_base(path: Path) -> KnowledgeBase:
    """Load every topic from a directory of ``*.yaml``/``*.yml`` files, or from one YAML file.

    Args:
        path: Directory (files read in name order) or a single YAML file.

    Returns:
        The validated knowledge base.

    Raises:
        KnowledgeBaseError: A file is missing or invalid, a topic is malformed, an id is repeated,
            or no topic was found; the message names the file, the topic and what to fix.

    """
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix in {".yaml", ".yml"} and p.is_file())
        if not files:
            raise KnowledgeBaseError(f"{path}: no .yaml files found: add one file per category")
    elif path.is_file():
        files = [path]
    else:
        raise KnowledgeBaseError(f"{path}: no such file or directory: pass a KB directory or YAML file")
    topics: list[Topic] = []
    seen: dict[str, Path] = {}
    for file in files:
        for topic in _read_file(file):
            if topic.id in seen:
                raise KnowledgeBaseError(
                    f"{file}, topic {topic.id!r}: id already used in {seen[topic.id]}: rename one of them"
                )
            seen[topic.id] = file
            topics.append(topic)
    if not topics:
        raise KnowledgeBaseError(f"{path}: contains no topics: add entries under 'topics:'")
    return KnowledgeBase.from_topics(topics)

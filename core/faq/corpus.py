"""The texts a knowledge base contributes to matching, flattened with their topic index."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from core.faq.features import lexical_features
from core.faq.kb import KnowledgeBase
from core.text.normalize import light_question, normalize, normalize_question

Labels = npt.NDArray[np.int64]
# Keywords are short and chosen by the author: they count twice in a topic's lexical document.
KEYWORD_WEIGHT = 2


@dataclass(frozen=True, slots=True)
class Corpus:
    """Examples, titles and keywords of a knowledge base as parallel lists."""

    example_texts: tuple[str, ...]
    """Examples to embed (lightly normalised), all languages."""
    example_labels: Labels
    example_features: tuple[tuple[str, ...], ...]
    title_texts: tuple[str, ...]
    """Titles to embed: they train the classifier like examples but are never held out."""
    title_labels: Labels
    extra_features: tuple[tuple[str, ...], ...]
    """Per topic: features of its titles and (weighted) keywords, always in its lexical document."""
    exact: dict[str, int]
    """Normalised example or title -> topic index, for questions typed (or clicked) verbatim."""

    def documents(self, mask: npt.NDArray[np.bool_] | None = None) -> list[list[str]]:
        """Lexical document per topic from the examples selected by ``mask`` (all if ``None``)."""
        docs = [list(extra) for extra in self.extra_features]
        for i, (label, features) in enumerate(zip(self.example_labels, self.example_features, strict=True)):
            if mask is None or mask[i]:
                docs[int(label)].extend(features)
        return docs


def build_corpus(kb: KnowledgeBase, *, with_features: bool = True) -> Corpus:
    """Flatten ``kb`` into a :class:`Corpus`.

    Args:
        kb: The knowledge base.
        with_features: Compute lexical features (runs the Chinese segmenter on every text);
            not needed when the lexical index comes from the cache.

    Returns:
        The corpus.

    """
    texts: list[str] = []
    labels: list[int] = []
    features: list[tuple[str, ...]] = []
    titles: list[str] = []
    title_labels: list[int] = []
    extras: list[tuple[str, ...]] = []
    exact: dict[str, int] = {}
    ambiguous: set[str] = set()

    def remember(text: str, index: int) -> None:
        key = normalize_question(text)
        if key in exact and exact[key] != index:
            ambiguous.add(key)
        exact.setdefault(key, index)

    for index, topic in enumerate(kb.topics):
        for text in topic.all_examples():
            texts.append(light_question(text))
            labels.append(index)
            features.append(tuple(lexical_features(normalize_question(text))) if with_features else ())
            remember(text, index)
        extra: list[str] = []
        for lang in sorted(topic.title):
            title = topic.title[lang]
            titles.append(light_question(title))
            title_labels.append(index)
            if with_features:
                extra.extend(lexical_features(normalize_question(title)))
            remember(title, index)
        for lang in sorted(topic.keywords) if with_features else ():
            for keyword in topic.keywords[lang]:
                extra.extend(lexical_features(normalize(keyword)) * KEYWORD_WEIGHT)
        extras.append(tuple(extra))
    for key in ambiguous:
        # The same sentence under two topics is no evidence for either.
        del exact[key]
    return Corpus(
        example_texts=tuple(texts),
        example_labels=np.array(labels, dtype=np.int64),
        example_features=tuple(features),
        title_texts=tuple(titles),
        title_labels=np.array(title_labels, dtype=np.int64),
        extra_features=tuple(extras),
        exact=exact,
    )

"""``helpline faq-match``: match questions read from stdin, one per line, and print the verdicts."""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path
from typing import TextIO

from core.faq.kb import KnowledgeBaseError, load_knowledge_base
from core.faq.matcher import FaqMatcher, MatchResult
from core.faq.progress import ProgressPrinter
from core.faq.tuning import TuningPlan, TuningUnavailable

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_KB = REPO_ROOT / "config" / "knowledge"


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/helpline/faq`` (``~/.cache/helpline/faq`` by default)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "helpline" / "faq"


def result_to_json(result: MatchResult) -> str:
    """The JSON line for one result: question, topic, score, lang, outcome, suggestions."""
    payload = {
        "question": result.question,
        "topic": result.topic.id if result.topic is not None else None,
        "score": round(result.score, 4),
        "lang": result.lang,
        "outcome": result.outcome.value,
        "suggestions": [topic.id for topic in result.suggestions],
    }
    return json.dumps(payload, ensure_ascii=False)


def result_to_text(result: MatchResult) -> str:
    """A readable one-line summary of one result."""
    topic = result.topic.id if result.topic is not None else "-"
    line = f"{result.outcome.value:<8} {topic:<32} score={result.score:.2f} lang={result.lang}"
    if result.suggestions:
        line += " did-you-mean=" + ",".join(t.id for t in result.suggestions)
    return f"{line}  | {result.question}"


def faq_match_command(
    kb_path: Path | None,
    as_json: bool,
    stdin: TextIO,
    stdout: TextIO,
    cache_dir: Path | None = None,
    tune: bool = False,
    tuning: TuningPlan | None = None,
) -> int:
    """Match every line of ``stdin`` against the knowledge base and print one line per question.

    Args:
        kb_path: Knowledge-base directory or YAML file; ``None`` means ``config/knowledge`` of
            this repository.
        as_json: Print JSON objects (``question, topic, score, lang, outcome, suggestions``)
            instead of readable summaries.
        stdin: Questions, one per line.
        stdout: Where results go; progress and errors go to ``sys.stderr``.
        cache_dir: Embedding/index cache; ``None`` means :func:`default_cache_dir`.
        tune: Tune the encoder on the knowledge base first (see :mod:`core.faq.tuning`).
        tuning: How to tune (default :class:`~core.faq.tuning.TuningPlan`).

    Returns:
        0 on success, 2 when the knowledge base cannot be loaded or tuning is impossible.

    """
    path = kb_path if kb_path is not None else DEFAULT_KB
    try:
        kb = load_knowledge_base(path)
    except KnowledgeBaseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        matcher = FaqMatcher.build(
            kb,
            cache_dir=cache_dir if cache_dir is not None else default_cache_dir(),
            progress=ProgressPrinter(sys.stderr, prefix="indexing knowledge base: "),
            tune=tune,
            tuning=tuning,
        )
    except TuningUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    render = result_to_json if as_json else result_to_text
    for line in stdin:
        question = line.rstrip("\r\n")
        stdout.write(render(matcher.match(question)) + "\n")
        stdout.flush()
    return 0

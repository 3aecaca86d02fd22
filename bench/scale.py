"""Scale-out benchmark: 1, 2 and 4 ``helpline run`` processes on PostgreSQL, one on SQLite.

The processes share one port (SO_REUSEPORT: the kernel spreads the connections) and one
database. A load generator replays a realistic mix over many web-chat conversations:

* 60 % FAQ questions (a held-out paraphrase, varied so that no string repeats),
* 25 % multi-turn forms (start the missing-deposit form, give every detail in one
  message, confirm: three turns, and a ticket job),
* 15 % tickets (a question, then "talk to a human": a ticket job and its acknowledgement).

It prints turns/s, p50/p99 turn latency (HTTP round trip: the engine runs inside it),
the engine's own p99 from ``/metrics``, the peak memory of each process and the servers' CPU
time per turn (steadier than throughput on a machine shared with other jobs). With
``--kill`` one process is killed with SIGKILL half-way (the client retries what failed,
as an integrator would) and the database is checked afterwards: every message stored
once, every turn answered once. ``--prefill N`` stores N old messages first, to show the
cost per message does not grow with the store. ``--rate R`` paces the load instead: the
conversations start on a schedule so that R messages arrive a second however the servers
fare (an open load), and the latencies show whether they keep up.

    .venv/bin/python bench/scale.py [--processes 1,2,4] [--conversations 10000]
        [--postgres URL] [--sqlite] [--kill] [--prefill 1000000] [--engine faq|basic]
        [--rate 150]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import orjson
import yaml
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pipeline import HELPLINE, ROOT, Connection, wait_ready

TXID = "3f5e" + "9" * 56 + "1234"
FILLERS = ["", "hi, ", "hello ", "excuse me, ", "pls help: ", "urgent - ", "喂，", "你好，", "请问", "hey "]
ENDINGS = ["", "?", " thanks", " pls", "!!", " 谢谢", " asap", "...", " ty", " 急"]


@dataclass
class Results:
    latencies: list[float] = field(default_factory=list)
    turns: int = 0
    retried: int = 0


def questions() -> list[str]:
    cases = yaml.safe_load((ROOT / "bench" / "data" / "faq_heldout.yaml").read_text(encoding="utf-8"))[
        "cases"
    ]
    return [c["text"] for c in cases if c.get("topic")]


def varied(text: str, n: int, rng: random.Random) -> str:
    """A paraphrase no other turn sends: filler, ending, a case change and a conversation tag."""
    body = text.lower() if rng.random() < 0.3 else text
    return f"{rng.choice(FILLERS)}{body}{rng.choice(ENDINGS)} #{n}"


def script(n: int, texts: list[str], rng: random.Random) -> list[dict[str, str]]:
    roll = rng.random()
    question = varied(rng.choice(texts), n, rng)
    if roll < 0.60:
        return [{"text": question}]
    if roll < 0.85:
        return [
            {"action": "form:start:missing_deposit"},
            {"text": f"sent {rng.randint(10, 900)} USDT on TRC20 yesterday 3pm, txid {TXID} (#{n})"},
            {"text": "yes"},
        ]
    return [{"text": question}, {"action": "human"}]


async def customer(port: int, n: int, turns: list[dict[str, str]], results: Results, run: str) -> None:
    conn: Connection | None = None
    try:
        for index, turn in enumerate(turns):
            body = orjson.dumps({"session_id": f"{run}-{n}", "message_id": str(index), **turn})
            for _attempt in range(100):
                try:
                    if conn is None:
                        conn = await Connection.open(port)
                    started = time.perf_counter()
                    status, payload = await conn.post("/api/chat/messages", body)
                except (OSError, asyncio.IncompleteReadError):
                    # That process died: reconnect (the kernel picks a live one) and resend.
                    results.retried += 1
                    if conn is not None:
                        conn.close()
                    conn = None
                    await asyncio.sleep(0.05)
                    continue
                if status == 200:
                    results.latencies.append(time.perf_counter() - started)
                    results.turns += 1
                    break
                if status in (429, 503):
                    results.retried += 1
                    await asyncio.sleep(0.1)
                    continue
                raise SystemExit(f"unexpected answer {status}: {payload[:200]!r}")
            else:
                raise SystemExit(f"conversation {n} turn {index} was never accepted")
    finally:
        if conn is not None:
            conn.close()


async def drive(
    port: int,
    conversations: int,
    concurrency: int,
    run: str,
    kill: subprocess.Popen[bytes] | None,
    rate: float = 0.0,
) -> tuple[float, Results]:
    rng = random.Random(7)
    texts = questions()
    scripts = [script(n, texts, rng) for n in range(conversations)]
    results = Results()
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(conversations):
        queue.put_nowait(n)
    # Paced: conversations start on a fixed schedule, so that their messages arrive at
    # ``rate`` a second on average, however far behind the server falls (an open load).
    gap = sum(len(turns) for turns in scripts) / conversations / rate if rate else 0.0
    began = time.perf_counter()

    async def worker() -> None:
        while not queue.empty():
            n = queue.get_nowait()
            await customer(port, n, scripts[n], results, run)

    async def paced() -> None:
        started = []
        for n in range(conversations):
            delay = began + n * gap - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            started.append(asyncio.create_task(customer(port, n, scripts[n], results, run)))
        await asyncio.gather(*started)

    async def killer() -> None:
        if kill is None:
            return
        while results.turns < conversations:  # about half-way through the turns
            await asyncio.sleep(0.05)
        kill.send_signal(signal.SIGKILL)
        print(f"  killed process {kill.pid} after {results.turns} turns", file=sys.stderr, flush=True)

    if rate:
        await asyncio.gather(paced(), killer())
    else:
        await asyncio.gather(*(worker() for _ in range(concurrency)), killer())
    return time.perf_counter() - began, results


async def fresh_postgres(url: str, name: str) -> str:
    admin = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    await admin.execute(f"CREATE DATABASE {name}")
    await admin.close()
    return str(make_url(url).set(database=name).render_as_string(hide_password=False))


async def prefill(url: str, count: int) -> None:
    """Store ``count`` old messages (10 per conversation) straight in PostgreSQL."""
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    try:
        conversations = count // 10
        await conn.execute(
            "INSERT INTO contacts (display_name, surveys_opt_out, created_at) "
            "SELECT 'old ' || g, false, now() FROM generate_series(1, $1) g",
            conversations,
        )
        await conn.execute(
            "INSERT INTO conversations (channel, thread_key, surface, contact_id, status, bot_state, slots,"
            " created_at, last_message_at) SELECT 'webchat', 'old-' || g, 'private', g, 'bot', '{}', '{}',"
            " now(), now() FROM generate_series(1, $1) g",
            conversations,
        )
        await conn.execute(
            "INSERT INTO messages (conversation_id, channel, direction, author, text, buttons, attachments,"
            " external_id, internal, created_at) SELECT (g - 1) / 10 + 1, 'webchat',"
            " CASE WHEN g % 2 = 0 THEN 'in' ELSE 'out' END, 'customer', 'an old message ' || g, '[]', '[]',"
            " 'old:' || g, false, now() FROM generate_series(1, $1) g",
            count,
        )
        # A store of a million messages has long been vacuumed: do it now rather than let
        # autovacuum run during the measurement.
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()


async def counts(url: str, run: str) -> tuple[int, int, int]:
    """This run's inbound messages and how many of them got an answer (stored in the database)."""
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    try:
        inbound = await conn.fetchval(
            "SELECT count(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id "
            "WHERE c.thread_key LIKE $1 AND m.direction = 'in'",
            f"{run}-%",
        )
        answered = await conn.fetchval(
            "SELECT count(DISTINCT m.in_reply_to_id) FROM messages m JOIN conversations c"
            " ON c.id = m.conversation_id WHERE c.thread_key LIKE $1 AND m.direction = 'out'"
            " AND m.in_reply_to_id IS NOT NULL",
            f"{run}-%",
        )
        # A turn's replies share its timestamp: replies to one message made at two different
        # times mean it was decided twice.
        twice = await conn.fetchval(
            "SELECT count(*) FROM (SELECT m.in_reply_to_id FROM messages m JOIN conversations c"
            " ON c.id = m.conversation_id WHERE c.thread_key LIKE $1 AND m.direction = 'out'"
            " AND m.in_reply_to_id IS NOT NULL GROUP BY m.in_reply_to_id"
            " HAVING count(DISTINCT m.created_at) > 1) twice",
            f"{run}-%",
        )
        return int(inbound), int(answered), int(twice)
    finally:
        await conn.close()


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used so far; 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def postgres_cpu_seconds() -> float:
    """CPU time of the local PostgreSQL server's processes (backends that exit take theirs away).

    The pools are fixed, so the backends serving the run live through it and their CPU counts.
    """
    total = 0.0
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if (proc / "comm").read_text().strip() == "postgres":
                    total += cpu_seconds(int(proc.name))
            except OSError:
                continue
    return total


def peak_memory_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


async def engine_latency(port: int, processes: int) -> tuple[float, float]:
    """The engine-latency p99 (a bucket's upper bound, ms) and share of turns within 100 ms.

    Read from the processes' /metrics histograms, summed. The processes share the port, so
    each request reaches one of them: ask until every process has answered (their counts
    differ), or give up after a while and use those seen.
    """
    seen: dict[tuple[float, ...], list[tuple[float, float]]] = {}
    for _ in range(20 * processes):
        conn = await Connection.open(port)
        try:
            conn.writer.write(b"GET /metrics HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
            head = await conn.reader.readuntil(b"\r\n\r\n")
            length = next(
                int(line.split(b":")[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length")
            )
            text = (await conn.reader.readexactly(length)).decode()
        finally:
            conn.close()
        buckets = []
        for line in text.splitlines():
            if line.startswith("helpline_engine_seconds_bucket"):
                bound = line.split('le="')[1].split('"')[0]
                buckets.append(
                    (float("inf") if bound == "+Inf" else float(bound), float(line.rsplit(" ", 1)[1]))
                )
        seen[tuple(count for _, count in buckets)] = buckets
        if len(seen) >= processes:
            break
    merged = [
        (bound, sum(histogram[i][1] for histogram in seen.values()))
        for i, (bound, _) in enumerate(next(iter(seen.values()), []))
    ]
    total = merged[-1][1] if merged else 0
    within = next((count / total for bound, count in merged if bound == 0.1 and total), float("nan"))
    for bound, count in merged:
        if total and count >= 0.99 * total:
            return bound * 1000, within
    return float("nan"), within


def start(env: dict[str, str], processes: int, log_dir: Path) -> list[subprocess.Popen[bytes]]:
    procs = []
    for n in range(processes):
        log = (log_dir / f"helpline-{n}.log").open("wb")
        procs.append(subprocess.Popen([str(HELPLINE), "run"], env=env, stdout=log, stderr=log))
    return procs


def measure(args: argparse.Namespace, name: str, url: str, processes: int, port: int) -> None:
    env = dict(os.environ)
    env.update(
        HELPLINE_DATABASE__URL=url,
        HELPLINE_HTTP__PORT=str(port),
        HELPLINE_LOGGING__LEVEL="WARNING",
        HELPLINE_ENGINE__KIND=args.engine,
        HELPLINE_DATA_DIR=str(ROOT / "var"),
        # Enough connections for the conversations in flight (waiting for one costs CPU),
        # within PostgreSQL's 100 connections for all processes together.
        HELPLINE_DATABASE__POOL_SIZE=str(min(32, max(8, args.concurrency // processes))),
        # A load test, not a flood: with the per-sender limit most messages would get only a notice.
        HELPLINE_ABUSE__MAX_MESSAGES_PER_MINUTE="0",
    )
    if not url.startswith("sqlite"):
        subprocess.run([str(HELPLINE), "db", "upgrade"], env=env, check=True, stdout=subprocess.DEVNULL)
        if args.prefill:
            print(f"[{name}] storing {args.prefill:,} old messages ...", file=sys.stderr, flush=True)
            asyncio.run(prefill(url, args.prefill))
    with tempfile.TemporaryDirectory() as logs:
        procs = start(env, processes, Path(logs))
        try:
            for proc in procs:
                asyncio.run(wait_ready(port, proc))
            time.sleep(4 if args.engine == "faq" else 1)  # the embeddings index loads from its cache
            run = f"r{int(time.time())}"
            cpu_before = {p.pid: cpu_seconds(p.pid) for p in procs}
            pg_before = postgres_cpu_seconds()
            own_before = sum(os.times()[:2])
            victim = procs[-1] if args.kill and processes > 1 else None
            print(
                f"[{name}] {processes} process(es), {args.conversations} conversations"
                + (f" paced at {args.rate:g} messages/s" if args.rate else "")
                + " ...",
                file=sys.stderr,
                flush=True,
            )
            elapsed, results = asyncio.run(
                drive(port, args.conversations, args.concurrency, run, victim, args.rate)
            )
            # A killed process's CPU is gone with it: the figure counts the survivors' share.
            cpu = sum(cpu_seconds(p.pid) - cpu_before[p.pid] for p in procs if p.poll() is None)
            pg_cpu = postgres_cpu_seconds() - pg_before if not url.startswith("sqlite") else 0.0
            own_cpu = sum(os.times()[:2]) - own_before
            p99_engine, within_100 = asyncio.run(engine_latency(port, sum(p.poll() is None for p in procs)))
            memory = [peak_memory_mb(p.pid) for p in procs if p.poll() is None]
            lat = sorted(results.latencies)
            p50 = statistics.median(lat) * 1000
            p99 = lat[max(0, int(len(lat) * 0.99) - 1)] * 1000
            print(
                f"{name:<22} {processes} proc  {results.turns:>6} turns in {elapsed:6.1f} s = "
                f"{results.turns / elapsed:6.0f} turns/s  p50 {p50:6.1f} ms  p99 {p99:6.1f} ms  "
                f"engine p99 ≤ {p99_engine:.0f} ms ({100 * within_100:.1f} % ≤ 100 ms)  peak RSS {'/'.join(f'{m:.0f}' for m in memory)} MB"
                + (f"  retried {results.retried}" if results.retried else "")
                # Throughput on a shared machine moves with its neighbours; CPU per turn much less.
                + f"  server CPU {1000 * cpu / max(results.turns, 1):.2f} ms/turn",
                flush=True,
            )
            # The budget of a target rate is the machine's cores over the rate, for every part.
            per_turn = 1000 / max(results.turns, 1)
            database = "" if url.startswith("sqlite") else f" + PostgreSQL {per_turn * pg_cpu:.2f} ms"
            print(
                f"{'':<22} CPU a turn: servers {per_turn * cpu:.2f} ms{database}"
                f" + load generator {per_turn * own_cpu:.2f} ms = "
                f"{per_turn * (cpu + pg_cpu + own_cpu):.2f} ms "
                f"(the machine has {1000 * (os.cpu_count() or 1) / 300:.2f} ms a turn at 300 turns/s)",
                flush=True,
            )
            if not url.startswith("sqlite"):
                time.sleep(2)
                inbound, answered, twice = asyncio.run(counts(url, run))
                print(
                    f"{'':<22} check: {results.turns} turns acknowledged, {inbound} stored "
                    f"(each once: the store refuses a second copy), {answered} answered, "
                    f"{twice} answered twice",
                    flush=True,
                )
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.terminate()
            for proc in procs:
                proc.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--processes", default="1,2,4")
    parser.add_argument("--conversations", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=64, help="conversations in flight at once")
    parser.add_argument(
        "--rate", type=float, default=0.0, help="paced: messages/s arriving on a schedule (0: saturate)"
    )
    parser.add_argument("--postgres", default="postgresql+asyncpg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--sqlite", action="store_true", help="also one process on SQLite")
    parser.add_argument("--kill", action="store_true", help="SIGKILL one process half-way")
    parser.add_argument("--prefill", type=int, default=0, help="old messages stored before the run")
    parser.add_argument("--engine", choices=("faq", "basic"), default="faq")
    parser.add_argument("--port", type=int, default=18090)
    args = parser.parse_args()
    if args.sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            measure(args, "sqlite", f"sqlite+aiosqlite:///{tmp}/bench.db", 1, args.port)
    for processes in (int(p) for p in args.processes.split(",") if p):
        url = asyncio.run(fresh_postgres(args.postgres, "helpline_scale"))
        measure(args, "postgresql", url, processes, args.port)


if __name__ == "__main__":
    main()

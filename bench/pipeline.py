"""Drive N web-chat sessions through HTTP -> engine -> database -> outbox and print the figures.

Starts a real ``helpline run`` server process per database (SQLite in a temporary file,
PostgreSQL in a fresh database), then N concurrent sessions each send messages one after
the other (waiting for each reply, as a person would) over keep-alive HTTP connections.
Two runs per database: "saturated" (every session sends its next message as soon as the
last is answered: the most the server does) and "paced" (the sessions together send
``--rate`` messages/s on a fixed schedule: latency at that load). Prints messages/s and
p50/p99 latency for each.

    .venv/bin/python bench/pipeline.py [--sessions 50] [--messages 100] [--rate 1000]
                                       [--postgres URL] [--only sqlite]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import asyncpg
import orjson

ROOT = Path(__file__).resolve().parents[1]
HELPLINE = ROOT / ".venv" / "bin" / "helpline"


class Connection:
    """A minimal HTTP/1.1 keep-alive client: the load generator must cost less than the server."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> Connection:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        self.writer.write(
            b"POST %s HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n%s" % (path.encode(), len(body), body)
        )
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        return status, await self.reader.readexactly(length)

    def close(self) -> None:
        self.writer.close()


async def wait_ready(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited with {proc.returncode}; see its log above")
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        except OSError:
            await asyncio.sleep(0.2)
    raise SystemExit("the server did not start within 60 s")


async def session(
    port: int,
    index: int,
    messages: int,
    latencies: list[float],
    texts: list[str],
    prefix: str = "m",
    interval: float = 0.0,
) -> None:
    """One customer: sends ``messages`` one after the other, each once the previous is answered.

    With ``interval`` the sends are scheduled every ``interval`` seconds (a paced, open
    load); latency is counted from the scheduled time, so a server that falls behind is
    charged for the wait (no coordinated omission).
    """
    conn = await Connection.open(port)
    loop = asyncio.get_running_loop()
    start = loop.time() + (index / 50) * interval
    try:
        for n in range(messages):
            body = orjson.dumps(
                {
                    "session_id": f"bench-{index}",
                    "message_id": f"{prefix}{n}",
                    "text": texts[(index + n) % len(texts)],
                }
            )
            scheduled = time.perf_counter()
            if interval:
                delay = start + n * interval - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                scheduled = time.perf_counter() + min(delay, 0)
            status, payload = await conn.post("/api/chat/messages", body)
            latencies.append(time.perf_counter() - scheduled)
            if status != 200 or not orjson.loads(payload)["replies"]:
                raise SystemExit(f"unexpected answer {status}: {payload[:200]!r}")
    finally:
        conn.close()


async def drive(
    port: int, sessions: int, messages: int, rate: float = 0.0, run: str = "m"
) -> tuple[float, list[float]]:
    texts = [
        "hello",
        "my deposit has not arrived after two hours",
        "我的提现一直在处理中",
        "how do I reset my 2FA",
        "withdrawal pending for 3 hours, txid 0x9f...",
    ]
    # Warm-up, not measured: each session's first message creates its contact and conversation.
    await asyncio.gather(*(session(port, i, 2, [], texts, prefix=f"{run}-warm") for i in range(sessions)))
    latencies: list[float] = []
    started = time.perf_counter()
    interval = sessions / rate if rate else 0.0
    await asyncio.gather(
        *(
            session(port, i, messages, latencies, texts, prefix=run, interval=interval)
            for i in range(sessions)
        )
    )
    return time.perf_counter() - started, latencies


def run_server(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([str(HELPLINE), "run"], env=env, stdout=subprocess.DEVNULL)


async def fresh_postgres(url: str) -> str:
    admin = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    await admin.execute("DROP DATABASE IF EXISTS helpline_bench WITH (FORCE)")
    await admin.execute("CREATE DATABASE helpline_bench")
    await admin.close()
    return url.rsplit("/", 1)[0] + "/helpline_bench"


def measure(
    name: str, db_url: str, port: int, sessions: int, messages: int, rate: float, engine: str
) -> None:
    env = dict(os.environ)
    env.update(
        HELPLINE_DATABASE__URL=db_url,
        HELPLINE_HTTP__PORT=str(port),
        HELPLINE_LOGGING__LEVEL="WARNING",
        HELPLINE_ENGINE__KIND=engine,
        HELPLINE_DATA_DIR=str(ROOT / "var"),
        # A load test, not a flood: with the per-sender limit most messages would get only a notice.
        HELPLINE_ABUSE__MAX_MESSAGES_PER_MINUTE="0",
    )
    if not db_url.startswith("sqlite"):
        subprocess.run([str(HELPLINE), "db", "upgrade"], env=env, check=True, stdout=subprocess.DEVNULL)
    proc = run_server(env)
    try:
        asyncio.run(wait_ready(port, proc))
        if engine == "faq":
            time.sleep(3)  # the embeddings index loads from the cache warmed below
        for mode, target in (("saturated", 0.0), (f"paced {rate:.0f}/s", rate)):
            print(
                f"[{name}] {mode}: {sessions} sessions x {messages} messages ...", file=sys.stderr, flush=True
            )
            elapsed, latencies = asyncio.run(drive(port, sessions, messages, target, run=mode))
            report(f"{name}/{engine}", mode, sessions, elapsed, latencies)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def report(name: str, mode: str, sessions: int, elapsed: float, latencies: list[float]) -> None:
    latencies.sort()
    total = len(latencies)
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[max(0, int(total * 0.99) - 1)] * 1000
    print(
        f"{name:<15} {mode:<14} {total:>6} messages in {elapsed:6.2f} s = "
        f"{total / elapsed:7.0f} messages/s   "
        f"p50 {p50:6.1f} ms   p99 {p99:6.1f} ms   ({sessions} concurrent sessions)",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--messages", type=int, default=100, help="messages per session")
    parser.add_argument("--postgres", default="postgresql+asyncpg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    parser.add_argument("--port", type=int, default=18080)
    parser.add_argument("--rate", type=float, default=1000.0, help="total messages/s of the paced run")
    parser.add_argument(
        "--engine",
        choices=["basic", "faq", "both"],
        default="both",
        help="basic: the pipeline alone; faq: with the knowledge-base matcher",
    )
    args = parser.parse_args()
    engines = ["basic", "faq"] if args.engine == "both" else [args.engine]
    if "faq" in engines:
        print("warming the knowledge-base cache ...", file=sys.stderr, flush=True)
        subprocess.run(
            [
                sys.executable,
                "-c",
                "from adapters.runtime import build_engine; from core.settings import "
                "load_settings; build_engine(load_settings())",
            ],
            cwd=ROOT,
            check=True,
            env={**os.environ, "HELPLINE_DATA_DIR": str(ROOT / "var"), "HELPLINE_LOGGING__LEVEL": "WARNING"},
        )
    for engine in engines:
        with tempfile.TemporaryDirectory() as tmp:
            if args.only in (None, "sqlite"):
                url = f"sqlite+aiosqlite:///{tmp}/bench.db"
                measure("SQLite", url, args.port, args.sessions, args.messages, args.rate, engine)
            if args.only in (None, "postgresql"):
                url = asyncio.run(fresh_postgres(args.postgres))
                measure("PostgreSQL", url, args.port + 1, args.sessions, args.messages, args.rate, engine)


if __name__ == "__main__":
    main()

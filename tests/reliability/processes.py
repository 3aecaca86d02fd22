"""Start, watch and stop ``helpline run`` processes from async tests, through the fork server."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 30.0


class Life:
    """One ``helpline run`` process, from start to exit."""

    def __init__(self, pid: int, url: str, log: Path) -> None:
        self.pid = pid
        self.url = url
        self.log = log
        self.exited: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    @property
    def alive(self) -> bool:
        return not self.exited.done()

    async def ready(self) -> bool:
        """Wait until ``/healthz`` answers 200 (True) or the process has exited (False)."""
        deadline = time.monotonic() + START_TIMEOUT
        async with httpx.AsyncClient(timeout=1) as client:
            while time.monotonic() < deadline:
                if self.exited.done():
                    return False
                try:
                    if (await client.get(f"{self.url}/healthz")).status_code == 200:
                        return True
                except httpx.TransportError:
                    pass
                await asyncio.wait({self.exited}, timeout=0.05)
        raise AssertionError(f"helpline {self.pid} did not start in {START_TIMEOUT}s:\n{self.tail()}")

    async def wait_exit(self, timeout: float = 10) -> int:
        """The exit status (``-9``: killed by SIGKILL)."""
        try:
            return await asyncio.wait_for(asyncio.shield(self.exited), timeout)
        except TimeoutError:
            raise AssertionError(
                f"helpline {self.pid} still running after {timeout}s:\n{self.tail()}"
            ) from None

    async def stop(self) -> int:
        """SIGTERM, then the exit status (0 for a clean stop)."""
        if self.alive:
            os.kill(self.pid, signal.SIGTERM)
        return await self.wait_exit(15)

    def tail(self, lines: int = 40) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


class Launcher:
    """The fork server (:mod:`tests.reliability.preloaded`) and the lives it started."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self._proc = proc
        self._started: asyncio.Queue[int] = asyncio.Queue()
        self._lives: dict[int, Life] = {}
        self._early_exits: dict[int, int] = {}  # exited before start() registered the life
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def open(cls) -> Launcher:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.reliability.preloaded",
            cwd=ROOT,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        assert proc.stdout is not None
        first = await asyncio.wait_for(proc.stdout.readline(), 60)
        assert json.loads(first or b"null") == {"ready": True}, first
        return cls(proc)

    async def _read(self) -> None:
        assert self._proc.stdout is not None
        while line := await self._proc.stdout.readline():
            event: dict[str, Any] = json.loads(line)
            if "started" in event:
                self._started.put_nowait(event["started"])
            elif "exited" in event:
                life = self._lives.get(event["exited"])
                if life is None:
                    self._early_exits[event["exited"]] = event["status"]
                elif not life.exited.done():
                    life.exited.set_result(event["status"])

    async def start(self, env: dict[str, str], log: Path) -> Life:
        """Fork a ``helpline run`` with ``env`` (on top of this process's environment)."""
        assert self._proc.stdin is not None
        self._proc.stdin.write(json.dumps({"env": env, "log": str(log)}).encode() + b"\n")
        await self._proc.stdin.drain()
        pid = await asyncio.wait_for(self._started.get(), 10)
        life = Life(pid, f"http://127.0.0.1:{env['HELPLINE_HTTP__PORT']}", log)
        self._lives[pid] = life
        if pid in self._early_exits:
            life.exited.set_result(self._early_exits.pop(pid))
        return life

    async def close(self) -> None:
        """Stop the lives still running, then the fork server."""
        for life in self._lives.values():
            if life.alive:
                await life.stop()
        assert self._proc.stdin is not None
        self._proc.stdin.close()
        await self._proc.wait()
        await self._reader

"""A fork server for ``helpline run``: import Helpline once, then fork a fresh process per start.

The crash tests start Helpline some hundred times; importing it (every platform SDK, the
console, SQLAlchemy) costs seconds on a busy machine, so, like ``gunicorn --preload``, this
process imports everything once and forks: each child is a real, separate ``helpline run``
process (own memory, own sockets, own database connections) that starts in a fraction of a
second and can be killed like any other.

Protocol (JSON lines): stdin ``{"env": {...}, "log": "path"}`` starts a child with those
environment variables, its stdout and stderr going to ``log``; stdout answers ``{"ready": true}``
once the imports are done, ``{"started": pid}`` for each start and ``{"exited": pid,
"status": n}`` when a child ends (``-9`` for SIGKILL, like ``Popen.returncode``). Closing
stdin kills the children that are left and ends the server.
"""

from __future__ import annotations

import json
import os
import select
import signal
import sys
import threading
import traceback
from typing import Any

# Imported before any fork: the children reuse them.
import adapters.cli
import adapters.runtime

POLL_SECONDS = 0.02


def _say(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def _child(env: dict[str, str], log: str) -> None:
    """Become ``helpline run`` with ``env``; never returns."""
    code = 1
    try:
        out = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(out, 1)
        os.dup2(out, 2)
        os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.environ.update(env)
        code = adapters.cli.main(["run"])
    except BaseException:
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _status(raw: int) -> int:
    return -os.WTERMSIG(raw) if os.WIFSIGNALED(raw) else os.WEXITSTATUS(raw)


def main() -> None:
    """Serve start requests until stdin closes."""
    # A fork copies only the calling thread: with another thread alive (holding a lock) the
    # child could deadlock, so refuse instead.
    if threading.active_count() != 1:
        raise SystemExit(f"preloaded: {threading.active_count()} threads after the imports; cannot fork")
    _say({"ready": True})
    children: set[int] = set()
    pending = b""
    while True:
        readable, _, _ = select.select([0], [], [], POLL_SECONDS)
        if readable:
            chunk = os.read(0, 65536)
            if not chunk:
                break
            pending += chunk
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                request = json.loads(line)
                sys.stdout.flush()
                sys.stderr.flush()
                pid = os.fork()
                if pid == 0:
                    _child(request["env"], request["log"])
                children.add(pid)
                _say({"started": pid})
        for pid in list(children):
            done, raw = os.waitpid(pid, os.WNOHANG)
            if done:
                children.discard(pid)
                _say({"exited": pid, "status": _status(raw)})
    for pid in children:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)


if __name__ == "__main__":
    main()

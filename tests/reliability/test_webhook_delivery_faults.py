"""The integrator behind the webhook channel answers 429, 5xx, hangs, or refuses: retried or failed, never lost.

The real webhook channel delivers through the dispatcher and the outbox to a local HTTP
server that answers each attempt from a script. (The other platforms' 429, 5xx and refusals
are tested beside their channels; see the README's reliability report.)
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import orjson
from sqlalchemy import select, update
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from adapters.webhook_channel import WebhookChannel, WebhookSettings
from conversations.database import Database
from conversations.tables import OutboxEntry
from conversations.values import InboundMessage, Sender, Surface
from core.dispatcher import Dispatcher
from core.engine.basic import BasicEngine
from core.pipeline import Pipeline, utcnow
from core.settings import DispatcherSettings
from tests.e2e.test_crash_recovery import SECRET, FakePlatform
from tests.reliability.conftest import serving_platform

HANG = -1
SETTINGS = DispatcherSettings(
    poll_interval_seconds=0.01,
    max_attempts=5,
    backoff_base_seconds=30.0,
    backoff_max_seconds=60.0,
    send_timeout_seconds=5.0,
)


class ScriptedIntegrator(FakePlatform):
    """Answers attempt ``n`` with ``script[n]`` (a status, or ``HANG``); 200 once the script ends."""

    def __init__(self, script: list[int]) -> None:
        super().__init__()
        self.script = script
        self.keys: list[str] = []
        self.release = asyncio.Event()
        self.app = Starlette(routes=[Route("/deliver", self._answer, methods=["POST"])])

    async def _answer(self, request: Request) -> Response:
        self.keys.append(request.headers["idempotency-key"])
        status = self.script[len(self.keys) - 1] if len(self.keys) <= len(self.script) else 200
        if status == HANG:
            await self.release.wait()
            return Response(status_code=504)
        if status == 200:
            return await self.deliver(request)
        headers = {"Retry-After": "7"} if status == 429 else {}
        return Response(orjson.dumps({"error": status}), status_code=status, headers=headers)


async def one_reply(db: Database) -> None:
    message = InboundMessage(
        channel="webhook",
        thread_key="app-1",
        external_id="app-1:m1",
        sender=Sender("user-1"),
        text="my deposit has not arrived",
        surface=Surface.PRIVATE,
    )
    await Pipeline(db, BasicEngine("Acme")).receive(message)


async def row(db: Database) -> OutboxEntry:
    async with db.reader() as session:
        return (await session.scalars(select(OutboxEntry))).one()


async def due_now(db: Database) -> None:
    async with db.transaction() as session:
        await session.execute(update(OutboxEntry).values(next_attempt_at=utcnow() - timedelta(seconds=1)))


async def run_script(
    db: Database, script: list[int], rounds: int
) -> tuple[ScriptedIntegrator, list[OutboxEntry]]:
    integrator = ScriptedIntegrator(script)
    channel = WebhookChannel(
        WebhookSettings(
            enabled=True,
            secret=SECRET,
            deliver_url=f"http://127.0.0.1:{integrator.port}/deliver",
            # Short, so the hang costs little, yet long enough that a busy CI machine's stall
            # does not turn the first connect into a timeout (0.3 s did).
            timeout_seconds=1.0,
        )
    )
    await one_reply(db)
    states = []
    async with serving_platform(integrator):
        await channel.start(Pipeline(db, BasicEngine("Acme")))
        dispatcher = Dispatcher(db, {"webhook": channel}, SETTINGS)
        try:
            for _ in range(rounds):
                assert await dispatcher.dispatch_once() == 1
                states.append(await row(db))
                await due_now(db)
        finally:
            integrator.release.set()
            await channel.stop()
    return integrator, states


async def test_429_5xx_and_a_hang_are_retried_and_the_reply_delivered_once(db: Database) -> None:
    integrator, states = await run_script(db, [429, 503, HANG, 500], rounds=5)
    now = utcnow()
    rate_limited, unavailable, timed_out, server_error, sent = states
    assert rate_limited.status == "pending" and rate_limited.last_error == "429 Too Many Requests"
    # Retry-After is honoured (7 s), not the 30 s backoff.
    assert timedelta(seconds=5) < rate_limited.next_attempt_at - now <= timedelta(seconds=7)
    assert unavailable.status == "pending" and "503" in (unavailable.last_error or "")
    assert unavailable.next_attempt_at - now > timedelta(seconds=14)  # backoff, with jitter
    assert timed_out.status == "pending" and "ReadTimeout" in (timed_out.last_error or "")
    assert server_error.status == "pending" and "500" in (server_error.last_error or "")
    assert (sent.status, sent.attempts, sent.last_error) == ("sent", 5, None)
    assert sent.external_id == f"platform-{integrator.keys[0]}"
    # Every attempt carried the same key: the integrator shows the reply once.
    assert len(set(integrator.keys)) == 1 and len(integrator.keys) == 5
    assert len(integrator.accepted) == 1


async def test_a_refusal_fails_for_good_at_once(db: Database) -> None:
    integrator, [refused] = await run_script(db, [400], rounds=1)
    assert (refused.status, refused.attempts) == ("failed", 1)
    assert "400" in (refused.last_error or "")
    assert integrator.accepted == {}


async def test_5xx_without_end_gives_up_after_max_attempts_for_an_agent_to_see(db: Database) -> None:
    integrator, states = await run_script(db, [502] * SETTINGS.max_attempts, rounds=SETTINGS.max_attempts)
    assert [s.status for s in states] == ["pending"] * (SETTINGS.max_attempts - 1) + ["failed"]
    assert states[-1].attempts == SETTINGS.max_attempts and "502" in (states[-1].last_error or "")
    assert integrator.accepted == {}

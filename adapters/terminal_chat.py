"""``helpline chat``: the web chat conversation, in a terminal.

It runs the same pipeline on the same database as the server, on the ``webchat`` channel,
so agents see its conversations in the same inbox. The ``/chat`` page never joins a
session named in its URL: a conversation started here stays in the terminal. Buttons are
numbered: type the number to press one.
"""

from __future__ import annotations

import asyncio
import secrets
import sys

from conversations import repository as repo
from conversations.values import InboundMessage, Sender
from core.channels import TurnReply
from core.settings import Settings


async def chat(settings: Settings, session_id: str | None = None) -> None:
    """Read lines from stdin, print the bot's replies, until end of input or ``/quit``."""
    from adapters.runtime import open_runtime

    session_id = session_id or f"cli-{secrets.token_hex(4)}"
    async with open_runtime(settings) as runtime:
        dispatcher = asyncio.create_task(runtime.dispatcher.run())
        print(f"Helpline chat, session {session_id} (type /quit to leave)")
        buttons: list[tuple[str, str]] = []
        shown = 0
        counter = 0
        loop = asyncio.get_running_loop()
        try:
            while True:
                line = await loop.run_in_executor(None, _prompt)
                if line is None or line.strip() in ("/quit", "/exit"):
                    break
                line = line.strip()
                if not line:
                    continue
                action = None
                if line.isdigit() and 1 <= int(line) <= len(buttons):
                    action = buttons[int(line) - 1][1]
                counter += 1
                message = InboundMessage(
                    channel="webchat",
                    thread_key=session_id,
                    external_id=f"{session_id}:{secrets.token_hex(6)}-{counter}",
                    sender=Sender(external_id=session_id),
                    text="" if action else line,
                    action=action,
                )
                result = await runtime.pipeline.receive(message)
                buttons = _show(result.replies)
                shown = max([shown, *(r.id for r in result.replies)])
                async with runtime.db.reader() as session:
                    later = await repo.outbound_messages(session, "webchat", session_id, after_id=shown)
                for stored in later:
                    print(f"bot> {stored.text}")
                    shown = stored.id
        finally:
            runtime.dispatcher.stop()
            await dispatcher


def _prompt() -> str | None:
    try:
        return input("you> ")
    except EOFError:
        return None


def _show(replies: tuple[TurnReply, ...]) -> list[tuple[str, str]]:
    buttons: list[tuple[str, str]] = []
    for reply in replies:
        print(f"bot> {reply.text}")
        for label, action in reply.buttons:
            buttons.append((label, action))
            print(f"     [{len(buttons)}] {label}")
    sys.stdout.flush()
    return buttons

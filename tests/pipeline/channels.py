"""A channel written for the tests: a real implementation of the Channel port."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from conversations.values import OutboundMessage
from core.channels import Channel, ChannelError, Inbox


class RecordingChannel(Channel):
    """Records what it sends; ``failures`` decides, per attempt, whether to raise instead."""

    name = "test"

    def __init__(self, failures: Callable[[OutboundMessage, int], ChannelError | None] | None = None) -> None:
        self.sent: list[OutboundMessage] = []
        self.attempts: dict[int, int] = {}
        self._failures = failures
        self.delay = 0.0
        self.inbox: Inbox | None = None

    async def start(self, inbox: Inbox) -> None:
        self.inbox = inbox

    async def stop(self) -> None:
        self.inbox = None

    async def send(self, message: OutboundMessage) -> str:
        attempt = self.attempts.get(message.message_id, 0) + 1
        self.attempts[message.message_id] = attempt
        if self.delay:
            await asyncio.sleep(self.delay)
        if self._failures is not None:
            error = self._failures(message, attempt)
            if error is not None:
                raise error
        self.sent.append(message)
        return f"platform-{message.message_id}"

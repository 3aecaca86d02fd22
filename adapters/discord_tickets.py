"""Private ticket threads: which thread holds which ticket, and agents' messages in them.

Everything is kept in the channel's durable state (``ChannelContext.state``), so after a
restart the bot still knows its threads, does not open a second thread for a replayed
gateway event, and does not store an agent's message twice:

- ``thread:<thread id>`` → the ticket number, the customer and the support channel;
- ``escalated:<message or interaction id>`` → the thread opened for it;
- ``staff:<message id>`` → an agent's message already added to the ticket;
- ``echo:<thread id>:<digest>`` → the Discord message that already shows an agent's
  reply, so the dispatcher does not post the same words into the thread again.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from core.channels import ChannelState
from core.locks import KeyedLocks
from core.tickets import TicketService
from core.tickets.views import TicketView

CONSUMED = "-"


@dataclass(frozen=True, slots=True)
class TicketThread:
    """A private thread carrying one ticket's conversation."""

    thread_id: int
    ticket: str | None  # None for a moment: the thread opens before its ticket
    customer_id: int
    parent_id: int


class TicketThreads:
    """The registry of ticket threads and the agents' side of them.

    Args:
        state: The channel's durable cursors.
        tickets: The ticket service.

    Attributes:
        locks: Serialise the handling of one event (a replay waits for the original).

    """

    def __init__(self, state: ChannelState, tickets: TicketService) -> None:
        self._state = state
        self._tickets = tickets
        self._threads: dict[int, TicketThread | None] = {}
        self._agents: dict[int, int] = {}
        self.locks = KeyedLocks()

    @property
    def service(self) -> TicketService:
        """The ticket service agents' commands call."""
        return self._tickets

    async def get(self, thread_id: int) -> TicketThread | None:
        """The ticket thread with that id, or ``None`` if the channel is not one."""
        if thread_id not in self._threads:
            raw = await self._state.get(f"thread:{thread_id}")
            self._threads[thread_id] = _decode(thread_id, raw) if raw else None
        return self._threads[thread_id]

    async def add(self, thread: TicketThread) -> None:
        """Remember a new ticket thread."""
        value = {"ticket": thread.ticket, "customer": thread.customer_id, "parent": thread.parent_id}
        await self._state.put(f"thread:{thread.thread_id}", json.dumps(value))
        self._threads[thread.thread_id] = thread

    async def escalated(self, trigger_id: int) -> int | None:
        """The thread already opened for this message or interaction, if any."""
        raw = await self._state.get(f"escalated:{trigger_id}")
        return int(raw) if raw else None

    async def mark_escalated(self, trigger_id: int, thread_id: int) -> None:
        """Record that ``trigger_id`` was moved to ``thread_id``."""
        await self._state.put(f"escalated:{trigger_id}", str(thread_id))

    async def open_ticket(self, conversation_id: int, subject: str) -> TicketView:
        """Open the ticket a new thread carries."""
        return await self._tickets.open(
            conversation_id, subject or "Discord support request", None, actor="discord"
        )

    async def agent(self, user_id: int, name: str) -> int:
        """The agent id of a support-role member (created on their first action)."""
        if user_id not in self._agents:
            email = f"discord-{user_id}@users.discord.invalid"
            self._agents[user_id] = await self._tickets.operator(email, name)
        return self._agents[user_id]

    async def agent_reply(self, thread: TicketThread, message_id: int, agent_id: int, text: str) -> bool:
        """Add an agent's message in the thread to the ticket as their reply.

        Returns ``False`` for a message already added (a redelivered gateway event).
        """
        # Gateway events are handled concurrently: a replay must wait for the original.
        async with self.locks.hold(("staff", message_id)):
            if await self._state.get(f"staff:{message_id}"):
                return False
            await self._state.put(f"echo:{thread.thread_id}:{_digest(text)}", str(message_id))
            assert thread.ticket is not None, "a ticket thread's ticket is open before agents reply"
            await self._tickets.reply(thread.ticket, agent_id, text)
            await self._state.put(f"staff:{message_id}", thread.ticket)
            return True

    async def take_echo(self, thread_key: str, text: str) -> str | None:
        """The Discord id of the agent's own message showing ``text``, once; else ``None``."""
        key = f"echo:{thread_key}:{_digest(text)}"
        found = await self._state.get(key)
        if not found or found == CONSUMED:
            return None
        await self._state.put(key, CONSUMED)
        return found


def _digest(text: str) -> str:
    return hashlib.sha256(" ".join(text.split()).encode()).hexdigest()[:24]


def _decode(thread_id: int, raw: str) -> TicketThread:
    value = json.loads(raw)
    ticket = value.get("ticket")
    return TicketThread(
        thread_id, str(ticket) if ticket else None, int(value["customer"]), int(value["parent"])
    )

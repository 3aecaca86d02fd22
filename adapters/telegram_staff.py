"""The staff group: agents work tickets from a Telegram group.

Each new ticket is posted to the group (number, priority, subject, details and the
customer's latest messages). An agent's reply to that post — or to the bot's confirmation
under it — goes to the customer as the agent's reply, on whatever channel the customer
used (:meth:`TicketService.reply` queues it there). ``/take``, ``/solve`` and
``/note <text>`` act on the ticket of the post replied to, or on a number given first
(``/take HL-1001``); ``/reply HL-1001 <text>`` answers without replying to a post.

Only Telegram users listed in ``staff_agents`` (user id → agent e-mail) may act; anyone
else is told how to be added. Each staff message is acted on once: a redelivered update
finds its claim in the channel's state and is skipped. The new-ticket cursor is durable,
so a restart neither reposts nor skips a ticket; on the very first run the tickets already
waiting are not posted (the group would be flooded with history).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping

from telegram import Message

from core.channels import ChannelState
from core.tickets import TicketError, TicketService, TicketView

log = logging.getLogger(__name__)
CURSOR = "staff:last_ticket_id"
STAFF_COMMANDS = frozenset({"take", "solve", "note", "reply"})
TRANSCRIPT_MESSAGES = 3
QUOTE_CHARS = 500
# Post text, reply to (message id) → the posted message's id.
Post = Callable[[str, int | None], Awaitable[int]]


class StaffDesk:
    """Posts new tickets to the staff group and carries out the agents' replies and commands.

    Args:
        tickets: The ticket service.
        state: The channel's durable state (cursor, post → ticket map, claims).
        agents: Telegram user id → agent e-mail address.
        post: Sends a text to the staff group and returns its message id.

    """

    def __init__(
        self, tickets: TicketService, state: ChannelState, agents: Mapping[str, str], post: Post
    ) -> None:
        self._tickets = tickets
        self._state = state
        self._agents = agents
        self._post = post
        self._claiming = asyncio.Lock()

    async def run(self, interval: float) -> None:
        """Post new tickets every ``interval`` seconds until cancelled."""
        while True:
            try:
                await self.announce_new()
            except Exception:  # the feed must outlive one failed round (store or Telegram down)
                log.exception("telegram: posting new tickets to the staff group failed; retrying")
            await asyncio.sleep(interval)

    async def announce_new(self) -> int:
        """Post every ticket opened since the last round; returns how many were posted."""
        cursor = await self._state.get(CURSOR)
        waiting = await self._tickets.list("new")
        if cursor is None:
            await self._state.put(CURSOR, str(max((t.id for t in waiting), default=0)))
            return 0
        posted = 0
        for ticket in sorted((t for t in waiting if t.id > int(cursor)), key=lambda t: t.id):
            message_id = await self._post(await self._describe(ticket), None)
            await self._state.put(f"staff:post:{message_id}", ticket.number)
            await self._state.put(CURSOR, str(ticket.id))
            posted += 1
        return posted

    async def _describe(self, ticket: TicketView) -> str:
        lines = [
            f"New ticket {ticket.number} · {ticket.priority} · {ticket.category or 'general'}",
            ticket.subject,
        ]
        details = {k: v for k, v in ticket.details.items() if k != "priority_reasons"}
        lines += [f"{key}: {value}" for key, value in details.items()]
        detail = await self._tickets.get(ticket.number)
        said = [e.text for e in detail.transcript if e.direction == "in" and not e.internal]
        if said:
            lines.append("")
            lines += [f"» {text[:QUOTE_CHARS]}" for text in said[-TRANSCRIPT_MESSAGES:]]
        lines += ["", "Reply to this message to answer the customer · /take · /solve · /note <text>"]
        return "\n".join(lines)

    async def handle(self, message: Message) -> None:
        """Act on an agent's message in the staff group (anything else there is chat, ignored)."""
        user = message.from_user
        if user is None or user.is_bot:
            return
        text = (message.text or message.caption or "").strip()
        command, rest = _command(text)
        if command is not None and command not in STAFF_COMMANDS:
            return
        number, rest = await self._ticket_of(message, command, rest)
        if number is None:
            if command is not None:
                await self._answer(
                    message, f"Reply to a ticket's post, or name the ticket: /{command} HL-1001"
                )
            return
        if command is None and not text:
            return
        if not await self._claim(message):
            log.info("telegram: staff message %s was handled before", message.message_id)
            return
        email = self._agents.get(str(user.id))
        if email is None:
            await self._answer(
                message,
                f"Your Telegram account (id {user.id}) is not linked to an agent: add it to "
                "HELPLINE_TELEGRAM__STAFF_AGENTS.",
            )
            return
        verb = command or "reply"
        try:
            agent_id = await self._tickets.operator(email, user.full_name)
            answer = await self._act(verb, number, agent_id, email, rest if command else text)
        except TicketError as exc:
            answer = f"Could not {verb} {number}: {exc}"
        await self._answer(message, answer, number)

    async def _act(self, verb: str, number: str, agent_id: int, email: str, text: str) -> str:
        if verb == "take":
            view = await self._tickets.take(number, agent_id)
            return f"{view.number} is now {email}'s; the bot stays quiet in that conversation."
        if verb == "solve":
            view = await self._tickets.solve(number, actor=email)
            return f"{view.number} solved; the bot answers the customer again."
        if verb == "note":
            view = await self._tickets.note(number, agent_id, text)
            return f"Internal note added to {view.number}."
        view = await self._tickets.reply(number, agent_id, text)
        return f"Sent to the customer ({view.number})."

    async def _ticket_of(self, message: Message, command: str | None, rest: str) -> tuple[str | None, str]:
        first, _, after = rest.partition(" ")
        named = self._tickets.parse_ticket_number(first) if command is not None and first else None
        if named is not None:
            return self._tickets.ticket_label(named), after.strip()
        replied = message.reply_to_message
        if replied is None:
            return None, rest
        number = await self._state.get(f"staff:post:{replied.message_id}")
        if number is None and replied.from_user is not None and replied.from_user.is_bot:
            # A reply that came before the post was recorded (or after its record was lost):
            # the bot's own post and confirmations name their ticket.
            number = self._label_in(replied.text or "")
        return number, rest

    def _label_in(self, text: str) -> str | None:
        """The first ticket label (``HL-1001``, exactly as the bot writes it) in ``text``."""
        for word in text.split():
            word = word.strip("()[]·:;,.!?")
            number = self._tickets.parse_ticket_number(word)
            if number is not None and self._tickets.ticket_label(number) == word:
                return word
        return None

    async def _claim(self, message: Message) -> bool:
        key = f"staff:done:{message.message_id}"
        async with self._claiming:
            if await self._state.get(key) is not None:
                return False
            await self._state.put(key, "1")
        return True

    async def _answer(self, message: Message, text: str, number: str | None = None) -> None:
        posted = await self._post(text, message.message_id)
        if number is not None:
            # Replying to the confirmation works like replying to the ticket's post.
            await self._state.put(f"staff:post:{posted}", number)


def _command(text: str) -> tuple[str | None, str]:
    if not text.startswith("/"):
        return None, text
    head, _, rest = text[1:].partition(" ")
    return head.partition("@")[0].lower(), rest.strip()

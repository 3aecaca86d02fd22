"""Reading through the ticket service: a ticket's detail, the queue, the customer's status question."""

from __future__ import annotations

import builtins
from collections.abc import Callable, Collection

from conversations import ticket_queries as q
from core.tickets import transitions as st
from core.tickets.base import ServiceBase
from core.tickets.config import PRIORITIES
from core.tickets.customer_status import status_sentence
from core.tickets.errors import ConversationNotFound, InvalidTicketInput, UnknownAgent
from core.tickets.reading import detail_of, view_of, views_of
from core.tickets.views import TicketDetail, TicketView


class Lookup(ServiceBase):
    """Read-only use cases; they take no write lock."""

    async def get(self, number: str | int) -> TicketDetail:
        """A ticket with its events and transcript (internal notes marked ``internal``).

        Raises:
            TicketNotFound: No such ticket.

        """
        async with self._db.reader() as session:
            ticket = await self._find(session, number)
            return await detail_of(session, ticket, self._settings)

    async def ticket_of_conversation(self, conversation_id: int) -> TicketView | None:
        """The ticket a conversation is linked to, or ``None`` (channels open one only if none).

        Raises:
            ConversationNotFound: No such conversation.

        """
        async with self._db.reader() as session:
            conversation = await q.conversation(session, conversation_id)
            if conversation is None:
                raise ConversationNotFound(f"no conversation {conversation_id}")
            if conversation.ticket_id is None:
                return None
            ticket = await q.ticket_by_id(session, conversation.ticket_id)
            return await view_of(session, ticket, self._settings) if ticket is not None else None

    async def status_for_customer(self, conversation_id: int, lang: str) -> str:
        """A sentence for a customer asking about their ticket (the conversation's, else their latest).

        A ticket merged into another is followed to the one that is being worked.
        """
        async with self._db.reader() as session:
            conversation = await q.conversation(session, conversation_id)
            if conversation is None:
                raise ConversationNotFound(f"no conversation {conversation_id}")
            ticket = await q.ticket_by_id(session, conversation.ticket_id) if conversation.ticket_id else None
            if ticket is None:
                ticket = await q.latest_ticket_of(session, contact_id=conversation.contact_id)
            merged_from = None
            for _ in range(10):  # a chain of merges, bounded against a cycle in bad data
                target = ticket.details.get("merged_into") if ticket is not None else None
                found = await self._by_reference(session, target) if target else None
                if ticket is None or found is None:
                    break
                merged_from = merged_from or self._label(ticket)
                ticket = found
            if ticket is not None and merged_from is None and ticket.conversation_id != conversation_id:
                # The conversation was relinked by a merge: name the number this customer knows.
                for source in ticket.details.get("merged_from", []):
                    merged = await self._by_reference(session, source)
                    if merged is not None and merged.conversation_id == conversation_id:
                        merged_from = self._label(merged)
            view = await view_of(session, ticket, self._settings) if ticket is not None else None
        return status_sentence(view, lang, self._clock(), merged_from=merged_from)

    async def list(
        self,
        status: str | Collection[str] | None = None,
        *,
        assignee_id: int | None = None,
        priority: str | Collection[str] | None = None,
        contact_id: int | None = None,
        limit: int = 200,
    ) -> builtins.list[TicketView]:
        """Tickets matching the filters, the earliest response target first.

        Args:
            status: One status, several, ``"active"`` (every status still needing work) or ``None`` for all.
            assignee_id: Only this agent's tickets.
            priority: One priority or several.
            contact_id: Only this contact's tickets.
            limit: At most this many.

        Raises:
            InvalidTicketInput: An unknown status or priority.

        """
        statuses = _many(status, st.check_status, active=st.ACTIVE)
        priorities = _many(priority, check_priority)
        async with self._db.reader() as session:
            rows = await q.list_tickets(
                session,
                statuses=statuses,
                assignee_id=assignee_id,
                priorities=priorities,
                contact_id=contact_id,
                limit=limit,
            )
            return await views_of(session, rows, self._settings)

    async def operator(self, email: str = "operator@localhost", display_name: str = "Operator") -> int:
        """The id of the agent with that e-mail address, created if missing (the CLI's operator)."""
        async with self._db.transaction() as session:
            return (await q.ensure_agent(session, email, display_name, self._clock())).id

    async def agent_id(self, email: str) -> int:
        """The id of the active agent with that e-mail address.

        Raises:
            UnknownAgent: None has it.

        """
        async with self._db.reader() as session:
            agent = await q.agent_by_email(session, email)
        if agent is None:
            raise UnknownAgent(f"no active agent has the e-mail address {email!r}")
        return agent.id


def check_priority(priority: str) -> str:
    """Return ``priority`` if it is a known priority.

    Raises:
        InvalidTicketInput: It is not.

    """
    if priority not in PRIORITIES:
        raise InvalidTicketInput(f"unknown priority {priority!r}; priorities are {', '.join(PRIORITIES)}")
    return priority


def _many(
    value: str | Collection[str] | None, check: Callable[[str], str], active: Collection[str] = ()
) -> builtins.list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return builtins.list(active) if active and value == "active" else [check(value)]
    return [check(v) for v in value]

"""Who works a ticket: an agent takes it or is given it, and the bot steps back from its conversation."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from conversations import ticket_queries as q
from conversations.tables import Agent
from core.tickets import handoff
from core.tickets import transitions as st
from core.tickets.base import ServiceBase
from core.tickets.errors import InvalidTransition, UnknownAgent
from core.tickets.reading import view_of
from core.tickets.views import TicketView


class Assignment(ServiceBase):
    """Taking and assigning tickets."""

    async def take(self, number: str | int, agent_id: int) -> TicketView:
        """An agent takes a ticket: it becomes theirs, ``new`` becomes ``open``, the bot steps back.

        Raises:
            TicketNotFound: No such ticket.
            UnknownAgent: No such active agent.
            InvalidTransition: The ticket is solved or closed.

        """
        return await self._assign(number, agent_id, None, "taken")

    async def assign(self, number: str | int, agent_id: int, actor: str) -> TicketView:
        """Give a ticket to an agent; the bot steps back from its conversation.

        Raises:
            TicketNotFound: No such ticket.
            UnknownAgent: No such active agent.
            InvalidTransition: The ticket is solved or closed.

        """
        return await self._assign(number, agent_id, actor, "assigned")

    async def _assign(self, number: str | int, agent_id: int, actor: str | None, kind: str) -> TicketView:
        now = self._clock()
        async with self._db.transaction() as session:
            ticket = await self._locked(session, number)
            agent = await agent_of(session, agent_id)
            label = self._label(ticket)
            if ticket.status not in st.ACTIVE:
                raise InvalidTransition(f"cannot assign {label}: it is {ticket.status} (reopen it first)")
            previous = ticket.assignee_id
            ticket.assignee_id = agent.id
            data: dict[str, object] = {
                "agent_id": agent.id,
                "agent": agent.email,
                "previous_agent_id": previous,
            }
            if kind == "taken" and ticket.status == st.NEW:
                ticket.status = st.OPEN
                data["status"] = {"from": st.NEW, "to": st.OPEN}
            ticket.updated_at = now
            changed = await handoff.to_agent(session, ticket, agent.id)
            await q.add_event(session, ticket.id, kind, actor or agent.email, data, now)
            view = await view_of(session, ticket, self._settings)
        self._changed([changed])
        return view


async def agent_of(session: AsyncSession, agent_id: int) -> Agent:
    """The active agent with that id.

    Raises:
        UnknownAgent: There is none.

    """
    agent = await q.agent_by_id(session, agent_id)
    if agent is None:
        raise UnknownAgent(f"no active agent has id {agent_id}")
    return agent

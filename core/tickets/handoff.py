"""Who answers a ticket's conversation: the bot, or the agent working the ticket.

Each function changes the conversation row in the caller's transaction and returns its
``(channel, thread_key)`` when it changed, so the caller can tell the pipeline to drop
its cached state after the commit.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from conversations import ticket_queries as q
from conversations.tables import Conversation, Ticket
from core.tickets.base import ThreadKey

HUMAN = "human"
BOT = "bot"


async def to_agent(session: AsyncSession, ticket: Ticket, agent_id: int) -> ThreadKey | None:
    """An agent works the ticket: the bot stops answering its conversation."""
    conversation = await _conversation(session, ticket)
    if (conversation.status, conversation.assigned_agent_id, conversation.ticket_id) == (
        HUMAN,
        agent_id,
        ticket.id,
    ):
        return None
    conversation.status = HUMAN
    conversation.assigned_agent_id = agent_id
    conversation.ticket_id = ticket.id
    return conversation.channel, conversation.thread_key


async def to_bot(session: AsyncSession, ticket: Ticket) -> ThreadKey | None:
    """The ticket is done: the bot answers the conversation again.

    The conversation keeps its link to the ticket (so the customer can ask for its status)
    unless it has since moved on to another ticket, in which case it is left alone.
    """
    conversation = await _conversation(session, ticket)
    if conversation.ticket_id not in (ticket.id, None):
        return None
    if conversation.status == BOT and conversation.assigned_agent_id is None:
        return None
    conversation.status = BOT
    conversation.assigned_agent_id = None
    return conversation.channel, conversation.thread_key


async def relink(session: AsyncSession, ticket: Ticket) -> ThreadKey | None:
    """Point the conversation at ``ticket`` again (reopened); its assignee, if any, takes over."""
    if ticket.assignee_id is not None:
        return await to_agent(session, ticket, ticket.assignee_id)
    conversation = await _conversation(session, ticket)
    if conversation.ticket_id == ticket.id:
        return None
    conversation.ticket_id = ticket.id
    return conversation.channel, conversation.thread_key


async def move_link(session: AsyncSession, source: Ticket, target: Ticket) -> ThreadKey | None:
    """After a merge, a conversation that pointed at ``source`` points at ``target``."""
    conversation = await _conversation(session, source)
    if conversation.ticket_id != source.id:
        return None
    conversation.ticket_id = target.id
    return conversation.channel, conversation.thread_key


async def _conversation(session: AsyncSession, ticket: Ticket) -> Conversation:
    conversation = await q.conversation(session, ticket.conversation_id, lock=True)
    # The foreign key guarantees it exists.
    assert conversation is not None
    return conversation

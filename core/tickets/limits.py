"""The daily ticket limit of one contact, against a flood of new tickets.

Beyond ``max_tickets_per_day`` tickets opened in 24 hours, a contact's next request opens
none: it is added to their latest ticket still being worked (the conversation is linked to
it, as a merge does), or, when they have none, they are told politely and the bot answers
the conversation again. Either way the ``open_ticket`` job completes: no retry loop.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from conversations import ticket_queries as q
from conversations.tables import Conversation, Ticket
from core.tickets import transitions as st
from core.tickets.acknowledgement import acknowledgement

DAY = timedelta(days=1)

_REFUSED = {
    "en": "You have opened {count} support requests in the last 24 hours, the most we can take from one "
    "customer in a day, so no new ticket was opened. What you sent is saved: please wait for our "
    "answers, or write again tomorrow.",
    "zh": "您在过去 24 小时内已提交 {count} 个工单，已达到每位用户每天的上限，因此未创建新工单。"
    "您发送的内容已保存：请等待客服回复，或明天再联系我们。",
}


@dataclass(frozen=True, slots=True)
class OverLimit:
    """What became of a request over the limit.

    Attributes:
        ticket: The ticket it was added to, or ``None`` when the customer was only told.
        text: The reply to the customer.

    """

    ticket: Ticket | None
    text: str


async def redirect_request(
    session: AsyncSession,
    conversation: Conversation,
    details: Mapping[str, Any],
    reason: Any,
    language: str,
    now: datetime,
    label: Callable[[Ticket], str],
    max_per_day: int,
) -> OverLimit:
    """Add the request to the contact's latest active ticket, or tell them politely.

    Args:
        session: The ``open_ticket`` job's transaction.
        conversation: The conversation that asked for a ticket (locked).
        details: The facts the bot gathered.
        reason: Why the bot asked for a ticket, for the audit trail.
        language: The reply's language.
        now: The job's time.
        label: A ticket's number as customers see it.
        max_per_day: The limit reached, for the reply.

    """
    latest = await q.latest_ticket_in(session, conversation.contact_id, st.ACTIVE)
    if latest is None:
        # No ticket to add to: the bot answers the conversation again rather than leave it
        # waiting for a person with no ticket behind it.
        conversation.status = "bot"
        conversation.assigned_agent_id = None
        lang = "zh" if language.lower().startswith("zh") else "en"
        return OverLimit(None, _REFUSED[lang].format(count=max_per_day))
    latest.details = {
        **latest.details,
        "requests": [*latest.details.get("requests", []), {**details, "conversation_id": conversation.id}],
    }
    latest.updated_at = now
    await q.add_event(
        session,
        latest.id,
        "customer_request",
        "bot",
        {"reason": reason, "conversation_id": conversation.id, "over_daily_limit": True},
        now,
    )
    conversation.ticket_id = latest.id
    return OverLimit(latest, acknowledgement(label(latest), None, language, added=True))

"""The engine's entry point: one turn in, one decision out.

The engine decides from the turn alone and writes nothing itself: the pipeline stores the
inbound message, the replies and the new conversation state together, in one transaction.
A turn whose message turns out to be a redelivery is simply discarded, so deciding twice
is harmless.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from conversations.repository import ConversationRecord
from conversations.survey_answers import SurveyAnswer
from conversations.values import Button, InboundMessage
from core.safety import Finding


@dataclass(frozen=True, slots=True)
class Turn:
    """A customer message to answer.

    Attributes:
        message: The inbound message as the channel delivered it.
        text: The text as stored (after redaction): the only text the engine may use.
        conversation: The conversation's state before this turn.
        redactions: The secrets removed from the text (kinds and positions, never values).

    """

    message: InboundMessage
    text: str
    conversation: ConversationRecord
    redactions: tuple[Finding, ...] = ()


@dataclass(frozen=True, slots=True)
class Reply:
    """A message from the bot, with optional quick-reply buttons.

    Attributes:
        text: What the customer reads.
        buttons: Quick replies.
        topic: The knowledge-base topic it answers, if any (reports; channels that review
            public replies auto-post only topics marked safe).

    """

    text: str
    buttons: tuple[Button, ...] = ()
    topic: str | None = None


@dataclass(frozen=True, slots=True)
class TicketRequest:
    """The turn asks for a ticket: opened (with an acknowledgement) after the turn is stored.

    Attributes:
        subject: A one-line summary.
        category: The ticket category (drives priority and routing).
        details: What the bot collected (form slots).
        reason: Why: ``"form:<id>"`` or ``"human"``.
        base_priority: Where the priority rules start when the category has no rule of
            its own (a form's priority); the rules still raise it.

    """

    subject: str
    category: str | None
    details: Mapping[str, Any]
    reason: str
    base_priority: str | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    """What the engine decided for a turn.

    Attributes:
        replies: Messages to send, in order (may be empty: the bot stays quiet).
        language: The conversation's language from now on, if it changed.
        status: The conversation's new status (``bot``, ``human``...), if it changed.
        bot_state: The engine's new private state, if it changed.
        slots: Collected details, if they changed.
        ticket: A ticket to open (or to add to, if the conversation has an active one).
        survey: An answer to a survey (rating, comment, opt-out, reopen), stored with the turn.

    """

    replies: tuple[Reply, ...] = ()
    language: str | None = None
    status: str | None = None
    bot_state: Mapping[str, Any] | None = None
    slots: Mapping[str, Any] | None = None
    ticket: TicketRequest | None = None
    survey: SurveyAnswer | None = None

    def changes(self) -> dict[str, Any]:
        """The conversation fields this decision changes."""
        changes: dict[str, Any] = {}
        if self.language is not None:
            changes["language"] = self.language
        if self.status is not None:
            changes["status"] = self.status
        if self.bot_state is not None:
            changes["bot_state"] = dict(self.bot_state)
        if self.slots is not None:
            changes["slots"] = dict(self.slots)
        return changes


class Engine(abc.ABC):
    """Decides the answer to a turn."""

    @abc.abstractmethod
    async def respond(self, turn: Turn) -> Decision:
        """Answer one customer message."""

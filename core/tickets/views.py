"""What the ticket service returns: frozen values, detached from the database session."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class TicketView:
    """A ticket as an agent's queue shows it.

    Attributes:
        number: The human-friendly number, e.g. ``"HL-1001"``.
        id: The row id (what ``conversations.ticket_id`` holds).
        assignee: The assigned agent's e-mail address.
        sla_due_at: When the first response is due.
        details: Category-specific facts gathered by the bot (order id, txid, asset...);
            ``priority_reasons`` and, after a merge, ``merged_into``/``merged_from``.

    """

    number: str
    id: int
    conversation_id: int
    contact_id: int
    subject: str
    category: str | None
    priority: str
    status: str
    assignee_id: int | None
    assignee: str | None
    details: Mapping[str, Any]
    sla_due_at: datetime | None
    first_response_at: datetime | None
    solved_at: datetime | None
    created_at: datetime
    updated_at: datetime

    def overdue(self, now: datetime) -> bool:
        """The first response is late: none yet and the target has passed."""
        return self.first_response_at is None and self.sla_due_at is not None and self.sla_due_at < now

    def as_json(self) -> dict[str, Any]:
        """A JSON-compatible mapping (datetimes in ISO 8601)."""
        return {
            "number": self.number,
            "id": self.id,
            "conversation_id": self.conversation_id,
            "contact_id": self.contact_id,
            "subject": self.subject,
            "category": self.category,
            "priority": self.priority,
            "status": self.status,
            "assignee_id": self.assignee_id,
            "assignee": self.assignee,
            "details": dict(self.details),
            "sla_due_at": _iso(self.sla_due_at),
            "first_response_at": _iso(self.first_response_at),
            "solved_at": _iso(self.solved_at),
            "created_at": _iso(self.created_at),
            "updated_at": _iso(self.updated_at),
        }


@dataclass(frozen=True, slots=True)
class TicketEventView:
    """One entry of the audit trail."""

    kind: str
    actor: str
    data: Mapping[str, Any]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class TranscriptEntry:
    """One message of a ticket's conversation; ``internal`` marks agents' notes the customer never sees."""

    message_id: int
    conversation_id: int
    direction: str
    author: str
    agent_id: int | None
    text: str
    internal: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class TicketDetail:
    """A ticket with its audit trail and the transcript of its conversation(s), oldest first."""

    ticket: TicketView
    events: tuple[TicketEventView, ...]
    transcript: tuple[TranscriptEntry, ...]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None

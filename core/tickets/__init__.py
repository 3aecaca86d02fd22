"""Tickets: opening them from a conversation, the agents' actions, the customer's status question."""

from core.tickets.config import TicketSettings, load_ticket_settings
from core.tickets.errors import (
    ConversationNotFound,
    InvalidTicketInput,
    InvalidTransition,
    TicketError,
    TicketNotFound,
    UnknownAgent,
)
from core.tickets.service import TicketService
from core.tickets.views import TicketDetail, TicketEventView, TicketView, TranscriptEntry

__all__ = [
    "ConversationNotFound",
    "InvalidTicketInput",
    "InvalidTransition",
    "TicketDetail",
    "TicketError",
    "TicketEventView",
    "TicketNotFound",
    "TicketService",
    "TicketSettings",
    "TicketView",
    "TranscriptEntry",
    "UnknownAgent",
    "load_ticket_settings",
]

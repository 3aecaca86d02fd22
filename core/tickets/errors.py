"""Errors of the ticket service, each with a message an agent or an operator can act on.

``TicketError``
 └── ``TicketNotFound`` — no ticket has that number.
 └── ``InvalidTransition`` — the ticket cannot go to that status (the message lists what it can).
 └── ``UnknownAgent`` — no active agent has that id or e-mail address.
 └── ``InvalidTicketInput`` — an unknown priority, an empty reply, a ticket merged into itself.
 └── ``ConversationNotFound`` — a ticket opened for a conversation that does not exist.
"""


class TicketError(Exception):
    """Base class of every ticket error."""


class TicketNotFound(TicketError):
    """No ticket has that number."""


class InvalidTransition(TicketError):
    """The ticket's status does not allow the change."""


class UnknownAgent(TicketError):
    """No active agent matches."""


class InvalidTicketInput(TicketError):
    """An argument is not acceptable (unknown priority or status, empty text, merging into itself)."""


class ConversationNotFound(TicketError):
    """No conversation has that id."""

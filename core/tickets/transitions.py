"""Ticket statuses and the changes between them.

``new`` → an agent works it (``open``), waits for the customer (``pending_customer``) or
for someone else (``on_hold``) → ``solved`` → ``closed``. A solved ticket can be reopened;
a closed one is final (a new contact opens a new ticket).
"""

from __future__ import annotations

from core.tickets.errors import InvalidTicketInput, InvalidTransition

NEW = "new"
OPEN = "open"
PENDING_CUSTOMER = "pending_customer"
ON_HOLD = "on_hold"
SOLVED = "solved"
CLOSED = "closed"
STATUSES = (NEW, OPEN, PENDING_CUSTOMER, ON_HOLD, SOLVED, CLOSED)
# Statuses in which the ticket still needs work (the queue an agent sees).
ACTIVE = (NEW, OPEN, PENDING_CUSTOMER, ON_HOLD)

ALLOWED: dict[str, tuple[str, ...]] = {
    NEW: (OPEN, PENDING_CUSTOMER, ON_HOLD, SOLVED, CLOSED),
    OPEN: (PENDING_CUSTOMER, ON_HOLD, SOLVED, CLOSED),
    PENDING_CUSTOMER: (OPEN, ON_HOLD, SOLVED, CLOSED),
    ON_HOLD: (OPEN, PENDING_CUSTOMER, SOLVED, CLOSED),
    SOLVED: (OPEN, CLOSED),
    CLOSED: (),
}


def check_status(status: str) -> str:
    """Return ``status`` if it is a known status.

    Raises:
        InvalidTicketInput: It is not.

    """
    if status not in STATUSES:
        raise InvalidTicketInput(f"unknown status {status!r}; statuses are {', '.join(STATUSES)}")
    return status


def check_transition(label: str, current: str, target: str) -> None:
    """Refuse a change the lifecycle does not allow.

    Args:
        label: The ticket's number, for the message.
        current: Its status now.
        target: The status asked for.

    Raises:
        InvalidTicketInput: ``target`` is not a status.
        InvalidTransition: ``current`` cannot go to ``target``; the message lists what it can go to.

    """
    check_status(target)
    if target in ALLOWED[current]:
        return
    if current == target:
        raise InvalidTransition(f"{label} is already {current}")
    allowed = ALLOWED[current]
    options = f"it can go to {', '.join(allowed)}" if allowed else "a closed ticket is final"
    raise InvalidTransition(f"{label} is {current} and cannot become {target}: {options}")


def ensure_active(label: str, current: str, action: str) -> None:
    """Refuse an action (a reply, a merge) on a ticket that is closed.

    Raises:
        InvalidTransition: The ticket is closed.

    """
    if current == CLOSED:
        raise InvalidTransition(f"cannot {action} {label}: it is closed (a closed ticket is final)")

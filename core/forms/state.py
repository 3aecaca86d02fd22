"""A form's progress as JSON-able state, and the result of one step."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from core.engine.base import Reply

COLLECT, CONFIRM, EDIT = "collect", "confirm", "edit"


class Outcome(StrEnum):
    """Where a form stands after a step."""

    CONTINUE = "continue"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    ESCALATED = "escalated"
    INTERRUPTED = "interrupted"


@dataclass(frozen=True, slots=True)
class FormStep:
    """What one step of a form produced.

    Attributes:
        replies: Messages to send, in order.
        state: The form's new state (JSON-able); store it in ``bot_state`` and pass it to the next step.
        outcome: Whether the form goes on, is done, or hands the message back to the caller.
        details: For COMPLETED and ESCALATED (and CANCELLED/EXPIRED, for the record): the form id, ticket
            category and priority and the collected values, ready for a ticket.

    """

    replies: tuple[Reply, ...]
    state: Mapping[str, Any]
    outcome: Outcome
    details: Mapping[str, Any] | None = None


@dataclass(slots=True)
class Progress:
    """Mutable working copy of a form's state during one step (never leaves the runner)."""

    form: str
    started: datetime
    updated: datetime
    values: dict[str, Any] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    slot: str | None = None
    phase: str = COLLECT

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> Progress:
        """Read a state produced by :meth:`to_state`; raise ``ValueError`` if it is not one."""
        try:
            return cls(
                form=str(state["form"]),
                started=datetime.fromisoformat(str(state["started"])),
                updated=datetime.fromisoformat(str(state["updated"])),
                values=dict(state.get("values") or {}),
                skipped=list(state.get("skipped") or []),
                slot=state.get("slot"),
                phase=str(state.get("phase") or COLLECT),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"not a form state: {exc}") from exc

    def to_state(self) -> dict[str, Any]:
        """The state as plain JSON data."""
        return {
            "form": self.form,
            "values": dict(self.values),
            "skipped": list(self.skipped),
            "slot": self.slot,
            "phase": self.phase,
            "started": self.started.isoformat(),
            "updated": self.updated.isoformat(),
        }

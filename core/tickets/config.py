"""Ticket settings: ``config/tickets.yaml``, overridden by the ``tickets`` section of the settings.

The section comes from ``HELPLINE_TICKETS__*`` variables (see :mod:`core.settings`), so an
operator can change a response target without editing the file.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from core.settings import ROOT, SettingsError, read_yaml_mapping

TICKETS_FILE = ROOT / "config" / "tickets.yaml"
PRIORITIES = ("low", "normal", "high", "urgent")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PriorityRules(_Section):
    """What decides a new ticket's priority (see :func:`core.tickets.priority.decide_priority`)."""

    default: str = "normal"
    categories: dict[str, str] = Field(default_factory=dict)
    urgent_keywords: tuple[str, ...] = ()
    emotional_keywords: tuple[str, ...] = ()
    exclamation_run: int = Field(3, ge=2)
    shouting_min_letters: int = Field(12, ge=1)
    shouting_ratio: float = Field(0.7, gt=0, le=1)
    repeat_window_days: float = Field(7, ge=0)

    @model_validator(mode="after")
    def _known_priorities(self) -> PriorityRules:
        for where, value in [
            ("default", self.default),
            *((f"categories.{k}", v) for k, v in self.categories.items()),
        ]:
            if value not in PRIORITIES:
                raise ValueError(f"{where}: {value!r} is not a priority ({', '.join(PRIORITIES)})")
        return self


class TicketSettings(_Section):
    """Numbering, response targets and priority rules of tickets."""

    number_prefix: str = "HL-"
    number_start: int = Field(1000, ge=0)
    sla_hours: dict[str, float] = Field(
        default_factory=lambda: {"urgent": 1.0, "high": 4.0, "normal": 24.0, "low": 72.0}
    )
    priority: PriorityRules = PriorityRules()

    @model_validator(mode="after")
    def _every_priority_has_a_target(self) -> TicketSettings:
        missing = [p for p in PRIORITIES if p not in self.sla_hours]
        unknown = [p for p in self.sla_hours if p not in PRIORITIES]
        if missing or unknown:
            raise ValueError(
                f"sla_hours needs exactly {', '.join(PRIORITIES)} (missing {missing}, unknown {unknown})"
            )
        if any(hours <= 0 for hours in self.sla_hours.values()):
            raise ValueError("sla_hours must be positive")
        return self

    def sla(self, priority: str) -> timedelta:
        """The time to first response for a priority."""
        return timedelta(hours=self.sla_hours[priority])

    def format_number(self, number: int) -> str:
        """``1001`` → ``"HL-1001"``."""
        return f"{self.number_prefix}{number}"

    def parse_number(self, reference: str | int) -> int | None:
        """``"HL-1001"``, ``"hl-1001"``, ``"#1001"``, ``"1001"`` or ``1001`` → ``1001``; ``None`` if not a number."""
        if isinstance(reference, int):
            return reference
        text = reference.strip().lstrip("#")
        if text.upper().startswith(self.number_prefix.upper()):
            text = text[len(self.number_prefix) :]
        return int(text) if text.isascii() and text.isdigit() else None


def load_ticket_settings(
    overrides: Mapping[str, Any] | None = None, path: Path | None = TICKETS_FILE
) -> TicketSettings:
    """Read ``config/tickets.yaml`` and apply overrides (e.g. ``settings.section("tickets")``).

    Raises:
        SettingsError: The file or a value is invalid; the message names it.

    """
    data = read_yaml_mapping(path) if path is not None else {}
    merged = _merge(data, overrides or {})
    try:
        return TicketSettings.model_validate(merged)
    except ValidationError as exc:
        problems = "; ".join(
            f"tickets.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
            if e["loc"]
            else f"tickets: {e['msg']}"
            for e in exc.errors()
        )
        raise SettingsError(f"invalid ticket settings: {problems}") from None


def _merge(base: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in overrides.items():
        current = merged.get(key)
        if isinstance(current, Mapping) and isinstance(value, Mapping):
            merged[key] = _merge(current, value)
        else:
            merged[key] = value
    return merged

"""Form definitions (``config/forms.yaml``) as frozen values."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from core.validation import Reason

#: Bilingual display text (same shape as a validation :class:`~core.validation.Reason`).
Text = Reason


class SlotKind(StrEnum):
    """The validator that checks a slot's answer."""

    ASSET = "asset"
    NETWORK = "network"
    AMOUNT = "amount"
    TXID = "txid"
    ADDRESS = "address"
    MEMO = "memo"
    DEPOSIT_TIME = "deposit_time"
    EMAIL = "email"
    UID = "uid"
    ORDER_ID = "order_id"
    PAIR = "pair"
    TEXT = "text"


@dataclass(frozen=True, slots=True)
class SlotSpec:
    """One detail a form collects.

    Attributes:
        name: Key of the value in the collected details (unique within the form).
        kind: Which validator checks the answer.
        required: Whether the customer may skip it.
        label: Short name shown in the summary ("Network" / "网络").
        prompt: The question asked.
        aliases: Words a customer uses to name the slot ("amount", "金额"), for corrections and edits.
        hint: Optional extra help shown after a rejected answer.

    """

    name: str
    kind: SlotKind
    required: bool
    label: Text
    prompt: Text
    aliases: tuple[str, ...] = ()
    hint: Text | None = None


@dataclass(frozen=True, slots=True)
class FormSpec:
    """A detail-collection form.

    Attributes:
        id: Form name, as KB topics refer to it.
        title: What the form is about, for the greeting and the ticket.
        topics: KB topic ids that start it.
        category: Ticket category of the ticket it opens.
        priority: Default ticket priority.
        intro: First sentence said when the form starts.
        slots: The details, in the order they are asked.

    """

    id: str
    title: Text
    topics: tuple[str, ...]
    category: str
    priority: str
    intro: Text
    slots: tuple[SlotSpec, ...]

    def slot(self, name: str) -> SlotSpec:
        """Return the slot called ``name``; raise ``KeyError`` if the form has none."""
        for slot in self.slots:
            if slot.name == name:
                return slot
        raise KeyError(f"form {self.id} has no slot {name!r}")


@dataclass(frozen=True, slots=True)
class FormCatalog:
    """Every form, and how long a form may stay idle before it expires."""

    forms: tuple[FormSpec, ...]
    idle_timeout: timedelta
    source: str = "<memory>"

    def get(self, form_id: str) -> FormSpec:
        """Return the form ``form_id``; raise ``KeyError`` if unknown."""
        for form in self.forms:
            if form.id == form_id:
                return form
        raise KeyError(f"unknown form {form_id!r} in {self.source}")

    def for_topic(self, topic_id: str) -> FormSpec | None:
        """Return the form a KB topic starts, or ``None``."""
        return next((f for f in self.forms if topic_id in f.topics), None)

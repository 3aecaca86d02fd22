"""The priority of a new ticket, decided by the rules of ``config/tickets.yaml``.

A compromised account, a withdrawal the customer did not make or funds at risk (by
category or by wording) make a ticket urgent. A repeated contact or strongly emotional
text raises the priority one step. The reasons are kept so an agent sees why.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from core.tickets.config import PRIORITIES, PriorityRules


@dataclass(frozen=True, slots=True)
class PriorityDecision:
    """A priority and why it was chosen."""

    priority: str
    reasons: tuple[str, ...]


def decide_priority(
    rules: PriorityRules,
    category: str | None,
    texts: Iterable[str],
    *,
    repeated_contact: bool,
    base: str | None = None,
) -> PriorityDecision:
    """Decide the priority of a new ticket.

    Args:
        rules: The configured rules.
        category: The ticket's category, if any.
        texts: What the customer said: the subject, details and recent messages.
        repeated_contact: The contact opened another ticket within the repeat window.
        base: The priority to start from when the category has no rule (a form's own
            priority); the rules' default otherwise.

    """
    reasons: list[str] = []
    text = "\n".join(texts)
    priority = base if base in PRIORITIES else rules.default
    if base in PRIORITIES and base != rules.default:
        reasons.append(f"requested as {base}")
    if category is not None and category in rules.categories:
        priority = rules.categories[category]
        reasons.append(f"category {category}: {priority}")
    if priority != "urgent":
        hit = first_keyword(rules.urgent_keywords, text)
        if hit is not None:
            priority = "urgent"
            reasons.append(f"urgent wording: {hit!r}")
    raisers: list[str] = []
    if repeated_contact:
        raisers.append(f"repeated contact within {rules.repeat_window_days:g} days")
    emotion = emotional_signal(rules, text)
    if emotion is not None:
        raisers.append(f"strongly emotional text: {emotion}")
    if raisers:
        # Either signal raises one step; both together still raise one step.
        raised = PRIORITIES[min(PRIORITIES.index(priority) + 1, len(PRIORITIES) - 1)]
        reasons.extend(f"{r} (raised to {raised})" for r in raisers)
        priority = raised
    return PriorityDecision(priority, tuple(reasons))


def emotional_signal(rules: PriorityRules, text: str) -> str | None:
    """Why ``text`` reads as strongly emotional, or ``None``."""
    hit = first_keyword(rules.emotional_keywords, text)
    if hit is not None:
        return repr(hit)
    if re.search(f"[!！]{{{rules.exclamation_run},}}", text):
        return "repeated exclamation marks"
    letters = [c for c in text if c.isascii() and c.isalpha()]
    if len(letters) >= rules.shouting_min_letters:
        capitals = sum(1 for c in letters if c.isupper())
        if capitals / len(letters) >= rules.shouting_ratio:
            return "written in capitals"
    return None


def first_keyword(keywords: Iterable[str], text: str) -> str | None:
    """The first keyword found in ``text``: whole words for Latin script, substrings for Chinese."""
    folded = text.casefold().replace("\u2019", "'")
    for keyword in keywords:
        if _pattern(keyword.casefold()).search(folded):
            return keyword
    return None


@lru_cache(maxsize=1024)
def _pattern(keyword: str) -> re.Pattern[str]:
    # Flexible whitespace, so "unauthorized\nwithdrawal" matches too.
    body = r"\s+".join(re.escape(part) for part in keyword.split())
    if keyword.isascii():
        return re.compile(rf"(?<!\w){body}(?!\w)")
    return re.compile(body)

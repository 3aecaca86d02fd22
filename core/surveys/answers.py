"""The engine's side of a survey: a customer's press or reply becomes a :class:`SurveyAnswer`.

Pure like the engine: it reads the turn and the survey state the survey job left in
``bot_state["survey"]`` and returns a decision; the turn writer stores the answer with
its guards. States: ``asked`` (waiting for a rating) → ``rated`` (the next free text is the
optional comment) → ``done``. A press on a survey that is no longer current (answered,
expired, replaced by a newer one) is acknowledged and changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from conversations.survey_answers import LOW_RATING, SurveyAnswer
from conversations.values import Button
from core.engine.base import Decision, Reply, Turn
from core.surveys.texts import language, texts

PREFIX = "survey:"
STATE = "survey"
OPT_OUT = "optout"
SKIP = "skip"
REOPEN = "reopen"
ASKED, RATED, DONE = "asked", "rated", "done"
_NUMBER = re.compile(r"^\s*([1-5])\s*(/\s*5|stars?|星|分)?\s*[.!。！]?\s*$", re.I)
_FULL_WIDTH = str.maketrans("１２３４５", "12345")


def rating_buttons(survey_id: int, lang: str | None) -> tuple[Button, ...]:
    """The survey's buttons: five ratings and the opt-out."""
    stars = tuple(Button(f"{n} ★", f"{PREFIX}{survey_id}:{n}") for n in range(1, 6))
    return (*stars, Button(texts(lang)["opt_out_button"], f"{PREFIX}{OPT_OUT}:{survey_id}"))


def survey_state(survey_id: int, ticket: str, expires_at: datetime) -> dict[str, Any]:
    """What the survey job leaves in ``bot_state["survey"]``."""
    return {"id": survey_id, "ticket": ticket, "status": ASKED, "expires_at": expires_at.isoformat()}


def survey_decision(turn: Turn, lang: str, now: datetime) -> Decision | None:
    """The decision for a turn that answers a survey, or ``None`` when it does not."""
    raw = turn.conversation.bot_state.get(STATE)
    state: Mapping[str, Any] | None = raw if isinstance(raw, Mapping) else None
    action = turn.message.action or ""
    if action.startswith(PREFIX):
        return _press(turn, action[len(PREFIX) :].split(":"), state, language(lang), now)
    if state is None or action or _expired(state, now):
        return None
    text = turn.text.strip()
    if state.get("status") == ASKED:
        number = _NUMBER.match(text.translate(_FULL_WIDTH))
        if number is None:
            return None  # not an answer: the customer moved on, and may still press a star
        return _rate(turn, state, int(number.group(1)), language(lang))
    if state.get("status") == RATED and text:
        answer = SurveyAnswer(int(state["id"]), comment=text)
        return _done(turn, state, language(lang), texts(lang)["comment_thanks"], answer)
    return None


def _press(
    turn: Turn, parts: list[str], state: Mapping[str, Any] | None, lang: str, now: datetime
) -> Decision:
    words = texts(lang)
    if parts[0] == OPT_OUT:
        answer = SurveyAnswer(_int(parts[1]) if len(parts) > 1 else None, opt_out=True)
        if state is None:
            return Decision((Reply(words["opted_out"]),), language=lang, survey=answer)
        return _done(turn, state, lang, words["opted_out"], answer)
    verb, survey_id = (parts[0], _int(parts[1])) if parts[0] in (SKIP, REOPEN) else ("rate", _int(parts[0]))
    current = state is not None and survey_id is not None and _int(state.get("id")) == survey_id
    if state is None or not current:
        return _say(turn, lang, words["closed"])
    status = state.get("status")
    if verb == REOPEN:
        if state.get("low") and not state.get("reopened"):
            answer = SurveyAnswer(survey_id, reopen=True)
            text = words["reopening"].format(ticket=state.get("ticket", ""))
            return _done(turn, state, lang, text, answer, reopened=True)
        return _say(turn, lang, words["no_reopen"].format(ticket=state.get("ticket", "")))
    if verb == SKIP:
        if status == RATED:
            return _done(turn, state, lang, words["skipped"])
        return _say(turn, lang, words["already"] if status == DONE else words["closed"])
    rating = _int(parts[1]) if len(parts) > 1 else None
    if status != ASKED:
        return _say(turn, lang, words["already"])
    if _expired(state, now) or rating is None or not 1 <= rating <= 5:
        return _say(turn, lang, words["closed"])
    return _rate(turn, state, rating, lang)


def _rate(turn: Turn, state: Mapping[str, Any], rating: int, lang: str) -> Decision:
    words = texts(lang)
    survey_id = int(state["id"])
    skip = Button(words["skip_button"], f"{PREFIX}{SKIP}:{survey_id}")
    low = rating <= LOW_RATING
    if low:
        text = words["sorry"].format(rating=rating, ticket=state.get("ticket", ""))
        buttons: tuple[Button, ...] = (Button(words["reopen_button"], f"{PREFIX}{REOPEN}:{survey_id}"), skip)
    else:
        text, buttons = words["thanks"].format(rating=rating), (skip,)
    new_state = {**state, "status": RATED, "rating": rating, "low": low}
    return Decision(
        (Reply(text, buttons),),
        language=lang,
        bot_state={**turn.conversation.bot_state, STATE: new_state},
        survey=SurveyAnswer(survey_id, rating=rating),
    )


def _done(
    turn: Turn,
    state: Mapping[str, Any],
    lang: str,
    text: str,
    answer: SurveyAnswer | None = None,
    *,
    reopened: bool = False,
) -> Decision:
    new_state = {**state, "status": DONE, **({"reopened": True} if reopened else {})}
    return Decision(
        (Reply(text),),
        language=lang,
        bot_state={**turn.conversation.bot_state, STATE: new_state},
        survey=answer,
    )


def _say(turn: Turn, lang: str, text: str) -> Decision:
    return Decision((Reply(text),), language=lang)


def _expired(state: Mapping[str, Any], now: datetime) -> bool:
    try:
        return datetime.fromisoformat(str(state.get("expires_at"))) <= now
    except ValueError:
        return True


def _int(value: object) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None

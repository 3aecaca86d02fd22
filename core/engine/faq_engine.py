"""The knowledge-base engine: answers FAQs in the customer's language, or offers a human.

Each message is matched against the knowledge base. A confident match is answered; an
unsure one gets up to three "did you mean" buttons; anything else gets an honest "I'm not
sure" and the way to a person. The customer can switch language with ``/language zh``,
``/language en`` or the language button; the choice sticks to the conversation.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from conversations.values import Button, Surface
from core.engine.base import Decision, Engine, Reply, TicketRequest, Turn
from core.engine.texts import TEXTS
from core.faq.kb import KnowledgeBase, Topic, brand_placeholders
from core.faq.matcher import FaqMatcher, Outcome
from core.forms import FormRunner, FormStep
from core.forms import Outcome as FormOutcome
from core.safety import impersonation_warning, mentions_support_contact, warning_for
from core.settings import BrandSettings
from core.surveys.answers import survey_decision
from core.text.language import count_scripts, reply_language

HUMAN = "human"
TOPIC_PREFIX = "topic:"
LANGUAGE_PREFIX = "lang:"
FORM_PREFIX = "form:start:"
FORM_KEY = "form"
# The customer's latest question, the subject of a ticket opened when they ask for a human.
LAST_QUESTION = "last_question"
_REDACTED = re.compile(r"\[REDACTED:[a-z0-9_]+\]")
# Tokens that are not words of a language: e-mail addresses, links, anything with a digit
# (TXIDs, addresses, amounts, order ids) and redaction markers.
_IDENTIFIERS = re.compile(
    r"\S+@\S+|(?<!\S)@\w+|https?://\S+|(?<![A-Za-z0-9])(?=[\w.:-]*\d)[A-Za-z0-9_.:-]{8,}"
)
_NOT_WORDS = re.compile(r"\S+@\S+|https?://\S+|\[REDACTED:[a-z0-9_]+\]|\S*\d\S*")
TICKET_STATUS_TOPIC = "support.ticket_status"
_GREETING = re.compile(
    r"^\s*(hi|hello|hey|yo|good (morning|afternoon|evening)|你好|您好|嗨|哈喽|在吗|在不在)[\s!！.。,，~]*$",
    re.I,
)
_LANGUAGE_COMMAND = re.compile(r"^\s*/(language|lang|语言)\s+(zh|cn|中文|en|english|英文)\s*$", re.I)


class FaqEngine(Engine):
    """Answers from the knowledge base.

    Args:
        matcher: The FAQ matcher built on ``kb``.
        kb: The knowledge base (answers, titles).
        brand: Names and links filled into answers.
        default_language: Used when a message gives no clue.
        forms: Collects the details an agent needs when a topic has a follow-up form.

    """

    def __init__(
        self,
        matcher: FaqMatcher,
        kb: KnowledgeBase,
        brand: BrandSettings,
        default_language: str = "en",
        forms: FormRunner | None = None,
    ) -> None:
        self._matcher = matcher
        self._kb = kb
        self._default = default_language
        self._forms = forms
        self._ticket_status: Callable[[int, str], Awaitable[str]] | None = None
        self._placeholders = brand_placeholders(brand)
        self._official_handles = brand.official_handles

    def use_ticket_status(self, status_for_customer: Callable[[int, str], Awaitable[str]]) -> None:
        """Answer "status of my ticket" with the customer's own ticket (a read-only lookup)."""
        self._ticket_status = status_for_customer

    @property
    def matcher(self) -> FaqMatcher:
        """The matcher answering now."""
        return self._matcher

    def use_matcher(self, matcher: FaqMatcher) -> None:
        """Answer with ``matcher`` from now on (the full index, once it is built)."""
        self._matcher = matcher

    async def respond(self, turn: Turn) -> Decision:
        """Answer one message: safety warnings first, then the knowledge base."""
        decision = await self._respond(turn)
        lang = decision.language or turn.conversation.language or self._default
        warnings = []
        if turn.redactions:
            warning = warning_for(turn.redactions, lang)
            if warning:
                warnings.append(Reply(warning))
        if mentions_support_contact(turn.text):
            warnings.append(Reply(impersonation_warning(self._official_handles, lang)))
        if not warnings:
            return decision
        return dataclasses.replace(decision, replies=(*warnings, *decision.replies))

    async def _respond(self, turn: Turn) -> Decision:
        conversation = turn.conversation
        chosen = conversation.bot_state.get("language_choice")
        action = turn.message.action or ""
        if conversation.status == "human":
            return Decision()  # a person is handling it; the bot stays quiet
        lang = chosen or conversation.language or self._default
        surveyed = survey_decision(turn, lang, _now())
        if surveyed is not None:
            return surveyed
        if _public(turn) and (
            action == HUMAN
            or action.startswith(FORM_PREFIX)
            or action == f"{TOPIC_PREFIX}{TICKET_STATUS_TOPIC}"
        ):
            # Account matters never happen in public: no form, no ticket, no status here.
            return Decision((Reply(TEXTS[lang]["go_private"]),), language=lang)
        if self._forms is not None and action.startswith(FORM_PREFIX):
            form_id = action[len(FORM_PREFIX) :]
            if self._form_known(form_id):
                step = self._forms.start(form_id, lang, _now())
                return self._form_decision(turn, step, lang)
        if self._forms is not None and conversation.bot_state.get(FORM_KEY):
            lang = chosen or _form_language(turn.text, lang)
            step = self._forms.step(conversation.bot_state[FORM_KEY], turn.text, action or None, lang, _now())
            if step.outcome is not FormOutcome.INTERRUPTED:
                return self._form_decision(turn, step, lang)
            # Another question in the middle of the form: answer it, then ask again.
            answered = await self._answer_question(turn, chosen)
            resumed = self._forms.resume(conversation.bot_state[FORM_KEY], lang)
            state = {**conversation.bot_state, **(answered.bot_state or {})}
            return dataclasses.replace(
                answered, replies=(*answered.replies, *resumed.replies), bot_state=state
            )
        if action == HUMAN:
            lang = chosen or conversation.language or self._default
            asked = str(conversation.bot_state.get(LAST_QUESTION) or "")
            request = TicketRequest(
                subject=_subject(TEXTS[lang]["human_subject"], asked),
                category="general",
                details={"last_question": asked} if asked else {},
                reason="human",
            )
            return Decision((Reply(TEXTS[lang]["human"]),), language=lang, status="human", ticket=request)
        switched = _language_switch(action, turn.text)
        if switched is not None:
            state = {**conversation.bot_state, "language_choice": switched}
            return Decision((Reply(TEXTS[switched]["language_set"]),), language=switched, bot_state=state)
        if action.startswith(TOPIC_PREFIX):
            lang = chosen or conversation.language or self._default
            topic = self._topic(action[len(TOPIC_PREFIX) :])
            if topic is not None:
                return Decision(await self._answer_topic(topic, lang, turn), language=lang)
        return await self._answer_question(turn, chosen)

    async def _answer_question(self, turn: Turn, chosen: str | None) -> Decision:
        conversation = turn.conversation
        text = _plain(turn.text)
        if not text and turn.redactions:
            # Only a secret: the warning ``respond`` adds is the whole answer.
            return Decision(language=chosen or conversation.language or self._default)
        # Identifiers (TXIDs, UIDs, addresses, e-mails) say nothing about the topic or the
        # language, and a long hex TXID would make a Chinese message look English.
        query = " ".join(_IDENTIFIERS.sub(" ", text).split()) or text
        lang = chosen or reply_language(query, conversation.language or self._default)  # type: ignore[arg-type]
        texts = TEXTS[lang]
        if not text:
            return Decision((Reply(texts["empty"], (self._human(lang),)),), language=lang)
        if _GREETING.match(text):
            welcome = texts["welcome"].format(brand=self._placeholders["brand"])
            other = "zh" if lang == "en" else "en"
            buttons: tuple[Button, ...] = (
                self._human(lang),
                Button(texts["language_button"], f"{LANGUAGE_PREFIX}{other}"),
            )
            return Decision((Reply(welcome, buttons),), language=lang)
        result = await self._matcher.match_async(query)
        remembered = {**conversation.bot_state, LAST_QUESTION: text[:300]}
        if not chosen:
            lang = result.lang
            texts = TEXTS[lang]
        if result.outcome is Outcome.ANSWER and result.topic is not None:
            return Decision(
                await self._answer_topic(result.topic, lang, turn), language=lang, bot_state=remembered
            )
        if _public(turn):
            # Suggestion buttons and a handoff do not belong in public (X cannot even show them).
            return Decision((Reply(texts["go_private"]),), language=lang, bot_state=remembered)
        if result.outcome is Outcome.SUGGEST and result.suggestions:
            buttons = tuple(Button(t.label(lang), f"{TOPIC_PREFIX}{t.id}") for t in result.suggestions[:3])
            return Decision(
                (Reply(texts["suggest"], (*buttons, self._human(lang))),), language=lang, bot_state=remembered
            )
        return Decision(
            (Reply(texts["fallback"], (self._human(lang),)),), language=lang, bot_state=remembered
        )

    async def _answer_topic(self, topic: Topic, lang: str, turn: Turn) -> tuple[Reply, ...]:
        if _public(turn):
            if topic.id == TICKET_STATUS_TOPIC:
                return (Reply(TEXTS[lang]["go_private"]),)
            return self._answer_in_public(topic, lang)
        if topic.id == TICKET_STATUS_TOPIC and self._ticket_status is not None:
            status = await self._ticket_status(turn.conversation.id, lang)
            return (Reply(status, (self._human(lang),)),)
        return self._answer(topic, lang)

    def _answer_in_public(self, topic: Topic, lang: str) -> tuple[Reply, ...]:
        """The general answer, without a form or a handoff; account matters go to a private channel."""
        template = topic.answer.get(lang) or next(iter(topic.answer.values()), "")
        text = _render(template, self._placeholders)
        if topic.form or topic.ticket:
            text = f"{text}\n\n{TEXTS[lang]['go_private']}"
        return (Reply(text, topic=topic.id),)

    def _answer(self, topic: Topic, lang: str) -> tuple[Reply, ...]:
        template = topic.answer.get(lang) or next(iter(topic.answer.values()), "")
        text = _render(template, self._placeholders)
        buttons: tuple[Button, ...] = (self._human(lang),)
        if self._forms is not None and self._form_known(topic.form):
            text = f"{text}\n\n{TEXTS[lang]['form_offer']}"
            buttons = (Button(TEXTS[lang]["form_button"], f"{FORM_PREFIX}{topic.form}"), *buttons)
        elif topic.form or topic.ticket:
            text = f"{text}\n\n{TEXTS[lang]['helpful_followup']}"
        return (Reply(text, buttons, topic=topic.id),)

    def _form_known(self, form_id: str | None) -> bool:
        return self._forms is not None and any(f.id == form_id for f in self._forms.forms.forms)

    def _form_decision(self, turn: Turn, step: FormStep, lang: str) -> Decision:
        state: dict[str, Any] = {k: v for k, v in turn.conversation.bot_state.items() if k != FORM_KEY}
        if step.outcome in (FormOutcome.CONTINUE, FormOutcome.INTERRUPTED):
            state[FORM_KEY] = dict(step.state)
            return Decision(step.replies, language=lang, bot_state=state)
        if step.outcome in (FormOutcome.COMPLETED, FormOutcome.ESCALATED):
            # The details go with the conversation to the people who take it from here.
            handed = (*step.replies, Reply(TEXTS[lang]["form_handed_over"]))
            details = dict(step.details or {})
            slots = {**turn.conversation.slots, "form": details}
            request = TicketRequest(
                subject=_subject(str(details.get("title") or details.get("form") or ""), _summary(details)),
                category=details.get("category"),
                details=details,
                reason=f"form:{details.get('form')}"
                + (":escalated" if step.outcome is FormOutcome.ESCALATED else ""),
                base_priority=details.get("priority"),
            )
            return Decision(
                handed, language=lang, status="human", bot_state=state, slots=slots, ticket=request
            )
        return Decision(step.replies, language=lang, bot_state=state)

    def _topic(self, topic_id: str) -> Topic | None:
        try:
            return self._kb.get(topic_id)
        except KeyError:
            return None

    @staticmethod
    def _human(lang: str) -> Button:
        return Button(TEXTS[lang]["human_button"], HUMAN)


def _form_language(text: str, current: str) -> str:
    """The language to go on with in a form: answers like "USDT" or a TXID must not switch it."""
    counts = count_scripts(_NOT_WORDS.sub(" ", text))
    if counts.zh_words > counts.en_words:
        return "zh"
    if counts.en_words >= 3 and counts.zh_words == 0:
        return "en"
    return current


def _public(turn: Turn) -> bool:
    return turn.message.surface is Surface.PUBLIC or turn.conversation.surface == Surface.PUBLIC.value


def _plain(text: str) -> str:
    """Customer text without redaction markers, for choosing the reply language and matching."""
    return " ".join(_REDACTED.sub(" ", text).split())


def _subject(title: str, summary: str) -> str:
    title, summary = " ".join(title.split()), " ".join(summary.split())
    if title and summary:
        return f"{title}: {summary}"[:200]
    return (title or summary or "Support request")[:200]


def _summary(details: Mapping[str, Any]) -> str:
    """The collected values in one line, for the ticket subject (asset, amount, network first)."""
    values = details.get("values") or {}
    if not isinstance(values, Mapping):
        return ""
    order = ("summary", "amount", "asset", "network", "order_id", "pair")
    picked = [str(values[k]) for k in order if values.get(k)]
    return " ".join(picked)


def _now() -> datetime:
    return datetime.now(UTC)


def _language_switch(action: str, text: str) -> str | None:
    if action.startswith(LANGUAGE_PREFIX):
        wanted = action[len(LANGUAGE_PREFIX) :]
        return wanted if wanted in TEXTS else None
    command = _LANGUAGE_COMMAND.match(text)
    if command is None:
        return None
    return "zh" if command.group(2).lower() in ("zh", "cn", "中文") else "en"


def _render(template: str, values: Mapping[str, str]) -> str:
    try:
        return template.format(**values)
    except (KeyError, IndexError, ValueError):
        # A KB answer with a stray brace must still be answerable; the KB tests catch it.
        return template

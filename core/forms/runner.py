"""The pure form engine: one customer message in, replies and the new form state out."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from conversations.values import Button
from core.engine.base import Reply
from core.forms import phrases as P
from core.forms.slot_values import SlotContext, check_slot, display, extracted_json, find_pair
from core.forms.spec import FormCatalog, FormSpec, SlotKind, SlotSpec
from core.forms.state import COLLECT, CONFIRM, EDIT, FormStep, Outcome, Progress
from core.validation import AssetCatalog, OrderIdRule, UidRule, check_consistency, extract_values
from core.validation.textnorm import alias_key

logger = logging.getLogger(__name__)


class FormRunner:
    """Runs the forms of a :class:`FormCatalog`; holds no per-conversation state.

    Args:
        forms: The form definitions.
        catalog: The asset catalogue for the validators.
        uid_rule: Shape of account UIDs.
        order_rule: Shape of order ids.

    """

    def __init__(
        self,
        forms: FormCatalog,
        catalog: AssetCatalog,
        *,
        uid_rule: UidRule | None = None,
        order_rule: OrderIdRule | None = None,
    ) -> None:
        self.forms = forms
        self.catalog = catalog
        self.uid_rule = uid_rule or UidRule()
        self.order_rule = order_rule or OrderIdRule()

    def start(self, form_id: str, lang: str, now: datetime, text: str | None = None) -> FormStep:
        """Start ``form_id``; ``text`` (the message that led here) may already hold some details."""
        form = self.forms.get(form_id)
        progress = Progress(form=form.id, started=now, updated=now)
        notes: list[str] = [form.intro.text(lang)]
        if text:
            self._absorb(form, progress, text, lang, now, notes, interrupt=False)
        return self._ask(form, progress, lang, notes)

    def resume(self, state: Mapping[str, Any], lang: str) -> FormStep:
        """Re-ask the current question after the caller answered an interrupting question."""
        progress = Progress.from_state(state)
        return self._ask(self.forms.get(progress.form), progress, lang, [P.text(lang, "resume")])

    def step(
        self, state: Mapping[str, Any], text: str | None, action: str | None, lang: str, now: datetime
    ) -> FormStep:
        """Take one customer message (``text``) or button press (``action``)."""
        progress = Progress.from_state(state)
        form = self.forms.get(progress.form)
        if now - progress.updated > self.forms.idle_timeout:
            return self._end(form, progress, lang, Outcome.EXPIRED, "expired")
        progress.updated = now
        message = P.norm(text or "")
        if action == P.HUMAN or (not action and P.HUMAN_WORDS.search(message)):
            return self._end(form, progress, lang, Outcome.ESCALATED, "escalated")
        if action == P.CANCEL or (not action and P.CANCEL_WORDS.match(message)):
            return self._end(form, progress, lang, Outcome.CANCELLED, "cancelled")
        notes: list[str] = []
        if action:
            return self._action(form, progress, action, lang, now, notes)
        if progress.phase == CONFIRM:
            if P.YES_WORDS.match(message):
                return self._end(form, progress, lang, Outcome.COMPLETED, "completed")
            if P.EDIT_WORDS.match(message) and self._named_slot(form, message) is None:
                return self._ask_edit(form, progress, lang, notes)
        if progress.phase == EDIT:
            named = self._named_slot(form, message)
            if named is not None:
                progress.slot, progress.phase = named.name, COLLECT
                rest = self._after_name(named, message)
                if not rest:
                    return self._ask(form, progress, lang, notes, editing=True)
        current = self._current(form, progress)
        if progress.phase == COLLECT and current is not None and P.SKIP_WORDS.match(message):
            return self._skip(form, progress, current, lang, notes)
        if self._absorb(form, progress, message, lang, now, notes, interrupt=True):
            return FormStep((), progress.to_state(), Outcome.INTERRUPTED, None)
        return self._ask(form, progress, lang, notes)

    # -- actions -------------------------------------------------------------------------------------

    def _action(
        self, form: FormSpec, progress: Progress, action: str, lang: str, now: datetime, notes: list[str]
    ) -> FormStep:
        if action == P.CONFIRM and progress.phase == CONFIRM:
            return self._end(form, progress, lang, Outcome.COMPLETED, "completed")
        if action == P.EDIT:
            return self._ask_edit(form, progress, lang, notes)
        if action.startswith(P.EDIT_PREFIX):
            name = action[len(P.EDIT_PREFIX) :]
            if any(s.name == name for s in form.slots):
                progress.slot, progress.phase = name, COLLECT
                return self._ask(form, progress, lang, notes, editing=True)
        current = self._current(form, progress)
        if action == P.SKIP and current is not None:
            return self._skip(form, progress, current, lang, notes)
        if action.startswith(P.SET_PREFIX):
            name, _, value = action[len(P.SET_PREFIX) :].partition(":")
            if any(s.name == name for s in form.slots):
                progress.slot = name
                self._absorb(form, progress, value, lang, now, notes, interrupt=False)
        return self._ask(form, progress, lang, notes)

    def _skip(
        self, form: FormSpec, progress: Progress, slot: SlotSpec, lang: str, notes: list[str]
    ) -> FormStep:
        if slot.required:
            notes.append(P.text(lang, "cannot_skip"))
        else:
            progress.values.pop(slot.name, None)
            if slot.name not in progress.skipped:
                progress.skipped.append(slot.name)
            notes.append(P.text(lang, "skipped"))
            progress.slot = None
        return self._ask(form, progress, lang, notes)

    # -- reading values ------------------------------------------------------------------------------

    def _absorb(
        self,
        form: FormSpec,
        progress: Progress,
        message: str,
        lang: str,
        now: datetime,
        notes: list[str],
        *,
        interrupt: bool,
    ) -> bool:
        """Take every value in ``message``; return ``True`` when it is a different question instead."""
        current = self._current(form, progress)
        if current is not None and current.kind is not SlotKind.TEXT and message:
            # A bare answer to the question asked wins over what free-text extraction reads into it
            # ("以太坊" answers "which network?", it does not change the coin to ETH).
            direct = check_slot(current.kind, message, self._context(form, progress, now))
            if direct.ok:
                self._apply(form, progress, {current.name: direct.value}, lang, now, notes)
                return False
        correcting = bool(P.CORRECTION_CUE.search(message)) or progress.phase != COLLECT
        found = extract_values(
            message, self.catalog, now=now, uid_rule=self.uid_rule, order_rule=self.order_rule
        )
        extracted = found.found()
        candidates: dict[str, Any] = {}
        problems: list[str] = []
        by_kind = {s.kind.value: s for s in form.slots}
        # The message does not answer the question asked (that was tried first), so a TXID or address
        # pasted in it replaces the one given before (after "that TXID doesn't fit the network").
        pasted = current is not None and current.kind is not SlotKind.TEXT
        for kind, value in extracted.items():
            slot = by_kind.get(kind)
            if slot is None or slot.kind is SlotKind.TEXT:
                continue
            replaces = pasted and slot.kind in (SlotKind.TXID, SlotKind.ADDRESS)
            if (
                correcting
                or replaces
                or slot.name not in progress.values
                or (current and slot.name == current.name)
            ):
                candidates[slot.name] = extracted_json(slot.kind, value)
        pair = find_pair(message)
        if pair and "pair" in by_kind:
            candidates[by_kind["pair"].name] = pair
        for kind, raw in found.unvalidated.items():
            if kind in by_kind and by_kind[kind].name not in candidates:
                result = check_slot(by_kind[kind].kind, raw, self._context(form, progress, now))
                if result.reason is not None:
                    problems.append(result.reason.text(lang))
        named = self._named_slot(form, message) if correcting else None
        if named is not None and named.name not in candidates:
            rest = self._after_name(named, message)
            if rest:
                result = check_slot(named.kind, rest, self._context(form, progress, now))
                if result.ok:
                    candidates[named.name] = result.value
                elif result.reason is not None:
                    problems.append(result.reason.text(lang))
        if current is not None and current.name not in candidates and not problems:
            # "change the uid to 87654321" corrects the UID: it is not also the answer to a free-text question.
            renamed = named is not None and named.name in candidates
            whole_answer = (current.kind is SlotKind.TEXT and not renamed) or not candidates
            if whole_answer and message:
                strict = current.kind is SlotKind.TEXT
                if interrupt and not candidates and P.is_question(message, strict=strict):
                    return True
                result = check_slot(current.kind, message, self._context(form, progress, now))
                if result.ok:
                    candidates[current.name] = result.value
                elif interrupt and not candidates and not found.unvalidated and P.is_question(message):
                    return True
                elif result.reason is not None:
                    problems.append(result.reason.text(lang) + self._hint(current, lang))
        if current is None and interrupt and not candidates and not problems and P.is_question(message):
            return True
        self._apply(form, progress, candidates, lang, now, notes)
        notes.extend(problems)
        return False

    def _apply(
        self,
        form: FormSpec,
        progress: Progress,
        candidates: dict[str, Any],
        lang: str,
        now: datetime,
        notes: list[str],
    ) -> None:
        taken: list[str] = []
        for slot in form.slots:
            if slot.name not in candidates:
                continue
            new = candidates[slot.name]
            old = progress.values.get(slot.name)
            progress.values[slot.name] = new
            if slot.name in progress.skipped:
                progress.skipped.remove(slot.name)
            shown = display(slot.kind, new, self.catalog)
            if old is not None and old != new:
                notes.append(P.text(lang, "changed", label=slot.label.text(lang), value=shown))
            elif old is None:
                taken.append(shown)
        if taken:
            notes.append(P.text(lang, "got", items=" · ".join(taken)))
        if candidates:
            progress.slot = None
        self._recheck(form, progress, lang, now, notes)

    def _recheck(
        self, form: FormSpec, progress: Progress, lang: str, now: datetime, notes: list[str]
    ) -> None:
        """Re-validate values that depend on others (network on asset, address/TXID on network)."""
        ctx = self._context(form, progress, now)
        for slot in form.slots:
            value = progress.values.get(slot.name)
            if value is None or slot.kind not in (SlotKind.NETWORK, SlotKind.AMOUNT):
                continue
            if ctx.asset is None:
                continue
            result = check_slot(slot.kind, str(value), ctx)
            if not result.ok and result.reason is not None:
                notes.append(result.reason.text(lang))
                del progress.values[slot.name]
                progress.slot = None
        ctx = self._context(form, progress, now)
        if ctx.asset is None or ctx.network is None:
            return
        address = self._value_of(form, progress, SlotKind.ADDRESS)
        txid = self._value_of(form, progress, SlotKind.TXID)
        if address is None and txid is None:
            return
        verdict = check_consistency(ctx.asset, ctx.network, address, txid, catalog=self.catalog)
        if verdict.ok or verdict.reason is None:
            return
        notes.append(verdict.reason.text(lang))
        logger.debug("form %s: %s", form.id, verdict.reason_code)
        if verdict.suggested_networks:
            # The address or TXID was pasted; the network was typed or picked: doubt the network.
            self._drop(form, progress, SlotKind.NETWORK)
        else:
            self._drop(form, progress, SlotKind.TXID)
            self._drop(form, progress, SlotKind.ADDRESS)
        progress.values["_suggested_networks"] = list(verdict.suggested_networks)

    # -- asking --------------------------------------------------------------------------------------

    def _ask(
        self, form: FormSpec, progress: Progress, lang: str, notes: list[str], *, editing: bool = False
    ) -> FormStep:
        suggested = progress.values.pop("_suggested_networks", None)
        current = self._current(form, progress)
        if current is None:
            progress.phase, progress.slot = CONFIRM, None
            return self._summary(form, progress, lang, notes)
        if not editing and progress.phase == CONFIRM:
            progress.phase = COLLECT
        progress.slot = current.name
        buttons = self._slot_buttons(form, progress, current, lang, suggested)
        body = "\n".join([*notes, current.prompt.text(lang)])
        return FormStep((Reply(body, buttons),), progress.to_state(), Outcome.CONTINUE, None)

    def _summary(self, form: FormSpec, progress: Progress, lang: str, notes: list[str]) -> FormStep:
        lines = "\n".join(
            f"• {s.label.text(lang)}{'：' if lang.startswith('zh') else ': '}"
            + (
                display(s.kind, progress.values[s.name], self.catalog)
                if s.name in progress.values
                else P.text(lang, "not_given")
            )
            for s in form.slots
        )
        body = "\n".join([*notes, P.text(lang, "summary", lines=lines)])
        buttons = (
            Button(P.text(lang, "button_yes"), P.CONFIRM),
            Button(P.text(lang, "button_edit"), P.EDIT),
            *self._common_buttons(lang),
        )
        return FormStep((Reply(body, buttons),), progress.to_state(), Outcome.CONTINUE, None)

    def _ask_edit(self, form: FormSpec, progress: Progress, lang: str, notes: list[str]) -> FormStep:
        progress.phase, progress.slot = EDIT, None
        buttons = tuple(Button(s.label.text(lang), P.EDIT_PREFIX + s.name) for s in form.slots)
        body = "\n".join([*notes, P.text(lang, "which_edit")])
        return FormStep(
            (Reply(body, (*buttons, *self._common_buttons(lang))),), progress.to_state(), Outcome.CONTINUE
        )

    def _slot_buttons(
        self, form: FormSpec, progress: Progress, slot: SlotSpec, lang: str, suggested: Any
    ) -> tuple[Button, ...]:
        buttons: list[Button] = []
        asset = self._value_of(form, progress, SlotKind.ASSET)
        if slot.kind is SlotKind.NETWORK and asset is not None:
            ids = list(suggested) if suggested else list(self.catalog.asset(asset).networks)
            for net_id in ids:
                label = self.catalog.network(net_id).label
                buttons.append(Button(label, f"{P.SET_PREFIX}{slot.name}:{net_id}"))
        if not slot.required:
            buttons.append(Button(P.text(lang, "button_skip"), P.SKIP))
        return (*buttons, *self._common_buttons(lang))

    @staticmethod
    def _common_buttons(lang: str) -> tuple[Button, ...]:
        return (
            Button(P.text(lang, "button_cancel"), P.CANCEL),
            Button(P.text(lang, "button_human"), P.HUMAN),
        )

    def _end(self, form: FormSpec, progress: Progress, lang: str, outcome: Outcome, key: str) -> FormStep:
        progress.values.pop("_suggested_networks", None)
        details = {
            "form": form.id,
            "title": form.title.text(lang),
            "category": form.category,
            "priority": form.priority,
            "values": dict(progress.values),
            "skipped": list(progress.skipped),
            "missing": [s.name for s in form.slots if s.required and s.name not in progress.values],
            "started": progress.started.isoformat(),
        }
        replies = (Reply(P.text(lang, key)),)
        return FormStep(replies, progress.to_state(), outcome, details)

    # -- helpers -------------------------------------------------------------------------------------

    def _current(self, form: FormSpec, progress: Progress) -> SlotSpec | None:
        if progress.slot is not None and progress.phase == COLLECT and progress.slot in _names(form):
            return form.slot(progress.slot)
        return next(
            (s for s in form.slots if s.name not in progress.values and s.name not in progress.skipped), None
        )

    def _context(self, form: FormSpec, progress: Progress, now: datetime) -> SlotContext:
        return SlotContext(
            catalog=self.catalog,
            now=now,
            asset=self._value_of(form, progress, SlotKind.ASSET),
            network=self._value_of(form, progress, SlotKind.NETWORK),
            uid_rule=self.uid_rule,
            order_rule=self.order_rule,
        )

    @staticmethod
    def _value_of(form: FormSpec, progress: Progress, kind: SlotKind) -> str | None:
        slot = next((s for s in form.slots if s.kind is kind), None)
        value = progress.values.get(slot.name) if slot is not None else None
        return value if isinstance(value, str) else None

    @staticmethod
    def _drop(form: FormSpec, progress: Progress, kind: SlotKind) -> None:
        for slot in form.slots:
            if slot.kind is kind:
                progress.values.pop(slot.name, None)
        progress.slot = None

    @staticmethod
    def _named_slot(form: FormSpec, message: str) -> SlotSpec | None:
        folded = message.casefold()
        best: tuple[int, SlotSpec] | None = None
        for slot in form.slots:
            for alias in (slot.name.replace("_", " "), *slot.aliases):
                key = alias.casefold()
                # Not \b: a Latin alias next to Chinese ("UID改成…") has no word boundary there.
                pattern = (
                    re.escape(key)
                    if re.search(r"[\u3400-\u9fff]", key)
                    else rf"(?<![a-z0-9]){re.escape(key)}(?![a-z0-9])"
                )
                if re.search(pattern, folded) and (best is None or len(key) > best[0]):
                    best = (len(key), slot)
        return best[1] if best else None

    @staticmethod
    def _after_name(slot: SlotSpec, message: str) -> str:
        """The new value in "change the amount to 60" / "金额改成60" ("" when none is given)."""
        folded = message.casefold()
        end = 0
        for alias in sorted((slot.name.replace("_", " "), *slot.aliases), key=len, reverse=True):
            index = folded.find(alias.casefold())
            if index >= 0:
                end = index + len(alias)
                break
        match = P.NEW_VALUE.search(message[end:])
        value = match.group("value").strip() if match else message[end:].strip(" :：,，")
        return "" if alias_key(value) == "" else value

    @staticmethod
    def _hint(slot: SlotSpec, lang: str) -> str:
        return f" {slot.hint.text(lang)}" if slot.hint is not None else ""


def _names(form: FormSpec) -> frozenset[str]:
    return frozenset(s.name for s in form.slots)

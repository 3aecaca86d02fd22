"""Scripted conversations: every form, in English and Chinese."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from core.forms import FormRunner, FormStep, Outcome
from tests.forms.conftest import EVM_ADDRESS, EVM_TXID, TRON_TXID

HAPPY: dict[str, dict[str, list[str]]] = {
    "missing_deposit": {
        "en": ["USDT", "TRC20", "50", TRON_TXID, "yesterday 3pm"],
        "zh": ["USDT", "波场", "50", TRON_TXID, "昨天下午3点"],
    },
    "withdrawal_not_received": {
        "en": ["USDT", "ERC20", "120.5", EVM_TXID, EVM_ADDRESS],
        "zh": ["泰达币", "以太坊", "120.5", EVM_TXID, EVM_ADDRESS],
    },
    "account_compromised": {
        "en": [
            "12345678",
            "john@example.com",
            "Someone logged in from another country",
            "200 USDT withdrawn",
        ],
        "zh": ["12345678", "john@example.com", "有人从国外登录了我的账户", "被提走了200 USDT"],
    },
    "lost_2fa": {"en": ["12345678", "john@example.com"], "zh": ["12345678", "john@example.com"]},
    "kyc_rejected": {
        "en": ["12345678", "Document image is blurry"],
        "zh": ["12345678", "证件照片模糊"],
    },
    "p2p_dispute": {
        "en": ["P2P-2024112012345", "I paid but the seller did not release the coins"],
        "zh": ["P2P-2024112012345", "我已付款但卖家一直不放币"],
    },
    "unfilled_order": {"en": ["2024112012345", "BTC/USDT"], "zh": ["2024112012345", "btcusdt"]},
    "talk_to_human": {
        "en": ["My card payment failed twice"],
        "zh": ["我的银行卡付款失败了两次"],
    },
}
CASES = [(form, lang) for form in HAPPY for lang in ("en", "zh")]


def run(runner: FormRunner, step: FormStep, messages: list[str], lang: str, now: datetime) -> FormStep:
    for message in messages:
        assert step.outcome is Outcome.CONTINUE, step
        step = runner.step(step.state, message, None, lang, now)
    return step


def reply(step: FormStep) -> str:
    return "\n".join(r.text for r in step.replies)


def actions(step: FormStep) -> list[str]:
    return [b.action for r in step.replies for b in r.buttons]


@pytest.mark.parametrize(("form", "lang"), CASES)
def test_happy_path_then_confirm(runner: FormRunner, now: datetime, form: str, lang: str) -> None:
    spec = runner.forms.get(form)
    step = runner.start(form, lang, now)
    assert spec.intro.text(lang) in reply(step)
    assert spec.slots[0].prompt.text(lang) in reply(step)
    step = run(runner, step, HAPPY[form][lang], lang, now)
    assert step.outcome is Outcome.CONTINUE
    assert step.state["phase"] == "confirm"
    assert ("Here is what I have" if lang == "en" else "以下是我记录的信息") in reply(step)
    assert {"form:yes", "form:edit"} <= set(actions(step))
    for slot in spec.slots:
        assert slot.label.text(lang) in reply(step)
    done = runner.step(step.state, None, "form:yes", lang, now)
    assert done.outcome is Outcome.COMPLETED
    assert done.details is not None
    assert done.details["category"] == spec.category
    assert set(done.details["values"]) == {s.name for s in spec.slots}
    assert done.details["missing"] == []


@pytest.mark.parametrize(("form", "lang"), CASES)
def test_cancel_at_any_point(runner: FormRunner, now: datetime, form: str, lang: str) -> None:
    step = runner.start(form, lang, now)
    assert "form:cancel" in actions(step) and "human" in actions(step)
    word = "cancel" if lang == "en" else "取消"
    cancelled = runner.step(step.state, word, None, lang, now)
    assert cancelled.outcome is Outcome.CANCELLED
    assert runner.step(step.state, None, "form:cancel", lang, now).outcome is Outcome.CANCELLED


@pytest.mark.parametrize(("form", "lang"), CASES)
def test_escalation_keeps_details_so_far(runner: FormRunner, now: datetime, form: str, lang: str) -> None:
    step = run(runner, runner.start(form, lang, now), HAPPY[form][lang][:1], lang, now)
    word = "I want to talk to a human" if lang == "en" else "转人工"
    escalated = runner.step(step.state, word, None, lang, now)
    assert escalated.outcome is Outcome.ESCALATED
    assert escalated.details is not None
    first = runner.forms.get(form).slots[0].name
    if len(runner.forms.get(form).slots) > 1:
        assert first in escalated.details["values"]


@pytest.mark.parametrize(("form", "lang"), CASES)
def test_expiry(runner: FormRunner, now: datetime, form: str, lang: str) -> None:
    step = runner.start(form, lang, now)
    late = now + runner.forms.idle_timeout + timedelta(minutes=1)
    expired = runner.step(step.state, HAPPY[form][lang][0], None, lang, late)
    assert expired.outcome is Outcome.EXPIRED
    assert ("timed out" if lang == "en" else "超时") in reply(expired)
    in_time = runner.step(step.state, HAPPY[form][lang][0], None, lang, now + timedelta(minutes=29))
    assert in_time.outcome is Outcome.CONTINUE


@pytest.mark.parametrize(("form", "lang"), CASES)
def test_interruption_and_resume(runner: FormRunner, now: datetime, form: str, lang: str) -> None:
    step = runner.start(form, lang, now)
    question = "How do I enable 2FA?" if lang == "en" else "怎么开启谷歌验证吗？"
    interrupted = runner.step(step.state, question, None, lang, now)
    assert interrupted.outcome is Outcome.INTERRUPTED
    assert interrupted.replies == ()
    resumed = runner.resume(interrupted.state, lang)
    assert resumed.outcome is Outcome.CONTINUE
    assert runner.forms.get(form).slots[0].prompt.text(lang) in reply(resumed)


@pytest.mark.parametrize(("form", "lang"), CASES)
def test_edit_from_the_summary(runner: FormRunner, now: datetime, form: str, lang: str) -> None:
    spec = runner.forms.get(form)
    step = run(runner, runner.start(form, lang, now), HAPPY[form][lang], lang, now)
    edit = runner.step(step.state, "edit" if lang == "en" else "修改", None, lang, now)
    assert edit.state["phase"] == "edit"
    last = spec.slots[-1]
    assert f"form:edit:{last.name}" in actions(edit)
    chosen = runner.step(edit.state, None, f"form:edit:{last.name}", lang, now)
    assert last.prompt.text(lang) in reply(chosen)
    again = runner.step(chosen.state, HAPPY[form][lang][-1], None, lang, now)
    assert again.state["phase"] == "confirm"
    assert runner.step(again.state, "yes" if lang == "en" else "正确", None, lang, now).outcome is (
        Outcome.COMPLETED
    )

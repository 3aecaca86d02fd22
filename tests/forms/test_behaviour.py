"""Multi-value messages, invalid input, corrections, skips, network cross-checks, no secret requests."""

from __future__ import annotations

from datetime import datetime

import pytest

from core.forms import FormRunner, Outcome
from core.forms.loader import SECRET_REQUEST
from core.forms.phrases import TEXTS
from tests.forms.conftest import EVM_ADDRESS, EVM_TXID, TRON_TXID
from tests.forms.test_scripts import actions, reply, run


@pytest.mark.parametrize(
    ("lang", "message"),
    [
        ("en", f"sent 50 USDT on TRC20, txid {TRON_TXID} yesterday 3pm"),
        ("zh", f"我昨天下午三点用波场转了50 USDT，哈希是{TRON_TXID}"),
    ],
)
def test_several_values_in_one_message(runner: FormRunner, now: datetime, lang: str, message: str) -> None:
    step = runner.step(runner.start("missing_deposit", lang, now).state, message, None, lang, now)
    assert step.state["phase"] == "confirm"
    values = step.state["values"]
    assert values["asset"] == "USDT" and values["network"] == "TRON" and values["amount"] == "50"
    assert values["txid"] == TRON_TXID
    assert values["deposit_time"]["moment"].startswith("2026-11-20T15:00")


def test_values_in_the_opening_message(runner: FormRunner, now: datetime) -> None:
    step = runner.start("lost_2fa", "en", now, text="lost my phone, uid 12345678, email a@example.com")
    assert step.state["phase"] == "confirm"


@pytest.mark.parametrize(
    ("lang", "bad", "reason"),
    [("en", "fifty", "Please write the amount as a number"), ("zh", "五十块", "请用数字填写金额")],
)
def test_invalid_then_corrected(runner: FormRunner, now: datetime, lang: str, bad: str, reason: str) -> None:
    step = run(runner, runner.start("missing_deposit", lang, now), ["USDT", "TRC20"], lang, now)
    step = runner.step(step.state, bad, None, lang, now)
    assert reason in reply(step)
    assert step.state["slot"] == "amount"
    step = runner.step(step.state, "50", None, lang, now)
    assert step.state["values"]["amount"] == "50"


@pytest.mark.parametrize(("lang", "text"), [("en", "12345"), ("zh", "12345")])
def test_invalid_uid_gives_the_specific_reason(
    runner: FormRunner, now: datetime, lang: str, text: str
) -> None:
    step = runner.step(runner.start("lost_2fa", lang, now).state, text, None, lang, now)
    assert ("yours has 5" if lang == "en" else "您提供的有 5 位") in reply(step)


@pytest.mark.parametrize(
    ("lang", "correction", "expected"),
    [
        ("en", "actually it was ERC20", "ETH"),
        ("zh", "网络选错了，是BEP20", "BSC"),
    ],
)
def test_correct_an_earlier_slot(
    runner: FormRunner, now: datetime, lang: str, correction: str, expected: str
) -> None:
    step = run(runner, runner.start("missing_deposit", lang, now), ["USDT", "TRC20", "50"], lang, now)
    step = runner.step(step.state, correction, None, lang, now)
    assert step.state["values"]["network"] == expected
    assert step.state["slot"] == "txid"


@pytest.mark.parametrize(("lang", "correction"), [("en", "change the amount to 60"), ("zh", "金额改成60")])
def test_change_amount_at_confirmation(runner: FormRunner, now: datetime, lang: str, correction: str) -> None:
    answers = ["USDT", "ERC20", "50", EVM_TXID, "2026-11-20 14:00"]
    step = run(runner, runner.start("missing_deposit", lang, now), answers, lang, now)
    step = runner.step(step.state, correction, None, lang, now)
    assert step.state["values"]["amount"] == "60"
    assert step.state["phase"] == "confirm"


@pytest.mark.parametrize(("lang", "word"), [("en", "skip"), ("zh", "跳过")])
def test_skip_optional_slot(runner: FormRunner, now: datetime, lang: str, word: str) -> None:
    answers = ["12345678", "a@example.com", "Someone changed my e-mail"]
    step = run(runner, runner.start("account_compromised", lang, now), answers, lang, now)
    assert "form:skip" in actions(step)
    step = runner.step(step.state, word, None, lang, now)
    assert step.state["phase"] == "confirm"
    done = runner.step(step.state, None, "form:yes", lang, now)
    assert done.details is not None and done.details["skipped"] == ["funds_moved"]


def test_required_slot_cannot_be_skipped(runner: FormRunner, now: datetime) -> None:
    step = runner.start("lost_2fa", "en", now)
    assert "form:skip" not in actions(step)
    step = runner.step(step.state, None, "form:skip", "en", now)
    assert "can't be skipped" in reply(step) and step.state["slot"] == "uid"


@pytest.mark.parametrize(("lang", "expect"), [("en", "but you chose TRC20"), ("zh", "但您选择的是 TRC20")])
def test_address_on_the_wrong_network_is_explained(
    runner: FormRunner, now: datetime, lang: str, expect: str
) -> None:
    answers = ["USDT", "TRC20", "20", EVM_TXID]
    step = run(runner, runner.start("withdrawal_not_received", lang, now), answers, lang, now)
    assert expect in reply(step)
    assert step.state["slot"] == "network"
    assert "form:set:network:ETH" in actions(step)
    step = runner.step(step.state, None, "form:set:network:ETH", lang, now)
    assert step.state["values"]["network"] == "ETH" and step.state["values"]["txid"] == EVM_TXID
    step = runner.step(step.state, EVM_ADDRESS, None, lang, now)
    assert step.state["phase"] == "confirm"


def test_network_buttons_list_the_assets_networks(runner: FormRunner, now: datetime) -> None:
    step = run(runner, runner.start("missing_deposit", "en", now), ["BTC"], "en", now)
    expected = [f"form:set:network:{n}" for n in runner.catalog.asset("BTC").networks]
    assert [a for a in actions(step) if a.startswith("form:set:network:")] == expected
    assert "form:set:network:TRON" not in expected


def test_state_is_json(runner: FormRunner, now: datetime) -> None:
    import json

    step = runner.step(
        runner.start("missing_deposit", "en", now).state,
        f"50 USDT TRC20 {TRON_TXID} yesterday",
        None,
        "en",
        now,
    )
    assert json.loads(json.dumps(step.state)) == step.state
    assert step.outcome is Outcome.CONTINUE


def test_no_prompt_or_bot_text_asks_for_secrets(runner: FormRunner) -> None:
    texts = [t for table in TEXTS.values() for t in table.values()]
    for form in runner.forms.forms:
        texts += [form.intro.en, form.intro.zh, form.title.en, form.title.zh]
        for slot in form.slots:
            texts += [slot.prompt.en, slot.prompt.zh, slot.label.en, slot.label.zh]
            texts += [slot.hint.en, slot.hint.zh] if slot.hint else []
    assert texts
    assert [t for t in texts if SECRET_REQUEST.search(t)] == []

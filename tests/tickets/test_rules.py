"""The priority rules and the ticket settings, without a database."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.settings import SettingsError, load_settings
from core.tickets import TicketSettings, load_ticket_settings
from core.tickets.priority import decide_priority, first_keyword
from core.tickets.transitions import ALLOWED, STATUSES

RULES = load_ticket_settings().priority


def test_the_shipped_file_sets_the_documented_targets() -> None:
    settings = load_ticket_settings()
    assert settings.sla_hours == {"urgent": 1, "high": 4, "normal": 24, "low": 72}
    assert settings.format_number(1001) == "HL-1001"
    assert RULES.categories["unauthorized_withdrawal"] == "urgent"


def test_environment_overrides_reach_the_ticket_settings() -> None:
    settings = load_settings(
        {"HELPLINE_TICKETS__SLA_HOURS": "{urgent: 0.5}", "HELPLINE_TICKETS__NUMBER_START": "5000"}
    )
    tickets = load_ticket_settings(settings.section("tickets"))
    assert tickets.sla_hours == {"urgent": 0.5, "high": 4, "normal": 24, "low": 72}
    assert tickets.number_start == 5000


def test_bad_settings_name_the_value(tmp_path: Path) -> None:
    with pytest.raises(
        SettingsError, match=r"tickets\.priority: .*categories\.kyc: 'asap' is not a priority"
    ):
        load_ticket_settings({"priority": {"categories": {"kyc": "asap"}}})
    with pytest.raises(SettingsError, match=r"sla_hours needs exactly low, normal, high, urgent"):
        load_ticket_settings({"sla_hours": {"p1": 1}})
    broken = tmp_path / "tickets.yaml"
    broken.write_text("sla_hours: [", encoding="utf-8")
    with pytest.raises(SettingsError, match="is not valid YAML"):
        load_ticket_settings(path=broken)


@pytest.mark.parametrize(
    ("reference", "number"),
    [
        ("HL-1001", 1001),
        ("hl-1001", 1001),
        ("#1001", 1001),
        (" 1001 ", 1001),
        (1001, 1001),
        ("HL-x", None),
        ("", None),
    ],
)
def test_ticket_references(reference: str | int, number: int | None) -> None:
    assert TicketSettings().parse_number(reference) == number


def test_both_raisers_together_still_raise_one_step() -> None:
    decision = decide_priority(RULES, None, ["THIS IS UNACCEPTABLE!!!"], repeated_contact=True)
    assert decision.priority == "high"
    assert len(decision.reasons) == 2


def test_urgent_stays_urgent_and_low_categories_start_low() -> None:
    assert decide_priority(RULES, "funds_at_risk", ["scam!!!"], repeated_contact=True).priority == "urgent"
    assert decide_priority(RULES, "feedback", ["nice app"], repeated_contact=False).priority == "low"
    assert decide_priority(RULES, "feedback", ["nice app"], repeated_contact=True).priority == "normal"


def test_keywords_match_whole_words_in_latin_script_and_substrings_in_chinese() -> None:
    assert first_keyword(["hacked"], "I was HACKED yesterday") == "hacked"
    assert first_keyword(["hacked"], "the hackedness of it") is None  # not a word of its own
    assert first_keyword(["scam"], "scampi for dinner") is None
    assert first_keyword(["unauthorized withdrawal"], "an Unauthorized\nwithdrawal happened") is not None
    assert first_keyword(["被盗"], "我的账户被盗了") == "被盗"


def test_calm_text_in_capitals_below_the_minimum_is_not_shouting() -> None:
    assert decide_priority(RULES, None, ["KYC OK?"], repeated_contact=False).priority == "normal"
    assert decide_priority(
        RULES, None, ["Where is my USDT deposit to TRC20?"], repeated_contact=False
    ).priority == ("normal")


def test_every_status_has_its_transitions_and_closed_is_final() -> None:
    assert set(ALLOWED) == set(STATUSES)
    assert ALLOWED["closed"] == ()
    assert all(target in STATUSES for targets in ALLOWED.values() for target in targets)

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from core.faq.kb import FORMS
from core.forms import FormConfigError, load_forms, parse_forms


def _minimal() -> dict[str, Any]:
    text = {"en": "x", "zh": "x"}
    slot = {"name": "uid", "validator": "uid", "label": text, "prompt": {"en": "Your UID?", "zh": "UID？"}}
    form = {
        "id": "f",
        "title": text,
        "intro": text,
        "topics": ["a.b"],
        "ticket": {"category": "c", "priority": "high"},
    }
    return {"idle_timeout_minutes": 30, "forms": [{**form, "slots": [slot]}]}


def test_shipped_file_has_every_form_the_kb_uses() -> None:
    catalog = load_forms()
    assert {f.id for f in catalog.forms} == set(FORMS)
    assert catalog.for_topic("deposit.not_credited") is not None


def test_minimal_parses() -> None:
    assert parse_forms(_minimal()).forms[0].slots[0].name == "uid"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda d: d["forms"][0]["slots"][0].update(validator="colour"),
            "form f: slot uid: validator 'colour'",
        ),
        (
            lambda d: d["forms"][0]["slots"][0].update(prompt={"en": "Your password?", "zh": "密码"}),
            "password",
        ),
        (
            lambda d: d["forms"][0]["slots"][0].update(prompt={"en": "Send the 2FA code", "zh": "x"}),
            "2FA code",
        ),
        (lambda d: d["forms"][0]["slots"][0].update(prompt={"en": "x", "zh": "请提供助记词"}), "助记词"),
        (lambda d: d["forms"][0]["ticket"].update(priority="asap"), "form f: ticket priority"),
        (lambda d: d.update(idle_timeout_minutes=0), "idle_timeout_minutes"),
        (
            lambda d: d["forms"][0]["slots"].append(dict(d["forms"][0]["slots"][0])),
            "slot uid: the name is used twice",
        ),
        (lambda d: d["forms"][0]["slots"][0].update(colour=1), "form f: slot uid: unknown keys"),
        (lambda d: d["forms"][0]["slots"][0].pop("label"), "form f: slot uid: label"),
    ],
)
def test_errors_name_form_and_slot(change: Any, message: str) -> None:
    data = _minimal()
    change(data)
    with pytest.raises(FormConfigError, match=message):
        parse_forms(data, "forms.yaml")


def test_file_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(FormConfigError, match="cannot read"):
        load_forms(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("forms: [", encoding="utf-8")
    with pytest.raises(FormConfigError, match=r"bad\.yaml: not valid YAML"):
        load_forms(bad)
    good = tmp_path / "good.yaml"
    good.write_text(yaml.safe_dump(_minimal(), allow_unicode=True), encoding="utf-8")
    assert load_forms(good).source.endswith("good.yaml")

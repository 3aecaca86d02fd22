"""Load ``config/forms.yaml`` with errors that name the file, the form and the slot to fix."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml

from core.forms.spec import FormCatalog, FormSpec, SlotKind, SlotSpec, Text

DEFAULT_FORMS_PATH = Path(__file__).resolve().parents[2] / "config" / "forms.yaml"
PRIORITIES = ("urgent", "high", "normal", "low")
# The bot must never ask for these; a prompt that even names them is refused, so a careless edit of
# the YAML cannot turn a form into a phishing script.
SECRET_REQUEST = re.compile(
    r"(?i)pass\s*word|passcode|pass\s*phrase|seed\s*phrase|seed\s*words|mnemonic|recovery\s*phrase"
    r"|private\s*key|secret\s*key|api\s*secret|2fa\s*code|authenticator\s*code|verification\s*code"
    r"|otp|one[-\s]*time\s*(?:pass|code)|sms\s*code|\bpin\b"
    r"|密码|助记词|私钥|秘钥|密钥|验证码|动态码|口令"
)
_FORM_KEYS = frozenset({"id", "title", "topics", "ticket", "intro", "slots"})
_SLOT_KEYS = frozenset({"name", "validator", "required", "label", "prompt", "aliases", "hint"})
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class FormConfigError(ValueError):
    """``config/forms.yaml`` is malformed; the message names the file, form and slot."""


def load_forms(path: Path | str = DEFAULT_FORMS_PATH) -> FormCatalog:
    """Read and check the form definitions.

    Raises:
        FormConfigError: The file is missing, is not YAML, or a form or slot is malformed.

    """
    source = str(path)
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise FormConfigError(f"{source}: cannot read the form file: {exc}") from exc
    except yaml.YAMLError as exc:
        raise FormConfigError(f"{source}: not valid YAML: {exc}") from exc
    return parse_forms(raw, source)


def parse_forms(raw: object, source: str = "<memory>") -> FormCatalog:
    """Build a :class:`FormCatalog` from already parsed YAML (see :func:`load_forms`)."""
    if not isinstance(raw, Mapping):
        raise FormConfigError(
            f"{source}: the top level must be a mapping with 'idle_timeout_minutes' and 'forms'"
        )
    minutes = raw.get("idle_timeout_minutes")
    if isinstance(minutes, bool) or not isinstance(minutes, int | float) or minutes <= 0:
        raise FormConfigError(f"{source}: 'idle_timeout_minutes' must be a positive number, got {minutes!r}")
    entries = raw.get("forms")
    if not isinstance(entries, list) or not entries:
        raise FormConfigError(f"{source}: 'forms' must be a non-empty list")
    forms: list[FormSpec] = []
    topics: dict[str, str] = {}
    for index, entry in enumerate(entries):
        form = _form(entry, f"{source}: form #{index + 1}")
        if any(f.id == form.id for f in forms):
            raise FormConfigError(f"{source}: form {form.id}: the id is used twice")
        for topic in form.topics:
            if topic in topics:
                raise FormConfigError(
                    f"{source}: form {form.id}: topic {topic!r} already starts {topics[topic]}"
                )
            topics[topic] = form.id
        forms.append(form)
    return FormCatalog(forms=tuple(forms), idle_timeout=timedelta(minutes=float(minutes)), source=source)


def _entry(
    raw: object, where: str, key: str, kind: str, allowed: frozenset[str]
) -> tuple[Mapping[Any, Any], str, str]:
    """Check a form or slot entry's shape, name and keys.

    Args:
        raw: The entry as parsed.
        where: Where it is (``<file>: form #2``), for errors.
        key: The key of its snake_case name (``id``, ``name``).
        kind: What it is (``form``, ``slot``).
        allowed: The keys it may have.

    Returns:
        The entry, its name, and ``where`` naming it (``<file>: form missing_deposit``).

    """
    if not isinstance(raw, Mapping):
        raise FormConfigError(f"{where}: must be a mapping")
    name = raw.get(key)
    if not isinstance(name, str) or not _NAME.match(name):
        raise FormConfigError(f"{where}: '{key}' must be a snake_case name, got {name!r}")
    where = where.rsplit(":", 1)[0] + f": {kind} {name}"
    unknown = set(raw) - allowed
    if unknown:
        raise FormConfigError(f"{where}: unknown keys {sorted(unknown)}; allowed: {sorted(allowed)}")
    return raw, name, where


def _form(entry: object, where: str) -> FormSpec:
    raw, form_id, where = _entry(entry, where, "id", "form", _FORM_KEYS)
    topics = raw.get("topics", [])
    if not isinstance(topics, list) or not all(isinstance(t, str) and t for t in topics):
        raise FormConfigError(f"{where}: 'topics' must be a list of KB topic ids")
    ticket = raw.get("ticket")
    if not isinstance(ticket, Mapping) or not isinstance(ticket.get("category"), str):
        raise FormConfigError(f"{where}: 'ticket' must give a 'category' and a 'priority'")
    priority = ticket.get("priority")
    if priority not in PRIORITIES:
        raise FormConfigError(
            f"{where}: ticket priority must be one of {', '.join(PRIORITIES)}, got {priority!r}"
        )
    slots_raw = raw.get("slots")
    if not isinstance(slots_raw, list) or not slots_raw:
        raise FormConfigError(f"{where}: 'slots' must be a non-empty list")
    slots: list[SlotSpec] = []
    for number, slot_raw in enumerate(slots_raw, start=1):
        slot = _slot(slot_raw, f"{where}: slot #{number}")
        if any(s.name == slot.name for s in slots):
            raise FormConfigError(f"{where}: slot {slot.name}: the name is used twice")
        slots.append(slot)
    if not any(s.required for s in slots):
        raise FormConfigError(f"{where}: at least one slot must be required")
    return FormSpec(
        id=form_id,
        title=_text(raw.get("title"), f"{where}: title"),
        topics=tuple(topics),
        category=str(ticket["category"]),
        priority=str(priority),
        intro=_text(raw.get("intro"), f"{where}: intro"),
        slots=tuple(slots),
    )


def _slot(entry: object, where: str) -> SlotSpec:
    raw, name, where = _entry(entry, where, "name", "slot", _SLOT_KEYS)
    validator = raw.get("validator")
    try:
        kind = SlotKind(str(validator))
    except ValueError:
        choices = ", ".join(k.value for k in SlotKind)
        raise FormConfigError(f"{where}: validator {validator!r} is unknown: use one of {choices}") from None
    required = raw.get("required", True)
    if not isinstance(required, bool):
        raise FormConfigError(f"{where}: 'required' must be true or false, got {required!r}")
    aliases = raw.get("aliases", [])
    if not isinstance(aliases, list) or not all(isinstance(a, str) and a.strip() for a in aliases):
        raise FormConfigError(f"{where}: 'aliases' must be a list of words")
    hint = raw.get("hint")
    return SlotSpec(
        name=name,
        kind=kind,
        required=required,
        label=_text(raw.get("label"), f"{where}: label"),
        prompt=_text(raw.get("prompt"), f"{where}: prompt"),
        aliases=tuple(a.strip() for a in aliases),
        hint=None if hint is None else _text(hint, f"{where}: hint"),
    )


def _text(raw: Any, where: str) -> Text:
    if not isinstance(raw, Mapping) or not all(
        isinstance(raw.get(k), str) and raw[k].strip() for k in ("en", "zh")
    ):
        raise FormConfigError(f"{where}: needs non-empty 'en' and 'zh' texts")
    for lang in ("en", "zh"):
        found = SECRET_REQUEST.search(raw[lang])
        if found:
            raise FormConfigError(
                f"{where}: the {lang} text mentions {found.group(0)!r}; forms never ask for passwords, "
                "seed phrases, private keys or 2FA codes"
            )
    return Text(en=raw["en"].strip(), zh=raw["zh"].strip())

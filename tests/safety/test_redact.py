from __future__ import annotations

import dataclasses
import random

import pytest
from mnemonic import Mnemonic

from core.safety import Finding, Redaction, SecretKind, marker, redact
from core.safety.redaction import merge
from tests.safety import material
from tests.safety.helpers import assert_removed


def _mixed_message() -> tuple[str, dict[str, SecretKind]]:
    seed = " ".join(material.phrase("mixed", 24))
    wif = material.wif(material.private_key("mixed"), compressed=True)
    zh = " ".join(material.phrase("zh-mixed", 12, "chinese_traditional"))
    secrets = {
        seed: SecretKind.SEED_PHRASE,
        wif: SecretKind.PRIVATE_KEY,
        material.BIP32_VECTOR1_XPRV: SecretKind.EXTENDED_PRIVATE_KEY,
        "S3cr3t!pass": SecretKind.PASSWORD,
        "402918": SecretKind.OTP_CODE,
        zh: SecretKind.SEED_PHRASE,
    }
    text = (
        f"Hi team, someone drained my account.\nseed: {seed}\n"
        f"I also had this key {wif} and the xprv {material.BIP32_VECTOR1_XPRV}.\n"
        f"My login password is S3cr3t!pass and the 2fa code is 402918.\n"
        f"另一个钱包的助记词：{zh}\n"
        "Order 778812 was placed at 12:40. Please help!"
    )
    return text, secrets


def test_findings_point_at_the_secrets_in_the_original_text() -> None:
    text, secrets = _mixed_message()
    result = redact(text)
    assert [text[f.start : f.end] for f in result.findings] == list(secrets)
    assert [f.kind for f in result.findings] == list(secrets.values())
    assert_removed(text, result, secrets)
    assert "Order 778812 was placed at 12:40. Please help!" in result.text
    assert result.kinds == frozenset(secrets.values())


def test_output_keeps_no_fragment_of_any_secret() -> None:
    text, secrets = _mixed_message()
    result = redact(text)
    for secret in secrets:
        for size in (8, 12):
            for start in range(0, max(1, len(secret) - size), 3):
                fragment = secret[start : start + size]
                if " " not in fragment and len(fragment) == size:
                    assert fragment not in result.text


def test_redaction_is_idempotent() -> None:
    text, _ = _mixed_message()
    once = redact(text)
    twice = redact(once.text)
    assert twice.findings == ()
    assert twice.text == once.text


def test_nothing_to_redact() -> None:
    text = "Hi, my withdrawal of 0.25 BTC has been pending for 2 hours, order 123456."
    result = redact(text)
    assert result == Redaction(text=text, findings=())
    assert not result.redacted


def test_markers_are_language_neutral() -> None:
    assert {marker(kind) for kind in SecretKind} == {
        "[REDACTED:seed_phrase]",
        "[REDACTED:private_key]",
        "[REDACTED:extended_private_key]",
        "[REDACTED:password]",
        "[REDACTED:otp_code]",
    }


def test_overlapping_findings_merge_into_the_most_severe_kind() -> None:
    merged = merge(
        [
            Finding(SecretKind.PASSWORD, 10, 20),
            Finding(SecretKind.SEED_PHRASE, 5, 15),
            Finding(SecretKind.OTP_CODE, 30, 36),
            Finding(SecretKind.PRIVATE_KEY, 36, 40),
        ]
    )
    assert merged == (
        Finding(SecretKind.SEED_PHRASE, 5, 20),
        Finding(SecretKind.OTP_CODE, 30, 36),
        Finding(SecretKind.PRIVATE_KEY, 36, 40),
    )


def test_password_that_is_a_seed_phrase() -> None:
    seed = " ".join(material.phrase("pw-seed"))
    text = f'password: "{seed}"'
    result = redact(text)
    assert [f.kind for f in result.findings] == [SecretKind.SEED_PHRASE]
    assert_removed(text, result, [seed])


def test_values_are_frozen() -> None:
    result = redact("pw: hunter22")
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.text = "x"  # type: ignore[misc]
    with pytest.raises(ValueError, match="invalid finding span"):
        Finding(SecretKind.PASSWORD, 5, 5)


# --- long and hostile input: every case is checked for the right answer, not for time -----------------

_BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


@pytest.mark.parametrize(
    "text",
    [
        "a" * 10_000,
        "1" * 10_000,
        "f" * 10_000,
        "".join(random.Random(1).choice(_BASE58) for _ in range(10_000)),
        ("password " * 1_250)[:10_000],
        ("my password is " * 700)[:10_000],
        ("2fa code is " * 900)[:10_000],
        "验证码是" * 2_500,
        (", 1. " * 2_000)[:10_000],
        ".,;: -" * 1_700,
        ("can you please tell me what this is about " * 240)[:10_000],
        ("is @xyz_support real " * 480)[:10_000],
        "的" * 10_000,
        ("的 " * 5_000)[:10_000],
    ],
    ids=lambda text: f"{text[:12]!r}x{len(text)}",
)
def test_ten_thousand_characters_of_hostile_input(text: str) -> None:
    assert len(text) >= 9_999
    result = redact(text)
    assert result.findings == (), result.findings[:3]
    assert result.text == text


def test_ten_thousand_characters_of_list_words_are_all_redacted() -> None:
    rng = random.Random(2)
    words = [w for w in Mnemonic("english").wordlist if len(w) >= 5]
    text = " ".join(rng.choice(words) for _ in range(1_700))[:10_000].rsplit(" ", 1)[0]
    result = redact(text)
    assert {f.kind for f in result.findings} == {SecretKind.SEED_PHRASE}
    # Runs this long are cut into check-summed phrases and what lies between them: all of it goes.
    assert result.text.replace("[REDACTED:seed_phrase]", "").strip() == ""


def test_secrets_buried_in_a_long_message_are_found_at_the_right_place() -> None:
    filler = "Hello, I have a question about my account balance and the fees. " * 150
    seed = " ".join(material.phrase("buried"))
    wif = material.wif(material.private_key("buried"), compressed=False)
    text = filler + seed + " and " + wif + " " + filler
    assert len(text) > 19_000
    result = redact(text)
    assert [(f.kind, text[f.start : f.end]) for f in result.findings] == [
        (SecretKind.SEED_PHRASE, seed),
        (SecretKind.PRIVATE_KEY, wif),
    ]
    assert result.text == filler + "[REDACTED:seed_phrase] and [REDACTED:private_key] " + filler


def test_a_hundred_thousand_characters_of_list_words() -> None:
    """An email-sized run of list words is redacted whole, without deep recursion."""
    rng = random.Random(3)
    words = Mnemonic("english").wordlist
    text = " ".join(rng.choice(words) for _ in range(16_000))
    assert len(text) > 100_000
    result = redact(text)
    assert result.text.replace("[REDACTED:seed_phrase]", "").strip() == ""

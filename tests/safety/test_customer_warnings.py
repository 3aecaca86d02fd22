from __future__ import annotations

import re

import pytest

from core.safety import Finding, SecretKind, redact, warning_for
from core.safety.customer_warnings import language
from tests.safety import material


def _findings(*kinds: SecretKind) -> list[Finding]:
    return [Finding(kind, i * 10, i * 10 + 5) for i, kind in enumerate(kinds)]


def test_no_findings_no_warning() -> None:
    assert warning_for([], "en") is None
    assert warning_for(redact("hello").findings, "zh") is None


@pytest.mark.parametrize(
    ("kind", "must_say"),
    [
        (
            SecretKind.SEED_PHRASE,
            ["recovery phrase", "compromised", "new wallet", "all your funds", "never ask"],
        ),
        (SecretKind.EXTENDED_PRIVATE_KEY, ["every address", "new wallet", "never ask"]),
        (SecretKind.PRIVATE_KEY, ["compromised", "new wallet", "never ask"]),
        (SecretKind.PASSWORD, ["Change this password now", "two-factor", "never ask"]),
        (SecretKind.OTP_CODE, ["Never share", "scam", "never ask"]),
    ],
)
def test_english_advice(kind: SecretKind, must_say: list[str]) -> None:
    text = warning_for(_findings(kind), "en")
    assert text is not None
    for phrase in must_say:
        assert phrase in text
    assert "delete your original message" in text


@pytest.mark.parametrize(
    ("kind", "must_say"),
    [
        (SecretKind.SEED_PHRASE, ["助记词", "已泄露", "新钱包", "永远不会"]),
        (SecretKind.EXTENDED_PRIVATE_KEY, ["扩展私钥", "新钱包"]),
        (SecretKind.PRIVATE_KEY, ["私钥", "新钱包"]),
        (SecretKind.PASSWORD, ["立即修改", "二次验证"]),
        (SecretKind.OTP_CODE, ["验证码", "诈骗"]),
    ],
)
def test_chinese_advice(kind: SecretKind, must_say: list[str]) -> None:
    text = warning_for(_findings(kind), "zh-CN")
    assert text is not None
    for phrase in must_say:
        assert phrase in text
    assert not re.search(r"\b(?:the|and|your|never|you)\b", text, re.IGNORECASE)


def test_combined_warning_is_ordered_by_severity_and_mentions_each_kind_once() -> None:
    text = warning_for(
        _findings(SecretKind.OTP_CODE, SecretKind.PASSWORD, SecretKind.SEED_PHRASE, SecretKind.PASSWORD), "en"
    )
    assert text is not None
    assert text.count("Change this password now") == 1
    assert text.index("recovery phrase") < text.index("Change this password") < text.index("Never share")
    assert "a wallet recovery phrase (seed phrase) and a password and a verification code" in text


def test_warning_for_a_real_redaction_never_repeats_the_secret() -> None:
    seed = " ".join(material.phrase("warn"))
    result = redact(f"seed: {seed} password: Hunter22!")
    text = warning_for(result.findings, "en")
    assert text is not None
    assert seed not in text and "Hunter22!" not in text


@pytest.mark.parametrize(
    ("tag", "code"),
    [
        ("en", "en"),
        ("en-GB", "en"),
        ("zh", "zh"),
        ("zh_Hant_TW", "zh"),
        ("ZH-cn", "zh"),
        ("fr", "en"),
        ("", "en"),
    ],
)
def test_language_tags(tag: str, code: str) -> None:
    assert language(tag) == code

from __future__ import annotations

import pytest

from core.safety import SecretKind, redact
from tests.safety.helpers import assert_removed, only

PASSWORD = SecretKind.PASSWORD
OTP = SecretKind.OTP_CODE


@pytest.mark.parametrize(
    ("text", "secret", "expected"),
    [
        ("my password is hunter2", "hunter2", "my password is [REDACTED:password]"),
        ("pw: X9!kq", "X9!kq", "pw: [REDACTED:password]"),
        (
            "password: Tr0ub4dor&3 can you log in and check",
            "Tr0ub4dor&3",
            "password: [REDACTED:password] can you log in and check",
        ),
        ("pass = letmein", "letmein", "pass = [REDACTED:password]"),
        ("Password=CorrectHorse", "CorrectHorse", "Password=[REDACTED:password]"),
        ('my password is "my dog rex 1"', "my dog rex 1", "my password is [REDACTED:password]"),
        ("My password is sunshine.", "sunshine", "My password is [REDACTED:password]"),
        (
            "my password for binance is Qwerty123!",
            "Qwerty123",
            "my password for binance is [REDACTED:password]",
        ),
        (
            "my passphrase is correcthorse please",
            "correcthorse",
            "my passphrase is [REDACTED:password] please",
        ),
        ("my pin is 4821", "4821", "my pin is [REDACTED:password]"),
        ("change my pin to 9275", "9275", "change my pin to [REDACTED:password]"),
        ("密码是abc123", "abc123", "密码是[REDACTED:password]"),
        ("我的密码：xxx9988，登不上去", "xxx9988", "我的密码：[REDACTED:password]，登不上去"),
        ("资金密码 135790", "135790", "资金密码 [REDACTED:password]"),
        ("登录密码改成了Abc@2024", "Abc@2024", "登录密码改成了[REDACTED:password]"),
    ],
)
def test_passwords(text: str, secret: str, expected: str) -> None:
    result = redact(text)
    only(result, PASSWORD)
    assert result.text == expected
    assert_removed(text, result, [secret])


@pytest.mark.parametrize(
    "text",
    [
        "my password is wrong",
        "My password is not working, can you reset it?",
        "I don't know what my password is, can you help?",
        "I can't remember what my password is anymore",
        "My PIN was entered wrong and now I am blocked.",
        "My PIN isn't working.",
        "The passcode isn't working for me.",
        "my password is being rejected",
        "password reset link expired",
        "how long should my password be?",
        "I need to change my password to log in",
        "Forgot password: what should I do?",
        "密码错误怎么办",
        "密码忘了，怎么找回？",
        "密码是什么？",
        "密码要求8位以上吗",
        "动态密码一直收不到",
    ],
)
def test_talking_about_passwords_is_not_a_password(text: str) -> None:
    assert redact(text).findings == ()


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("2fa code 123456", "123456"),
        ("google authenticator code is 123 456", "123 456"),
        ("验证码 654321", "654321"),
        ("谷歌验证码是123456", "123456"),
        ("sms code: 4821", "4821"),
        ("the 2FA code I got was 908172, is that right?", "908172"),
        ("email code 55512345", "55512345"),
        ("短信验证码：４４７２１９", "４４７２１９"),
        ("my OTP is 771204", "771204"),
        ("Authenticator says 311-502", "311-502"),
        ("120934 is my 2fa code", "120934"),
        ("收到的验证码是 830211 请问是你们发的吗", "830211"),
    ],
)
def test_one_time_codes(text: str, secret: str) -> None:
    result = redact(text)
    only(result, OTP)
    finding = result.findings[0]
    assert text[finding.start : finding.end] == secret
    assert_removed(text, result, [secret])


@pytest.mark.parametrize(
    "text",
    [
        "my order 123456 has not arrived",
        "I deposited 123456 USDT yesterday",
        "withdrawal of 250000 is pending",
        "订单号123456，请帮我看看",
        "金额 654321 元",
        "My 2FA is not working, order 123456 failed",
        "I lost my 2fa device, my uid is 20488213",
        "2fa reset requested on 2024-05-12",
        "the sms code never arrives, I tried 5 times",
        "验证码收不到，已经等了10分钟",
        "referral code 482913",
        "error code 403",
        "I sent 1,234.56 USDT, sms code did not come",
    ],
)
def test_numbers_without_code_context_stay(text: str) -> None:
    assert redact(text).findings == ()

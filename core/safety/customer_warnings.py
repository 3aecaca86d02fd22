"""What to tell a customer who pasted a secret into the chat.

Named ``customer_warnings`` rather than ``warnings`` so it can never shadow the standard library module.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from core.safety.findings import SEVERITY, Finding, SecretKind

logger = logging.getLogger(__name__)

LANGUAGES: tuple[str, ...] = ("en", "zh")

_HEADER = {
    "en": (
        "For your safety, we hid part of your message: it looked like it contained {what}. "
        "Our support team cannot see it and it was not saved in our records."
    ),
    "zh": (
        "为保护您的资产安全，我们已隐藏您消息中的部分内容：其中似乎包含{what}。"
        "客服人员看不到这部分内容，我们也没有保存它。"
    ),
}

_NAMES = {
    "en": {
        SecretKind.SEED_PHRASE: "a wallet recovery phrase (seed phrase)",
        SecretKind.EXTENDED_PRIVATE_KEY: "an extended private key (xprv)",
        SecretKind.PRIVATE_KEY: "a private key",
        SecretKind.PASSWORD: "a password",
        SecretKind.OTP_CODE: "a verification code",
    },
    "zh": {
        SecretKind.SEED_PHRASE: "钱包助记词",
        SecretKind.EXTENDED_PRIVATE_KEY: "扩展私钥（xprv）",
        SecretKind.PRIVATE_KEY: "私钥",
        SecretKind.PASSWORD: "密码",
        SecretKind.OTP_CODE: "验证码",
    },
}

_ADVICE = {
    "en": {
        SecretKind.SEED_PHRASE: (
            "Anyone who has these words controls the wallet and everything in it, so treat that wallet as "
            "compromised. Right now, create a brand-new wallet with a new recovery phrase and move all your "
            "funds to it. Do not reuse the old phrase or import it anywhere. We will never ask for your "
            "recovery phrase, and nobody legitimate ever will: anyone who asks for it is trying to steal "
            "your funds."
        ),
        SecretKind.EXTENDED_PRIVATE_KEY: (
            "An extended private key gives control of every address in that wallet. Treat the whole wallet "
            "as compromised: create a new wallet now and move all your funds to it. We will never ask for "
            "your private keys."
        ),
        SecretKind.PRIVATE_KEY: (
            "Anyone who has a private key controls the funds at that address. Treat it as compromised: "
            "move the funds to a new wallet you control now. We will never ask for your private keys."
        ),
        SecretKind.PASSWORD: (
            "Change this password now, and anywhere else you use it. Turn on two-factor authentication with "
            "an authenticator app, and check your account for devices, sessions, API keys or withdrawal "
            "addresses you don't recognise. We will never ask for your password."
        ),
        SecretKind.OTP_CODE: (
            "Never share verification codes (2FA, SMS or email codes) with anyone, including people who say "
            "they work for us: we will never ask for one. If someone asked you for this code, it is a scam. "
            "Stop replying to them, change your password, and check your account for withdrawals or "
            "devices you don't recognise."
        ),
    },
    "zh": {
        SecretKind.SEED_PHRASE: (
            "任何人拿到这组助记词都能完全控制该钱包及其中的全部资产，请将该钱包视为已泄露。"
            "请立即创建一个使用全新助记词的新钱包，并把所有资产转入新钱包；不要再使用或在任何地方导入旧助记词。"
            "我们永远不会向您索要助记词，任何正规机构也不会；索要助记词的人都是想盗取您的资产。"
        ),
        SecretKind.EXTENDED_PRIVATE_KEY: (
            "扩展私钥可以控制该钱包下的所有地址，请将整个钱包视为已泄露，立即创建新钱包并转移全部资产。"
            "我们永远不会向您索要私钥。"
        ),
        SecretKind.PRIVATE_KEY: (
            "任何人拿到私钥都能控制该地址上的资产，请将其视为已泄露，立即把资产转到您自己掌控的新钱包。"
            "我们永远不会向您索要私钥。"
        ),
        SecretKind.PASSWORD: (
            "请立即修改这个密码，以及其他使用相同密码的账户。请开启身份验证器（谷歌验证器等）二次验证，"
            "并检查账户中是否有您不认识的登录设备、会话、API 密钥或提币地址。我们永远不会向您索要密码。"
        ),
        SecretKind.OTP_CODE: (
            "请勿向任何人透露验证码（谷歌验证码、短信或邮箱验证码），包括自称是我们工作人员的人：我们永远不会向您索要验证码。"
            "如果有人向您索要这个验证码，那就是诈骗。请停止与对方联系，立即修改密码，"
            "并检查账户中是否有您不认识的提币记录或登录设备。"
        ),
    },
}

_FOOTER = {
    "en": "If you can, also delete your original message from this chat.",
    "zh": "如果可以，请同时在聊天中删除您发送的原始消息。",
}

_JOIN_NAMES = {"en": " and ", "zh": "和"}


def language(lang: str) -> str:
    """Map a language tag ("zh-CN", "zh_Hant", "en-GB") to one the warnings are written in (en or zh)."""
    base = lang.strip().lower().replace("_", "-").split("-", 1)[0]
    if base in LANGUAGES:
        return base
    logger.debug("no safety warnings in %r: falling back to English", lang)
    return "en"


def warning_for(findings: Iterable[Finding], lang: str) -> str | None:
    """Return the message to send a customer whose message had secrets removed, or ``None`` if none were.

    The warning names what was found and gives the advice for each kind, most severe first.

    Args:
        findings: The findings of :func:`core.safety.redaction.redact`.
        lang: The customer's language tag; English is used for languages without a translation.

    """
    kinds = sorted({finding.kind for finding in findings}, key=SEVERITY.index)
    if not kinds:
        return None
    code = language(lang)
    what = _JOIN_NAMES[code].join(_NAMES[code][kind] for kind in kinds)
    paragraphs = [_HEADER[code].format(what=what), *(_ADVICE[code][kind] for kind in kinds), _FOOTER[code]]
    return "\n\n".join(paragraphs)

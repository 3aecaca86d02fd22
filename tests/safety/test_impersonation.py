from __future__ import annotations

import re

import pytest

from core.safety import impersonation_warning, mentions_support_contact


@pytest.mark.parametrize(
    "text",
    [
        "an admin DMed me and asked for my wallet address",
        "is @xyz_support real?",
        "Is @Binance_Helpdesk legit? they replied to my tweet",
        "Someone claiming to be support messaged me on telegram",
        "a moderator asked me to DM him",
        "I got a DM from your support team",
        "is this account legit?",
        "support contacted me on whatsapp about my withdrawal",
        "they told me to message @fastrefund_desk",
        "客服加我微信",
        "官方客服私信我让我转账",
        "这个是官方的吗",
        "有个管理员联系我说账户有风险",
        "是不是客服啊？他让我下载一个app",
        "有人冒充客服给我打电话",
    ],
)
def test_support_contact_is_recognised(text: str) -> None:
    assert mentions_support_contact(text)


@pytest.mark.parametrize(
    "text",
    [
        "How do I contact support?",
        "is the exchange rate real time?",
        "My card payment was declined",
        "I want to talk to a human agent",
        "Can I add a second admin to my business account?",
        "客服什么时候上班",
        "我想联系客服",
        "官方网站打不开",
    ],
)
def test_ordinary_support_questions_are_not(text: str) -> None:
    assert not mentions_support_contact(text)


def test_warning_names_only_the_official_handles_in_english() -> None:
    text = impersonation_warning(["@HelplineSupport", " @HelplineStatus ", "", "@HelplineSupport"], "en")
    assert re.findall(r"@[A-Za-z0-9_]+", text) == ["@HelplineSupport", "@HelplineStatus"]
    assert "never message you first" in text
    assert "recovery phrase" in text


def test_warning_names_only_the_official_handles_in_chinese() -> None:
    text = impersonation_warning(["@HelplineSupport"], "zh")
    assert re.findall(r"@[A-Za-z0-9_]+", text) == ["@HelplineSupport"]
    assert "冒充" in text and "绝不会主动私信您" in text


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_warning_without_handles_names_none(lang: str) -> None:
    text = impersonation_warning([], lang)
    assert "@" not in text

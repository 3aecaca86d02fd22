"""Normalisation, language detection and segmentation."""

from __future__ import annotations

import pytest

from core.text import detect_language, light_normalize, normalize, reply_language, segment, to_simplified


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ＷＩＴＨＤＲＡＷＡＬ　ｐｅｎｄｉｎｇ！！", "withdrawal pending"),
        ("My Deposit HASN'T arrived?!", "my deposit hasnt arrived"),
        ("hasn’t", "hasnt"),
        ("我的帳戶被凍結了，怎麼辦？", "我的帐户被冻结了 怎么办"),
        ("充值还没到账。。。", "充值还没到账"),
        ("deposit 😡😡 missing", "deposit missing"),
        ("  lots\t of \n space  ", "lots of space"),
        ("usdt-trc20", "usdt trc20"),
        ("zero\u200bwidth", "zerowidth"),
        ("", ""),
        ("?!。，", ""),
    ],
)
def test_normalize(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


def test_traditional_phrases_become_mainland_words() -> None:
    assert to_simplified("軟體 網路 帳號") == "软件 网络 帐号"
    assert to_simplified("plain ascii") == "plain ascii"


def test_light_normalize_keeps_case_and_punctuation() -> None:
    assert light_normalize("Ｗhy  hasn't my 提幣 arrived?") == "Why hasn't my 提币 arrived?"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("my deposit has not arrived", "en"),
        ("充值还没到账", "zh"),
        ("我的USDT充值没到账", "zh"),
        ("how do I 提现", "mixed"),
        ("我想withdraw my money", "mixed"),
        ("請問提幣要多久", "zh"),
        ("", "en"),
        ("12345 !!!", "en"),
        ("KYC", "en"),
    ],
)
def test_detect_language(text: str, expected: str) -> None:
    assert detect_language(text) == expected


def test_reply_language_follows_the_majority_and_defaults() -> None:
    assert reply_language("我的USDT充值没到账") == "zh"
    assert reply_language("how do I 提现") == "en"
    assert reply_language("提现 提现 how") == "zh"
    assert reply_language("", default="zh") == "zh"
    assert reply_language("123", default="en") == "en"


def test_segment_splits_chinese_with_jieba_and_keeps_latin_words() -> None:
    words = segment(normalize("我的USDT充值没有到账"))
    assert "usdt" in words
    assert "充值" in words
    assert "".join(w for w in words if w != "usdt") == "我的充值没有到账"
    assert segment("") == []

from __future__ import annotations

from collections.abc import Callable

import pytest
from mnemonic import Mnemonic

from core.safety import SecretKind, redact
from core.safety.seed_chinese import RANDOMNESS_THRESHOLD, randomness
from core.safety.wordlists import chinese
from tests.safety import material
from tests.safety.helpers import assert_removed, only

SEED = SecretKind.SEED_PHRASE
LANGUAGES = ["chinese_simplified", "chinese_traditional"]


def _phrase(label: str, words: int, language: str) -> list[str]:
    chars = material.phrase(label, words, language)
    # The fixtures must look like real (random) seeds; the entropy labels were picked to be ordinary ones.
    assert randomness("".join(chars), chinese()) >= RANDOMNESS_THRESHOLD
    return chars


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("words", [12, 24])
def test_spaced_phrase(language: str, words: int) -> None:
    chars = _phrase(f"zh-{words}", words, language)
    text = f"客服你好，我的钱包被盗了，这是我的助记词：{' '.join(chars)} 请帮我查一下"
    result = redact(text)
    only(result, SEED)
    assert result.text == "客服你好，我的钱包被盗了，这是我的助记词：[REDACTED:seed_phrase] 请帮我查一下"
    assert_removed(text, result, [" ".join(chars)])


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(
    "layout",
    [
        lambda cs: "，".join(cs),
        lambda cs: "、".join(cs),
        lambda cs: " ".join(f"{i}.{c}" for i, c in enumerate(cs, 1)),
        lambda cs: "\n".join(f"{i}、{c}" for i, c in enumerate(cs, 1)),
        lambda cs: "\u3000".join(cs),
    ],
    ids=["fullwidth-commas", "enumeration-commas", "numbered", "numbered-lines", "ideographic-space"],
)
def test_spaced_layouts_without_context(language: str, layout: Callable[[list[str]], str]) -> None:
    chars = _phrase("zh-layout", 12, language)
    pasted = layout(chars)
    result = redact(f"帮我看看\n{pasted}\n谢谢")
    only(result, SEED)
    assert result.text == "帮我看看\n[REDACTED:seed_phrase]\n谢谢"


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("words", [12, 24])
def test_unspaced_after_context_word(language: str, words: int) -> None:
    chars = "".join(_phrase(f"zh-unspaced-{words}", words, language))
    text = f"我的助记词是{chars}，现在币都没了"
    result = redact(text)
    only(result, SEED)
    assert result.text == "我的助记词是[REDACTED:seed_phrase]，现在币都没了"
    finding = result.findings[0]
    assert text[finding.start : finding.end] == chars


@pytest.mark.parametrize("language", LANGUAGES)
def test_unspaced_checksum_valid_phrase_alone(language: str) -> None:
    chars = "".join(_phrase("zh-alone", 12, language))
    assert redact(chars).text == "[REDACTED:seed_phrase]"
    assert redact(f"这个对吗？\n{chars}").text == "这个对吗？\n[REDACTED:seed_phrase]"


def test_space_grouped_phrase_with_english_context() -> None:
    chars = _phrase("zh-grouped", 12, "chinese_simplified")
    grouped = " ".join("".join(chars[i : i + 4]) for i in range(0, 12, 4))
    result = redact(f"seed: {grouped}")
    assert result.text == "seed: [REDACTED:seed_phrase]"


def test_partial_phrase_next_to_context() -> None:
    chars = "".join(_phrase("zh-partial", 24, "chinese_simplified")[:8])
    assert redact(f"助记词前八个是：{chars}").text == "助记词前八个是：[REDACTED:seed_phrase]"
    # Without the context word and without a checksum, eight characters are just eight characters.
    assert redact(chars).findings == ()


def test_mistyped_spaced_phrase() -> None:
    chars = _phrase("zh-typo", 12, "chinese_simplified")
    outside = next(c for c in "龘靐齉爩" if c not in chinese())
    typo = [*chars[:5], outside, *chars[6:]]
    result = redact(" ".join(typo))
    only(result, SEED)
    assert result.text == "[REDACTED:seed_phrase]"


def test_bip39_degenerate_vector_needs_context() -> None:
    zeros = Mnemonic("chinese_simplified").to_mnemonic(bytes(16)).replace(" ", "")
    assert zeros == "的的的的的的的的的的的在"
    assert redact(f"助记词：{zeros}").text == "助记词：[REDACTED:seed_phrase]"
    assert redact(" ".join(zeros)).text == "[REDACTED:seed_phrase]"


@pytest.mark.parametrize(
    "sentence",
    [
        "你好，我昨天充值的USDT还没有到账，请帮我查一下是什么原因",
        "我的助记词丢了，我想知道为什么我的账户被冻结了",
        "助记词是什么意思？为什么注册的时候要我抄下来",
        "请问种子短语和私钥有什么区别",
        "我想知道提现为什么一直在审核中，已经等了三个小时了",
        "东、南、西、北、上、下、左、右都找过了",
        "订单号是123456，金额是5000元，请尽快处理",
        "我不小心把币转到了错误的地址，还能找回来吗",
        "你们的客服什么时候上班？我有问题想问",
        "我的账户显示异常，登录的时候一直提示密码错误",
        "该剧以刘伯承告别军校结尾，舞台处理新颖、大胆",
        "为什么我的身份认证一直没有通过？",
    ],
)
def test_ordinary_chinese_is_left_alone(sentence: str) -> None:
    assert redact(sentence).findings == ()


@pytest.mark.parametrize("language", LANGUAGES)
def test_unspaced_before_context_word(language: str) -> None:
    chars = "".join(_phrase("zh-before", 12, language))
    assert redact(f"{chars}是我的助记词，怎么办").text == "[REDACTED:seed_phrase]是我的助记词，怎么办"

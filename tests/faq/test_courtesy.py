"""Greetings, pleas and thanks around a question are left out of the lexical comparison."""

from __future__ import annotations

import pytest

from core.text import light_question, normalize_question, strip_courtesy


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Hi, pls help: my deposit hasn't arrived, thanks!", "my deposit hasnt arrived"),
        ("Hey there!! how do I reset 2FA?? thx", "how do i reset 2fa"),
        ("urgent - withdrawal stuck ASAP", "withdrawal stuck"),
        ("Good morning, sorry, I sent to the wrong network", "i sent to the wrong network"),
        ("你好，请问怎么提现？谢谢", "怎么提现"),
        ("您好請問提幣要多久 謝謝", "提币要多久"),
        ("喂，充值没到账 急", "充值没到账"),
        ("麻烦帮我查一下充值 在线等", "帮我查一下充值"),
        # Numbers at the ends are looked through and kept.
        ("where is my withdrawal thanks #4711", "where is my withdrawal 4711"),
        ("order 123 thanks", "order 123"),
    ],
)
def test_courtesy_around_a_question_goes(raw: str, expected: str) -> None:
    assert normalize_question(raw) == expected


@pytest.mark.parametrize(
    "kept",
    [
        "i need help from a person",  # "help" inside the question is content
        "help center is down",  # a bare leading "help" may name something
        "急用钱怎么办",  # 急 glued to the question is a word, not a plea
        "how do i say thanks to the team",
        "2fa code not working",
    ],
)
def test_words_inside_the_question_stay(kept: str) -> None:
    assert strip_courtesy(kept) == kept


@pytest.mark.parametrize("bare", ["hello", "thanks", "谢谢", "你好", "hi thanks", "12"])
def test_a_message_of_courtesy_only_is_kept_whole(bare: str) -> None:
    assert strip_courtesy(bare) == bare


def test_empty_text() -> None:
    assert strip_courtesy("") == ""


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Hi, pls help: my deposit hasn't arrived, thanks!", "my deposit hasn't arrived"),
        ("Hey there!! How do I reset 2FA?? thx", "How do I reset 2FA??"),
        ("urgent - withdrawal stuck ASAP", "withdrawal stuck"),
        ("你好，请问怎么提现？谢谢", "怎么提现?"),
        ("喂，充值没到账 急", "充值没到账"),
        ("where is my withdrawal, thanks #4711", "where is my withdrawal #4711"),
        ("I need help from a person", "I need help from a person"),
        ("Hello!", "Hello!"),
        ("急用钱怎么办", "急用钱怎么办"),
    ],
)
def test_the_embedding_model_reads_the_question_with_its_case_and_punctuation(
    raw: str, expected: str
) -> None:
    assert light_question(raw) == expected

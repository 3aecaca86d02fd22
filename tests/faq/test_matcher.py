"""Matcher behaviour with the real embedding model on the small fixture KB."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from core.faq.calibration import Thresholds
from core.faq.kb import load_knowledge_base
from core.faq.matcher import MAX_SUGGESTIONS, FaqMatcher, Outcome
from tests.faq.conftest import FIXTURE_KB


@pytest.fixture(scope="module")
def matcher(faq_cache_dir: Path) -> FaqMatcher:
    return FaqMatcher.build(load_knowledge_base(FIXTURE_KB), cache_dir=faq_cache_dir)


@pytest.mark.parametrize(
    ("question", "topic", "lang"),
    [
        ("my deposit has not arrived", "deposit.not_credited", "en"),
        (
            "I sent USDT to my deposit address two hours ago and my balance is still empty",
            "deposit.not_credited",
            "en",
        ),
        ("充值还没到账", "deposit.not_credited", "zh"),
        ("我昨天充的币到现在还没有显示在余额里", "deposit.not_credited", "zh"),
        ("我的提幣一直在處理中", "withdrawal.pending", "zh"),
        ("忘記密碼了怎麼辦", "account.password_reset", "zh"),
        ("my KYC 被拒绝了", "kyc.rejected", "zh"),
        ("how do I 重置密码", "account.password_reset", "en"),
        ("widthdrawl still pendng", "withdrawal.pending", "en"),
        ("forgot my pasword how to resset", "account.password_reset", "en"),
        ("I LOST MY PHONE AND MY GOOGLE AUTHENTICATOR", "account.2fa_lost", "en"),
        ("ＡＰＩ ｋｅｙ for my trading bot", "api.create_key", "en"),
    ],
)
def test_finds_the_topic_in_either_language(
    matcher: FaqMatcher, question: str, topic: str, lang: str
) -> None:
    result = matcher.match(question)
    assert result.topic is not None and result.topic.id == topic
    assert result.outcome in {Outcome.ANSWER, Outcome.SUGGEST}
    assert result.lang == lang
    assert result.question == question


def test_clear_questions_get_confident_answers(matcher: FaqMatcher) -> None:
    for question in ("my deposit has not arrived", "forgot my password", "转人工", "交易手续费是多少"):
        result = matcher.match(question)
        assert result.outcome is Outcome.ANSWER, question
        assert result.score >= matcher.thresholds.answer
        assert result.suggestions == ()


@pytest.mark.parametrize(
    "question",
    [
        "is it going to be sunny in Berlin on Saturday",
        "tell me something funny about penguins",
        "can you do my chemistry homework for me",
        "周六北京会下雨吗",
        "讲个冷笑话吧",
        "帮我写完物理作业",
    ],
)
def test_out_of_scope_never_gets_a_confident_answer(matcher: FaqMatcher, question: str) -> None:
    assert matcher.match(question).outcome is not Outcome.ANSWER


def test_the_three_outcomes_follow_the_thresholds(matcher: FaqMatcher) -> None:
    question = "my withdrawal fee looks wrong"
    score = matcher.match(question).score
    assert 0 < score <= 1
    answer = matcher.with_thresholds(Thresholds(answer=score - 1e-6, suggest=0.0)).match(question)
    assert answer.outcome is Outcome.ANSWER and answer.topic is not None and answer.suggestions == ()
    suggest = matcher.with_thresholds(Thresholds(answer=1.01, suggest=score - 1e-6)).match(question)
    assert suggest.outcome is Outcome.SUGGEST
    assert suggest.topic is not None and suggest.suggestions[0] == suggest.topic
    assert 1 <= len(suggest.suggestions) <= MAX_SUGGESTIONS
    assert len({t.id for t in suggest.suggestions}) == len(suggest.suggestions)
    fallback = matcher.with_thresholds(Thresholds(answer=1.01, suggest=score + 1e-6)).match(question)
    assert fallback.outcome is Outcome.FALLBACK and fallback.topic is None and fallback.suggestions == ()


@pytest.mark.parametrize(
    ("bare", "polite"),
    [
        ("my deposit has not arrived", "hi, pls help: my deposit has not arrived, thanks!"),
        ("forgot my password", "Hello! forgot my password asap"),
        ("充值还没到账", "你好，请问充值还没到账？谢谢"),
    ],
)
def test_courtesy_changes_neither_the_answer_nor_its_cost(
    matcher: FaqMatcher, bare: str, polite: str
) -> None:
    before = matcher.embedded_questions
    expected = matcher.match(bare)
    bare_embedded = matcher.embedded_questions - before
    result = matcher.match(polite)
    polite_embedded = matcher.embedded_questions - before - bare_embedded
    assert result.outcome is expected.outcome is Outcome.ANSWER
    assert result.topic == expected.topic
    assert result.question == polite
    # A question the lexical stage answers alone is answered alone with its greetings too.
    assert polite_embedded == bare_embedded


def test_ambiguous_question_offers_did_you_mean(matcher: FaqMatcher) -> None:
    loose = matcher.with_thresholds(Thresholds(answer=1.01, suggest=0.0))
    result = loose.match("fee for withdrawing")
    assert result.outcome is Outcome.SUGGEST
    ids = [t.id for t in result.suggestions]
    assert "withdrawal.pending" in ids or "trading.fees" in ids


def test_empty_and_blank_questions_fall_back(matcher: FaqMatcher) -> None:
    for question in ("", "   ", "?!?!", "😀😀"):
        result = matcher.match(question)
        assert result.outcome is Outcome.FALLBACK
        assert result.topic is None and result.score == 0.0


def test_ten_thousand_characters(matcher: FaqMatcher) -> None:
    long_question = "my deposit has not arrived " + "blah " * 2000
    assert len(long_question) > 10_000
    result = matcher.match(long_question)
    assert result.question == long_question
    assert result.topic is not None and result.topic.id == "deposit.not_credited"
    assert matcher.match("x" * 10_000).outcome is not Outcome.ANSWER
    assert matcher.match("充值" * 5000).lang == "zh"


def test_verbatim_title_is_an_exact_answer(matcher: FaqMatcher) -> None:
    result = matcher.match("Lost 2FA device")
    assert result.outcome is Outcome.ANSWER and result.score == 1.0
    assert result.topic is not None and result.topic.id == "account.2fa_lost"


async def test_match_async_agrees_with_match(matcher: FaqMatcher) -> None:
    questions = [
        "my deposit has not arrived",
        "提现要多久",
        "reset my 2fa please",
        "api key",
        "where is my money",
    ]
    results = await asyncio.gather(*(matcher.match_async(q) for q in questions))
    for question, result in zip(questions, results, strict=True):
        expected = matcher.match(question)
        assert result.question == question
        assert result.outcome is expected.outcome
        assert (result.topic and result.topic.id) == (expected.topic and expected.topic.id)
        assert result.score == pytest.approx(expected.score, abs=1e-4)


def test_lexical_only_matcher_needs_no_model(faq_cache_dir: Path) -> None:
    lexical = FaqMatcher.build(load_knowledge_base(FIXTURE_KB), cache_dir=faq_cache_dir, embeddings=False)
    assert not lexical.uses_embeddings
    result = lexical.match("withdrawal still pending")
    assert result.topic is not None and result.topic.id == "withdrawal.pending"
    assert lexical.embedded_questions == 0


class _GatedEmbedder:
    """The real model, made to wait for the test before embedding chosen questions."""

    def __init__(self, inner: Any, hold: str) -> None:
        self._inner = inner
        self._hold = hold
        self.name = inner.name
        self.dim = inner.dim
        self.release = threading.Event()
        self.threads: set[int] = set()

    def embed(self, texts: Sequence[str]) -> Any:
        self.threads.add(threading.get_ident())
        if any(self._hold in t for t in texts):
            assert self.release.wait(10), "the test never released the embedding"
        return self._inner.embed(texts)


def _gated(matcher: FaqMatcher, hold: str) -> tuple[FaqMatcher, _GatedEmbedder]:
    # No lexical shortcut: every question but an exact one needs the model.
    strict = matcher.with_thresholds(Thresholds(matcher.thresholds.answer, matcher.thresholds.suggest))
    gate = _GatedEmbedder(strict._embedder, hold)
    strict._embedder = gate
    return strict, gate


async def test_a_question_the_cheap_stages_settle_does_not_wait_behind_embeddings(
    matcher: FaqMatcher,
) -> None:
    strict, gate = _gated(matcher, "deposited")
    slow = asyncio.create_task(strict.match_async("the coins I deposited have still not shown up"))
    await asyncio.sleep(0.05)
    # An example of the KB, word for word: answered by the exact stage while the model is busy.
    exact = await asyncio.wait_for(strict.match_async("forgot my password"), 1.0)
    assert exact.outcome is Outcome.ANSWER and exact.score == 1.0
    assert not slow.done()
    gate.release.set()
    result = await slow
    assert result.topic is not None and result.topic.id == "deposit.not_credited"
    assert threading.get_ident() not in gate.threads


async def test_each_embedded_question_is_answered_as_soon_as_its_own_pass_is_done(
    matcher: FaqMatcher,
) -> None:
    strict, gate = _gated(matcher, "withdrawal")
    first = asyncio.create_task(strict.match_async("the coins I deposited have still not shown up"))
    held = asyncio.create_task(strict.match_async("the withdrawal I made is stuck in processing"))
    third = asyncio.create_task(strict.match_async("cannot remember the password of my account"))
    # The first is not held back by the question queued behind it; the third waits its turn.
    done = await asyncio.wait_for(first, 5.0)
    assert done.topic is not None and done.topic.id == "deposit.not_credited"
    await asyncio.sleep(0.05)
    assert not held.done() and not third.done()
    gate.release.set()
    assert (await held).topic.id == "withdrawal.pending"  # type: ignore[union-attr]
    assert (await third).topic.id == "account.password_reset"  # type: ignore[union-attr]
    assert strict.embedded_questions == 3

"""The engine answers at once and upgrades its matcher as the indexes are built (and tuned)."""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path

import pytest

from adapters.runtime import start_engine
from core.engine.faq_engine import FaqEngine
from core.faq.e5_onnx import E5OnnxEmbedder
from core.faq.matcher import FaqMatcher
from core.settings import Settings, load_settings
from tests.faq.conftest import FIXTURE_KB


def settings_for(tmp_path: Path, **engine: str) -> Settings:
    environ = {
        "HELPLINE_DATA_DIR": str(tmp_path),
        "HELPLINE_ENGINE__KNOWLEDGE_BASE": str(FIXTURE_KB),
        **{f"HELPLINE_ENGINE__{key.upper()}": value for key, value in engine.items()},
    }
    return load_settings(environ)


async def started(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> tuple[FaqEngine, list[FaqMatcher]]:
    """Start the engine, wait for its upgrades, and return it with the matchers it moved to."""
    upgrades: list[FaqMatcher] = []
    original = FaqEngine.use_matcher

    def recording(engine: FaqEngine, matcher: FaqMatcher) -> None:
        upgrades.append(matcher)
        original(engine, matcher)

    monkeypatch.setattr(FaqEngine, "use_matcher", recording)
    tasks: list[asyncio.Task[None]] = []
    engine = await start_engine(settings, tasks)
    assert not engine.matcher.uses_embeddings, "answers at once, lexically"
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=600)
    return engine, upgrades


async def test_the_stock_model_follows_the_lexical_matcher(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, upgrades = await started(settings_for(tmp_path), monkeypatch)

    assert [m.model_name for m in upgrades] == [E5OnnxEmbedder.name]
    assert engine.matcher is upgrades[-1]


async def test_with_tuning_the_tuned_model_follows_the_stock_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_for(tmp_path, tune_encoder="true", tune_steps="3")

    engine, upgrades = await started(settings, monkeypatch)

    names = [m.model_name for m in upgrades]
    assert len(names) == 2
    assert names[0] == E5OnnxEmbedder.name
    assert names[1] is not None and names[1].startswith(f"{E5OnnxEmbedder.name}-")
    assert engine.matcher is upgrades[-1]
    answer = engine.matcher.match("忘记密码了怎么办")
    assert answer.topic is not None and answer.topic.id == "account.password_reset"


async def test_when_tuning_is_impossible_the_stock_model_goes_on_answering(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)
    settings = settings_for(tmp_path, tune_encoder="true", tune_steps="3")

    with caplog.at_level(logging.ERROR):
        engine, upgrades = await started(settings, monkeypatch)

    assert [m.model_name for m in upgrades] == [E5OnnxEmbedder.name]
    assert engine.matcher.model_name == E5OnnxEmbedder.name
    failure = next(r for r in caplog.records if "could not be tuned" in r.getMessage())
    assert failure.exc_info is not None and "pip install torch" in str(failure.exc_info[1])

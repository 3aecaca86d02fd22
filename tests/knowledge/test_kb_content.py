"""Content checks for the bilingual FAQ knowledge base and its held-out evaluation set.

These tests read only the YAML files (``config/knowledge/*.yaml`` and ``bench/data/faq_heldout.yaml``)
so that the content contract holds whatever matcher is built on top of it.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
KB_DIR = ROOT / "config" / "knowledge"
HELDOUT = ROOT / "bench" / "data" / "faq_heldout.yaml"

LANGS = ("en", "zh")

REQUIRED_IDS = frozenset(
    {
        "account.register",
        "account.login_failed",
        "account.password_reset",
        "account.2fa_lost",
        "account.locked",
        "account.hacked",
        "account.change_email_phone",
        "account.delete",
        "kyc.how_to",
        "kyc.rejected",
        "kyc.processing_time",
        "deposit.not_credited",
        "deposit.wrong_network",
        "deposit.missing_memo",
        "deposit.confirmations",
        "deposit.fiat",
        "withdrawal.pending",
        "withdrawal.not_received",
        "withdrawal.fees",
        "withdrawal.limits",
        "withdrawal.suspended",
        "withdrawal.address_whitelist",
        "withdrawal.cancel",
        "trading.order_not_filled",
        "trading.order_types",
        "trading.stop_loss",
        "trading.fees",
        "trading.failed",
        "trading.how_to_buy",
        "trading.how_to_sell",
        "trading.volatility",
        "futures.liquidation",
        "futures.funding_rate",
        "api.create_key",
        "api.rate_limits",
        "api.permissions",
        "security.phishing",
        "security.scam",
        "security.staff_never_ask",
        "promo.reward_missing",
        "p2p.payment_dispute",
        "platform.maintenance",
        "platform.app_issue",
        "support.human",
        "support.ticket_status",
        "support.complaint",
        "support.investment_advice",
    }
)

ALLOWED_PLACEHOLDERS = frozenset(
    {"brand", "help_center_url", "status_url", "fees_url", "api_docs_url", "app_url", "official_handles"}
)
ALLOWED_FORMS = frozenset(
    {
        "missing_deposit",
        "withdrawal_not_received",
        "account_compromised",
        "lost_2fa",
        "kyc_rejected",
        "p2p_dispute",
        "unfilled_order",
        "talk_to_human",
    }
)
TOPIC_KEYS = frozenset(
    {"id", "category", "title", "answer", "examples", "keywords", "form", "ticket", "safe_public"}
)

# Follow-ups the product relies on: the dialogue engine opens these forms or tickets.
EXPECTED_FORMS = {
    "deposit.not_credited": "missing_deposit",
    "withdrawal.not_received": "withdrawal_not_received",
    "account.hacked": "account_compromised",
    "account.2fa_lost": "lost_2fa",
    "kyc.rejected": "kyc_rejected",
    "p2p.payment_dispute": "p2p_dispute",
    "trading.order_not_filled": "unfilled_order",
    "support.human": "talk_to_human",
}
EXPECTED_TICKETS = frozenset({"support.complaint", "account.delete", "promo.reward_missing"})
EXPECTED_SAFE_PUBLIC = frozenset(
    {"trading.order_types", "withdrawal.fees", "deposit.confirmations", "security.staff_never_ask"}
)
# Topics about an individual customer's account or money: never auto-posted publicly.
NEVER_PUBLIC = frozenset(
    {
        "account.login_failed",
        "account.locked",
        "account.hacked",
        "account.2fa_lost",
        "account.delete",
        "account.change_email_phone",
        "kyc.rejected",
        "deposit.not_credited",
        "deposit.wrong_network",
        "deposit.missing_memo",
        "withdrawal.pending",
        "withdrawal.not_received",
        "withdrawal.cancel",
        "trading.order_not_filled",
        "trading.failed",
        "futures.liquidation",
        "promo.reward_missing",
        "p2p.payment_dispute",
        "security.scam",
        "support.human",
        "support.ticket_status",
        "support.complaint",
    }
)
# Topics where money moves or credentials are at stake must carry the staff reminder.
STAFF_REMINDER_TOPICS = frozenset(
    {
        "account.hacked",
        "account.2fa_lost",
        "deposit.not_credited",
        "deposit.missing_memo",
        "withdrawal.pending",
        "withdrawal.not_received",
        "p2p.payment_dispute",
        "security.phishing",
        "security.staff_never_ask",
    }
)
REAL_EXCHANGES = (
    "binance",
    "coinbase",
    "kraken",
    "okx",
    "bybit",
    "kucoin",
    "huobi",
    "bitget",
    "bitfinex",
    "gate.io",
    "gemini",
    "crypto.com",
    "mexc",
    "bitstamp",
    "币安",
    "火币",
    "欧易",
)

MIN_EXAMPLES = 8  # the format contract's floor for our own KB
MIN_EXAMPLES_REQUIRED_TOPICS = 10  # what the content brief asks of every required topic
MAX_ANSWER_CHARS = 900
MAX_TITLE_CHARS = 40
X_LIMIT = 280
MIN_HELDOUT_PER_TOPIC = 3
MIN_OUT_OF_SCOPE = 40

SAMPLE_SETTINGS = {
    "brand": "ExampleExchange",
    "help_center_url": "https://help.example.com",
    "status_url": "https://status.example.com",
    "fees_url": "https://example.com/fees",
    "api_docs_url": "https://docs.example.com/api",
    "app_url": "https://example.com/app",
    "official_handles": "@ExampleEx on X and t.me/ExampleEx",
}

_EXCHANGE_PATTERNS = {name: re.compile(rf"(?<![a-z]){re.escape(name)}(?![a-z])") for name in REAL_EXCHANGES}
CJK = re.compile(r"[\u3400-\u9fff]")
URL = re.compile(r"https?://|www\.", re.IGNORECASE)


def _norm(text: str) -> str:
    return " ".join(text.casefold().split())


def _load_kb() -> list[tuple[Path, dict[str, Any]]]:
    files = sorted(KB_DIR.glob("*.yaml"))
    assert files, f"no knowledge files in {KB_DIR}"
    topics: list[tuple[Path, dict[str, Any]]] = []
    for path in files:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert isinstance(data, dict) and isinstance(data.get("topics"), list), f"{path.name}: needs topics"
        for topic in data["topics"]:
            assert isinstance(topic, dict), f"{path.name}: every topic is a mapping"
            topics.append((path, topic))
    return topics


KB = _load_kb()
TOPICS = {topic["id"]: topic for _, topic in KB}
HELDOUT_CASES: list[dict[str, Any]] = yaml.safe_load(HELDOUT.read_text(encoding="utf-8"))["cases"]


def _x_weight(text: str) -> int:
    """Approximate X's weighted length: CJK and other wide characters count twice."""
    return sum(1 if ord(ch) <= 0x10FF else 2 for ch in text)


def _first_sentence(answer: str) -> str:
    return answer.split("\n", 1)[0].strip()


def test_every_required_id_present_exactly_once() -> None:
    counts = Counter(topic["id"] for _, topic in KB)
    missing = sorted(REQUIRED_IDS - counts.keys())
    assert not missing, f"missing topics: {missing}"
    duplicated = sorted(topic_id for topic_id, n in counts.items() if n > 1)
    assert not duplicated, f"ids defined more than once: {duplicated}"


@pytest.mark.parametrize(("path", "topic"), KB, ids=[t["id"] for _, t in KB])
def test_topic_shape(path: Path, topic: dict[str, Any]) -> None:
    assert set(topic) <= TOPIC_KEYS, f"unknown keys {set(topic) - TOPIC_KEYS}"
    topic_id = topic["id"]
    assert re.fullmatch(r"[a-z0-9]+\.[a-z0-9_]+", topic_id), topic_id
    assert topic_id.split(".", 1)[0] == topic["category"]
    assert path.stem == topic["category"], "one file per category"
    for lang in LANGS:
        title = topic["title"][lang]
        assert isinstance(title, str) and title.strip()
        assert len(title) <= MAX_TITLE_CHARS, title
        answer = topic["answer"][lang]
        assert isinstance(answer, str) and answer.strip()
        assert len(answer) <= MAX_ANSWER_CHARS, f"{lang} answer is {len(answer)} chars"
        examples = topic["examples"][lang]
        assert isinstance(examples, list) and all(isinstance(e, str) and e.strip() for e in examples)
        assert len(examples) >= MIN_EXAMPLES
        if topic_id in REQUIRED_IDS:
            assert len(examples) >= MIN_EXAMPLES_REQUIRED_TOPICS
    for flag in ("ticket", "safe_public"):
        assert isinstance(topic.get(flag, False), bool)
    keywords = topic.get("keywords", {})
    assert isinstance(keywords, dict) and set(keywords) <= set(LANGS)
    assert all(isinstance(k, str) and k for words in keywords.values() for k in words)


@pytest.mark.parametrize(("path", "topic"), KB, ids=[t["id"] for _, t in KB])
def test_languages_are_not_mixed_up(path: Path, topic: dict[str, Any]) -> None:
    for field in ("title", "answer"):
        assert not CJK.search(topic[field]["en"]), f"Chinese text in the English {field}"
        assert CJK.search(topic[field]["zh"]), f"the Chinese {field} has no Chinese"
    for example in topic["examples"]["en"]:
        assert not CJK.search(example), example
    for example in topic["examples"]["zh"]:
        assert CJK.search(example), f"zh example without Chinese characters (pinyin?): {example!r}"


def test_examples_unique_across_kb() -> None:
    seen: dict[str, str] = {}
    clashes = []
    for _, topic in KB:
        for lang in LANGS:
            for example in topic["examples"][lang]:
                key = _norm(example)
                if key in seen:
                    clashes.append((example, seen[key], topic["id"]))
                seen[key] = topic["id"]
    assert not clashes, f"duplicated examples: {clashes}"


@pytest.mark.parametrize(("path", "topic"), KB, ids=[t["id"] for _, t in KB])
def test_answers_use_only_allowed_placeholders(path: Path, topic: dict[str, Any]) -> None:
    for lang in LANGS:
        answer = topic["answer"][lang]
        fields = {name for _, name, _, _ in string.Formatter().parse(answer) if name is not None}
        assert fields <= ALLOWED_PLACEHOLDERS, f"{lang}: unknown placeholders {fields - ALLOWED_PLACEHOLDERS}"
        rendered = answer.format(**SAMPLE_SETTINGS)
        assert "{" not in rendered and "}" not in rendered


@pytest.mark.parametrize(("path", "topic"), KB, ids=[t["id"] for _, t in KB])
def test_no_urls_or_real_exchange_names(path: Path, topic: dict[str, Any]) -> None:
    for lang in LANGS:
        answer = topic["answer"][lang]
        assert not URL.search(answer), f"{lang} answer contains a URL literal"
        texts = [answer, topic["title"][lang], *topic["examples"][lang]]
        for text in texts:
            lowered = text.casefold()
            hits = [name for name in REAL_EXCHANGES if _EXCHANGE_PATTERNS[name].search(lowered)]
            assert not hits, f"real exchange named in {text!r}"


@pytest.mark.parametrize(("path", "topic"), KB, ids=[t["id"] for _, t in KB])
def test_first_sentence_fits_an_x_reply(path: Path, topic: dict[str, Any]) -> None:
    for lang in LANGS:
        first = _first_sentence(topic["answer"][lang].format(**SAMPLE_SETTINGS))
        assert first.endswith((".", "。")), f"{lang}: first line is not a complete sentence: {first!r}"
        assert _x_weight(first) <= X_LIMIT, f"{lang}: first sentence weighs {_x_weight(first)} on X"


@pytest.mark.parametrize(("path", "topic"), KB, ids=[t["id"] for _, t in KB])
def test_follow_up_is_valid(path: Path, topic: dict[str, Any]) -> None:
    form = topic.get("form")
    if form is not None:
        assert form in ALLOWED_FORMS, form
        assert not topic.get("ticket", False), "a topic opens a form or a ticket, not both"
    if topic.get("safe_public", False):
        assert form is None and not topic.get("ticket", False), "public answers never need a follow-up"


def test_required_follow_ups_and_public_flags() -> None:
    for topic_id, form in EXPECTED_FORMS.items():
        assert TOPICS[topic_id].get("form") == form, topic_id
    for topic_id in EXPECTED_TICKETS:
        assert TOPICS[topic_id].get("ticket") is True, topic_id
    for topic_id in EXPECTED_SAFE_PUBLIC:
        assert TOPICS[topic_id].get("safe_public") is True, topic_id
    leaked = sorted(t for t in NEVER_PUBLIC if TOPICS[t].get("safe_public", False))
    assert not leaked, f"account-specific topics marked safe_public: {leaked}"


def test_security_reminder_where_money_moves() -> None:
    for topic_id in STAFF_REMINDER_TOPICS:
        answer = TOPICS[topic_id]["answer"]
        assert "{brand}" in answer["en"] and "will never ask" in answer["en"], topic_id
        assert "{brand}" in answer["zh"] and "绝不会" in answer["zh"], topic_id


def test_investment_advice_is_declined() -> None:
    answer = TOPICS["support.investment_advice"]["answer"]
    assert answer["en"].startswith("Sorry, we can't give investment advice")
    assert answer["zh"].startswith("抱歉，我们无法提供投资建议")


def test_heldout_cases_are_well_formed() -> None:
    assert HELDOUT_CASES
    texts = Counter(_norm(case["text"]) for case in HELDOUT_CASES)
    assert not [t for t, n in texts.items() if n > 1], "held-out texts repeat"
    for case in HELDOUT_CASES:
        assert set(case) == {"text", "lang", "topic"}, case
        assert case["lang"] in LANGS, case
        assert case["topic"] is None or case["topic"] in TOPICS, f"unknown topic in {case}"
        if case["lang"] == "zh":
            assert CJK.search(case["text"]), case
        else:
            assert not CJK.search(case["text"]), case


def test_heldout_never_reuses_kb_examples() -> None:
    kb_examples = {_norm(e) for _, topic in KB for lang in LANGS for e in topic["examples"][lang]}
    reused = [case["text"] for case in HELDOUT_CASES if _norm(case["text"]) in kb_examples]
    assert not reused, f"held-out cases copied from the KB: {reused}"


def test_heldout_covers_every_topic_and_out_of_scope() -> None:
    counts = Counter((case["topic"], case["lang"]) for case in HELDOUT_CASES)
    thin = sorted(
        (topic_id, lang)
        for topic_id in TOPICS
        for lang in LANGS
        if counts[(topic_id, lang)] < MIN_HELDOUT_PER_TOPIC
    )
    assert not thin, f"fewer than {MIN_HELDOUT_PER_TOPIC} held-out cases: {thin}"
    for lang in LANGS:
        assert counts[(None, lang)] >= MIN_OUT_OF_SCOPE, f"{lang}: too few out-of-scope cases"

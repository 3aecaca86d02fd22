"""Loading and validating knowledge-base YAML."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.faq.kb import KnowledgeBaseError, load_knowledge_base
from tests.faq.conftest import FIXTURE_KB

VALID = """
topics:
  - id: deposit.not_credited
    category: deposit
    title: {en: "Deposit not credited", zh: "充值未到账"}
    answer: {en: "See {status_url}.", zh: "请查看 {status_url}。"}
    examples: {en: ["deposit missing"], zh: ["充值没到账"]}
"""


def write(tmp_path: Path, text: str, name: str = "kb.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_loads_a_directory_in_file_order() -> None:
    kb = load_knowledge_base(FIXTURE_KB)
    ids = [t.id for t in kb.topics]
    assert ids[0] == "account.password_reset"  # account.yaml sorts before money.yaml
    assert len(ids) == 8
    topic = kb.get("deposit.not_credited")
    assert topic.form == "missing_deposit"
    assert topic.ticket is False and topic.safe_public is False
    assert topic.keywords["zh"] == ("充值", "充币")
    assert kb.get("support.human").ticket is True
    assert len(topic.examples["en"]) == 8 and len(topic.examples["zh"]) == 8


def test_loads_a_single_file_and_tolerates_missing_languages(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
topics:
  - id: banking77.card_arrival
    category: banking77
    answer: {en: "[placeholder]"}
    examples: {en: ["where is my card", "card not arrived"]}
""",
    )
    kb = load_knowledge_base(path)
    topic = kb.get("banking77.card_arrival")
    assert topic.title == {"en": "card arrival"}
    assert "zh" not in topic.examples
    assert topic.label("zh") == "card arrival"


def test_content_hash_is_stable_and_tracks_content(tmp_path: Path) -> None:
    first = load_knowledge_base(write(tmp_path, VALID)).content_hash
    reformatted = VALID.replace(
        'examples: {en: ["deposit missing"], zh: ["充值没到账"]}',
        'examples:\n      en:\n        - deposit missing\n      zh: ["充值没到账"]',
    )
    assert load_knowledge_base(write(tmp_path, reformatted)).content_hash == first
    changed = VALID.replace("deposit missing", "deposit lost")
    assert load_knowledge_base(write(tmp_path, changed)).content_hash != first


def test_unknown_topic_id_raises_key_error() -> None:
    with pytest.raises(KeyError):
        load_knowledge_base(FIXTURE_KB).get("nope.nothing")


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        (
            VALID.replace('    answer: {en: "See {status_url}.", zh: "请查看 {status_url}。"}\n', ""),
            "'answer' is missing",
        ),
        (VALID.replace("id: deposit.not_credited", "id: not credited"), "needs an id like"),
        (VALID.replace("{status_url}.", "{exchange_url}."), "unknown placeholder {exchange_url}"),
        (
            VALID.replace("    category: deposit\n", "    category: deposit\n    form: refund_form\n"),
            "form 'refund_form' is unknown",
        ),
        (VALID.replace("category: deposit", "category: withdrawal"), "does not match the id"),
        (VALID.replace("Deposit not credited", "x" * 41), "shorten it to 40"),
        (
            VALID.replace("    category: deposit\n", "    category: deposit\n    priority: 3\n"),
            "unknown field(s) priority",
        ),
        (
            VALID.replace('    examples: {en: ["deposit missing"], zh: ["充值没到账"]}\n', ""),
            "'examples' is empty",
        ),
        (VALID.replace('zh: "充值未到账"', 'fr: "Dépôt"'), "language 'fr'"),
        (
            VALID.replace("    category: deposit\n", "    category: deposit\n    ticket: yes please\n"),
            "'ticket' must be true or false",
        ),
        ("topics: [\n", "is not valid YAML"),
        ("faq: []\n", "must be a mapping with a list 'topics:'"),
    ],
)
def test_errors_name_file_topic_and_fix(tmp_path: Path, broken: str, message: str) -> None:
    path = write(tmp_path, broken)
    with pytest.raises(KnowledgeBaseError) as info:
        load_knowledge_base(path)
    text = str(info.value)
    assert str(path) in text
    assert message in text


def test_error_names_the_topic(tmp_path: Path) -> None:
    path = write(tmp_path, VALID.replace("{status_url}.", "{bogus}."))
    with pytest.raises(KnowledgeBaseError, match=r"topic 'deposit.not_credited'"):
        load_knowledge_base(path)


def test_duplicate_id_across_files_names_both(tmp_path: Path) -> None:
    write(tmp_path, VALID, "a.yaml")
    write(tmp_path, VALID, "b.yaml")
    with pytest.raises(KnowledgeBaseError) as info:
        load_knowledge_base(tmp_path)
    assert "b.yaml" in str(info.value) and "a.yaml" in str(info.value)
    assert "rename one of them" in str(info.value)


def test_missing_path_and_empty_directory(tmp_path: Path) -> None:
    with pytest.raises(KnowledgeBaseError, match="no such file or directory"):
        load_knowledge_base(tmp_path / "absent")
    with pytest.raises(KnowledgeBaseError, match=r"no \.yaml files"):
        load_knowledge_base(tmp_path)
    write(tmp_path, "topics: []\n")
    with pytest.raises(KnowledgeBaseError, match="contains no topics"):
        load_knowledge_base(tmp_path)

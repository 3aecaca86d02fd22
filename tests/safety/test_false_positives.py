"""False-positive rates on real customer sentences nobody on the team wrote (Banking77 and CLINC150)."""

from __future__ import annotations

import csv
import json
import random
import re
from collections import Counter

import pytest

from core.safety import SecretKind, redact
from core.safety.impersonation import mentions_support_contact
from tests.shared_data import shared_path


@pytest.fixture(scope="module")
def sentences() -> list[str]:
    with shared_path("intents", "banking77", "train.csv").open(encoding="utf-8") as handle:
        texts = [row["text"] for row in csv.DictReader(handle)]
    clinc = json.loads(shared_path("intents", "clinc150", "data_full.json").read_text(encoding="utf-8"))
    texts += [row[0] for split in clinc.values() for row in split]
    assert len(texts) > 33_000
    return texts


# Customers who set a new PIN in the message ("change my amex pin to 1234") do share a secret.
_SETS_A_PIN = re.compile(r"\bpin\b(?:\s+number)?\s+to(?:\s+be)?\s+\d{4}\b", re.IGNORECASE)


def test_no_secret_found_in_ordinary_sentences(sentences: list[str]) -> None:
    kinds: Counter[SecretKind] = Counter()
    for text in sentences:
        result = redact(text)
        for finding in result.findings:
            kinds[finding.kind] += 1
            if finding.kind is SecretKind.PASSWORD:
                assert _SETS_A_PIN.search(text), text
            else:
                pytest.fail(f"{finding.kind} in {text!r}")
    # Those PIN changes are the only findings (18 of 33,703 sentences).
    assert kinds[SecretKind.PASSWORD] < 30


def test_long_messages_made_of_ordinary_sentences(sentences: list[str]) -> None:
    """Ten sentences glued together: the seed detector must not read a run of list words across them."""
    rng = random.Random(11)
    messages = [" ".join(rng.sample(sentences, 10)) for _ in range(1_500)]
    seeded = [m for m in messages if any(f.kind is SecretKind.SEED_PHRASE for f in redact(m).findings)]
    assert len(seeded) <= 2, seeded


def test_context_words_do_not_turn_sentences_into_seeds(sentences: list[str]) -> None:
    flagged = [s for s in sentences[::3] if redact(f"I lost my seed phrase. {s}").findings]
    assert len(flagged) / len(sentences[::3]) < 0.001, flagged[:5]


def test_support_contact_detector_is_quiet_on_ordinary_sentences(sentences: list[str]) -> None:
    assert [s for s in sentences if mentions_support_contact(s)] == []

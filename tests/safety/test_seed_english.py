from __future__ import annotations

from collections.abc import Callable

import pytest
from mnemonic import Mnemonic

from core.safety import SecretKind, redact
from tests.safety import material
from tests.safety.helpers import assert_removed, assert_words_removed, only

SEED = SecretKind.SEED_PHRASE


@pytest.mark.parametrize("entropy_hex", material.BIP39_VECTOR_ENTROPY)
def test_bip39_reference_vectors_are_redacted(entropy_hex: str) -> None:
    phrase = Mnemonic("english").to_mnemonic(bytes.fromhex(entropy_hex))
    if entropy_hex in material.BIP39_VECTOR_PHRASES:
        assert phrase == material.BIP39_VECTOR_PHRASES[entropy_hex]
    text = f"hi, I think I got hacked. this is what I wrote down: {phrase}"
    result = redact(text)
    only(result, SEED)
    finding = result.findings[0]
    assert text[finding.start : finding.end] == phrase
    assert result.text == "hi, I think I got hacked. this is what I wrote down: [REDACTED:seed_phrase]"


@pytest.mark.parametrize("words", [12, 15, 18, 21, 24])
def test_standard_lengths_alone(words: int) -> None:
    phrase = " ".join(material.phrase(f"alone-{words}", words))
    result = redact(phrase)
    only(result, SEED)
    assert result.text == "[REDACTED:seed_phrase]"
    assert (result.findings[0].start, result.findings[0].end) == (0, len(phrase))


@pytest.mark.parametrize(
    "layout",
    [
        lambda ws: ", ".join(ws),
        lambda ws: "\n".join(ws),
        lambda ws: " ".join(f"{i}. {w}" for i, w in enumerate(ws, 1)),
        lambda ws: "\n".join(f"{i}) {w}" for i, w in enumerate(ws, 1)),
        lambda ws: " ".join(f"#{i} {w}" for i, w in enumerate(ws, 1)),
        lambda ws: " - ".join(w.upper() for w in ws),
        lambda ws: "  ".join(w.capitalize() for w in ws),
        lambda ws: " | ".join(" ".join(ws[i : i + 4]) for i in range(0, len(ws), 4)),
    ],
    ids=[
        "commas",
        "newlines",
        "numbered",
        "numbered-lines",
        "hash-numbered",
        "caps-dashes",
        "capitalised",
        "grid",
    ],
)
@pytest.mark.parametrize("words", [12, 24])
def test_layouts_inside_chatty_messages(layout: Callable[[list[str]], str], words: int) -> None:
    seed = material.phrase(f"layout-{words}", words)
    pasted = layout(seed)
    before, after = (
        "Hello support!! My wallet got drained last night. Here is the backup:\n",
        "\nwhat do I do now???",
    )
    result = redact(before + pasted + after)
    only(result, SEED)
    assert result.text == before + "[REDACTED:seed_phrase]" + after
    assert_words_removed(result, seed, before + after)


def test_numbering_before_the_first_word_goes_too() -> None:
    seed = material.phrase("numbering")
    text = "words: " + " ".join(f"{i}. {w}" for i, w in enumerate(seed, 1))
    result = redact(text)
    assert result.text == "words: [REDACTED:seed_phrase]"


def test_label_before_the_phrase_is_kept() -> None:
    seed = " ".join(material.phrase("label"))
    result = redact(f"my seed phrase: {seed}")
    assert result.text == "my seed phrase: [REDACTED:seed_phrase]"


def test_two_phrases_in_one_message() -> None:
    first, second = " ".join(material.phrase("one")), " ".join(material.phrase("two", 24))
    text = f"old wallet: {first}\nnew wallet: {second}\nwhich one has my BTC?"
    result = redact(text)
    assert [f.kind for f in result.findings] == [SEED, SEED]
    assert (
        result.text
        == "old wallet: [REDACTED:seed_phrase]\nnew wallet: [REDACTED:seed_phrase]\nwhich one has my BTC?"
    )
    assert_removed(text, result, [first, second])


@pytest.mark.parametrize("count", [8, 9, 10, 11])
def test_partial_phrases(count: int) -> None:
    seed = material.phrase(f"partial-{count}", 24)[:count]
    text = f"I only remember the start: {' '.join(seed)} ... is that enough to recover?"
    result = redact(text)
    only(result, SEED)
    assert_words_removed(result, seed)


def test_short_partial_needs_context() -> None:
    seed = material.phrase("short", 24)[:6]
    assert redact(f"first words are {' '.join(seed)}").findings == ()
    result = redact(f"my recovery phrase starts with {' '.join(seed)}")
    only(result, SEED)


@pytest.mark.parametrize(
    ("position", "typo"),
    [(0, "drop"), (3, "swap"), (5, "extra"), (11, "drop"), (7, "replace")],
)
def test_mistyped_phrase_is_still_redacted(position: int, typo: str) -> None:
    seed = material.phrase("typo")
    word = seed[position]
    mistyped = {
        "drop": word[:-1] if len(word) > 3 else word + "e",
        "swap": word[1] + word[0] + word[2:],
        "extra": word + word[-1],
        "replace": word[:2] + ("x" if word[2] != "x" else "y") + word[3:],
    }[typo]
    words = [*seed[:position], mistyped, *seed[position + 1 :]]
    text = "plz help: " + " ".join(words) + " thx"
    result = redact(text)
    only(result, SEED)
    assert_words_removed(result, words)


def test_checksum_failure_does_not_stop_redaction() -> None:
    seed = material.phrase("bad-checksum")
    english = Mnemonic("english")
    wrong = [*seed[:-1], next(w for w in english.wordlist if not english.check(" ".join([*seed[:-1], w])))]
    assert not english.check(" ".join(wrong))
    result = redact(" ".join(wrong))
    only(result, SEED)
    assert result.text == "[REDACTED:seed_phrase]"


def test_trailing_everyday_words_after_a_valid_phrase_are_kept() -> None:
    seed = " ".join(material.phrase("trailing"))
    result = redact(f"{seed} please help")
    assert result.text == "[REDACTED:seed_phrase] please help"


@pytest.mark.parametrize(
    "sentence",
    [
        "Is there any way that you can cancel this transfer before it goes through?",
        "I never notice this fee until now, can you please explain what it is about",
        "Hello, I need help with my account. I can't log in and the app says my session expired.",
        "My deposit of 0.5 BTC has not arrived after three hours, the network shows twelve confirmations.",
        "please tell me when the withdrawal limit will change, I want to move more funds today",
        "Can you help me find where the exchange rate is shown on the trade screen?",
        "I lost my seed phrase, is there any way you can help me recover my wallet?",
        "what is a seed phrase and why does the app want me to write down twelve words",
    ],
)
def test_ordinary_english_is_left_alone(sentence: str) -> None:
    assert redact(sentence).findings == ()

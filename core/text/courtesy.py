"""Greetings, thanks and pleas around a question, which say nothing about what it asks.

"hi, pls help: my deposit hasn't arrived thanks" asks what "my deposit hasn't arrived" asks, but
to a bag-of-words index "hi", "pls", "help" and "thanks" are rare words that no topic contains:
they dilute the question's match score so much that a plain question needs the (slow)
embedding model only because it was polite. :func:`strip_courtesy` removes such phrases from
the start and the end of normalised text, and of the lightly normalised form (case and
punctuation kept) that the embedding model reads; words inside the question are never touched,
so "I need help from a person" keeps its "help".
"""

from __future__ import annotations

import re

# Phrases in simplified Chinese and lower case (matched in any case), words apart by one space
# (matched across any run of spaces and punctuation).
_EN_LEADING = (
    "hello there",
    "hi there",
    "hey there",
    "good morning",
    "good afternoon",
    "good evening",
    "dear support team",
    "dear support",
    "dear team",
    "dear sir",
    "excuse me",
    "pls help me",
    "please help me",
    "pls help",
    "please help",
    "plz help",
    "help me",
    "hello",
    "hi",
    "hey",
    "hiya",
    "yo",
    "pls",
    "please",
    "plz",
    "sorry",
    "urgent",
    "urgently",
    "asap",
    "sos",
    "guys",
    "sir",
    "ok so",
    "so",
    "um",
    "hmm",
)
_EN_TRAILING = (
    "thanks in advance",
    "thank you very much",
    "thank you so much",
    "thank you",
    "thanks a lot",
    "thanks so much",
    "many thanks",
    "thanks",
    "thank u",
    "thx",
    "tks",
    "tnx",
    "ty",
    "cheers",
    "regards",
    "best regards",
    "pls help",
    "please help",
    "help me",
    "pls",
    "please",
    "plz",
    "asap",
    "urgent",
    "urgently",
    "sir",
    "guys",
    "bro",
)
# Chinese is written without spaces: these are removed wherever they open or close the text.
_ZH_LEADING = (
    "您好请问",
    "你好请问",
    "麻烦问一下",
    "想问一下",
    "请问一下",
    "问一下",
    "打扰一下",
    "打扰了",
    "不好意思",
    "客服你好",
    "客服您好",
    "在吗",
    "您好",
    "你好",
    "哈喽",
    "请问",
    "麻烦",
    "急急急",
    "紧急",
)
_ZH_TRAILING = (
    "谢谢你",
    "谢谢您",
    "谢谢",
    "多谢",
    "谢了",
    "感谢",
    "在线等",
    "急急急",
    "麻烦了",
    "麻烦你了",
    "拜托了",
    "拜托",
)
# Single characters that are courtesy only when they stand apart ("喂，…", "… 急").
_ZH_ALONE = ("喂", "嗨", "急")


_SEP = r"[\W_]+"


def _alternation(phrases: tuple[str, ...]) -> str:
    # Longest first, so that a multi-word phrase wins over its first word.
    ordered = sorted(set(phrases), key=len, reverse=True)
    return "|".join(_SEP.join(re.escape(word) for word in p.split(" ")) for p in ordered)


_LEADING = re.compile(
    rf"^[\W_]*(?:(?:{_alternation(_EN_LEADING + _ZH_ALONE)})(?!\w)|(?:{_alternation(_ZH_LEADING)}))[\W_]*",
    re.IGNORECASE,
)
_TRAILING = re.compile(
    rf"(?:(?<!\w)(?:{_alternation(_EN_TRAILING + _ZH_ALONE)})|(?:{_alternation(_ZH_TRAILING)}))[\W_]*$",
    re.IGNORECASE,
)
# Punctuation left dangling where a phrase was cut off ("…, thanks" leaves "…,"); question and
# exclamation marks stay: they are part of the question.
_DANGLING = " ,，、;；:：-–—~～"


def _number(word: str) -> bool:
    digits = word.strip("#()[]（）.,，:：")
    return digits.isdigit()


def strip_courtesy(text: str) -> str:
    """Remove greetings, pleas and thanks from the start and end of a question.

    Numbers at either end are looked through and kept ("… thanks #4711" loses "thanks", not
    "#4711"); punctuation left dangling where a phrase was cut off goes with it.

    Args:
        text: Output of :func:`core.text.normalize.normalize` or of
            :func:`core.text.normalize.light_normalize`.

    Returns:
        The question without them; ``text`` itself when nothing else is left (a bare "hello"
        or "thanks" is still something to answer).

    """
    words = text.split(" ")
    start, end = 0, len(words)
    while start < end and _number(words[start]):
        start += 1
    while end > start and _number(words[end - 1]):
        end -= 1
    core = " ".join(words[start:end])
    while True:
        shorter = _LEADING.sub("", core, count=1).lstrip(_DANGLING)
        shorter = _TRAILING.sub("", shorter, count=1).rstrip(_DANGLING)
        if shorter == core:
            break
        core = shorter
    if not any(ch.isalnum() for ch in core):
        return text
    return " ".join([*words[:start], core, *words[end:]])

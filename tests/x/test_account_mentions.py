"""An account-specific mention: the public reply invites to DM and never repeats the account details.

"@Support my withdrawal has not arrived, 50 USDT, txid …, UID …" is about one customer's
funds: the engine's public answer is general and ends with the invitation to send a private
message; the draft waits for the social team; once approved, the tweet (fitted to 280) still
invites to DM, carries X's DM button, and contains none of the TXID, the amount or the UID.
On SQLite and PostgreSQL, in English and Chinese.
"""

from __future__ import annotations

from typing import Any

import pytest

from adapters.runtime import Runtime
from adapters.x_text import MAX_TWEET, weighted_length
from core.mentions import Draft, MentionQueue
from tests.x.conftest import XHarness, add_agent, dispatch, outbox
from tests.x.fake_x import FakeX

ALICE = "2244994945"
TXID = "9f3c2b7e4d1a6f8b0c5e2d9a7b4c1e3f6a8d0b2c4e6f8a1b3d5c7e9f0a2b4c6d"
UID = "48213977"
DETAILS = (TXID, TXID[:10], UID, "50 USDT", "50")
INVITATION = {"en": "private message (DM)", "zh": "私信（DM）"}


async def _draft_of(runtime: Runtime, fake: FakeX, tweet: str) -> Draft:
    """The one held draft answering ``tweet``; nothing posted before review."""
    await dispatch(runtime)
    assert fake.posted == [], "an account matter is never posted without review"
    [draft] = await MentionQueue(runtime.db).drafts()
    assert draft.mention_external_id == tweet
    return draft


async def _approved_post(runtime: Runtime, fake: FakeX, draft: Draft, tweet: str) -> dict[str, Any]:
    """Approve the draft unedited; the one tweet posted in reply, with X's DM button."""
    await MentionQueue(runtime.db, on_queued=runtime.dispatcher.wake).approve(
        draft.outbox_id, await add_agent(runtime.db)
    )
    await dispatch(runtime)
    [post] = fake.posted
    assert post["reply"] == {"in_reply_to_tweet_id": tweet}
    assert post["direct_message_deep_link"].endswith(f"recipient_id={fake.account_id}")
    assert weighted_length(post["text"]) <= MAX_TWEET
    [row] = await outbox(runtime.db)
    assert row.OutboxEntry.status == "sent"
    return post


def _assert_no_details(*texts: str) -> None:
    for text in texts:
        for detail in DETAILS:
            assert detail not in text, f"{detail!r} repeated in public: {text!r}"


@pytest.mark.parametrize(
    ("lang", "question"),
    [
        ("en", f"my withdrawal has not arrived, 50 USDT, txid {TXID}, UID {UID}"),
        ("zh", f"提现显示已完成但对方没收到，50 USDT，UID {UID}"),
    ],
    ids=["en", "zh"],
)
async def test_an_account_mention_is_invited_to_dm_without_its_details(
    harness: XHarness, lang: str, question: str
) -> None:
    fake = harness.fake
    tweet = fake.add_mention(f"@{fake.account_username} {question}", author_id=ALICE, username="alice")
    async with harness.running() as runtime:
        draft = await _draft_of(runtime, fake, tweet)
        assert INVITATION[lang] in draft.text
        post = await _approved_post(runtime, fake, draft, tweet)
        # The general answer is cut to fit; the invitation that closes it is kept whole.
        assert INVITATION[lang] in post["text"], "the fitted tweet lost its invitation to DM"
        assert not post["text"].rstrip().endswith(("1.", "…")), post["text"]
        _assert_no_details(draft.text, post["text"])


@pytest.mark.parametrize(
    "question",
    [
        f"my withdrawal of 50 USDT is missing, txid {TXID}, UID {UID}",
        f"我提现的 50 USDT 一直没到账，交易哈希 {TXID}，UID {UID}",
    ],
    ids=["en", "zh"],
)
async def test_details_are_never_repeated_when_the_bot_is_unsure(harness: XHarness, question: str) -> None:
    fake = harness.fake
    tweet = fake.add_mention(f"@{fake.account_username} {question}", author_id=ALICE, username="alice")
    async with harness.running() as runtime:
        draft = await _draft_of(runtime, fake, tweet)
        post = await _approved_post(runtime, fake, draft, tweet)
        _assert_no_details(draft.text, post["text"])


async def test_an_unsure_public_answer_still_invites_to_dm(harness: XHarness) -> None:
    fake = harness.fake
    question = f"my withdrawal of 50 USDT is missing, txid {TXID}, UID {UID}"
    tweet = fake.add_mention(f"@{fake.account_username} {question}", author_id=ALICE, username="alice")
    async with harness.running() as runtime:
        draft = await _draft_of(runtime, fake, tweet)
        assert INVITATION["en"] in draft.text

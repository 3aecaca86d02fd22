"""Public replies: held for the social team, approved (edited) or discarded, posted once, fitted to 280."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from sqlalchemy import update

from adapters.runtime import Runtime
from adapters.x_text import MAX_TWEET, links, weighted_length
from conversations.tables import OutboxEntry
from conversations.values import Author, OutboundMessage, Surface
from core.mentions import DraftAlreadyHandled, DraftNotFound, InvalidDraft, MentionQueue
from core.pipeline import utcnow
from tests.x.conftest import XHarness, add_agent, dispatch, outbox, x_channel

ALICE = "2244994945"
QUESTION = "@TweepyDev how many confirmations does a deposit need?"
TOPIC = "deposit.confirmations"


async def test_a_reply_waits_for_approval_then_posts_once_as_edited(harness: XHarness) -> None:
    fake = harness.fake
    tweet = fake.add_mention(QUESTION, author_id=ALICE, username="alice")
    async with harness.running() as runtime:
        await dispatch(runtime)
        assert fake.posted == []
        [row] = await outbox(runtime.db)
        assert row.OutboxEntry.status == "held"

        queue = MentionQueue(runtime.db, on_queued=runtime.dispatcher.wake)
        [draft] = await queue.drafts()
        assert draft.outbox_id == row.OutboxEntry.id
        assert (draft.channel, draft.thread_key, draft.topic) == ("x", tweet, TOPIC)
        assert draft.mention_text == "how many confirmations does a deposit need?"
        assert (draft.mention_author, draft.mention_external_id) == ("@alice", tweet)

        agent = await add_agent(runtime.db)
        edited = (
            "It depends on the network: see https://help.example.com/deposits (tracked in Deposit History)."
        )
        await queue.approve(draft.outbox_id, agent, text=edited)
        assert await queue.drafts() == []
        with pytest.raises(DraftAlreadyHandled):
            await queue.approve(draft.outbox_id, agent)

        await dispatch(runtime)
        await dispatch(runtime)
        [post] = fake.posted
        assert post["text"] == edited
        assert post["reply"] == {"in_reply_to_tweet_id": tweet}
        # The DM button: anything account-specific continues in private.
        assert post["direct_message_deep_link"].endswith(f"recipient_id={fake.account_id}")
        [row] = await outbox(runtime.db)
        assert (row.OutboxEntry.status, row.OutboxEntry.external_id) == ("sent", post["id"])
        assert row.OutboxEntry.reviewed_by_id == agent and row.text == edited


async def test_a_discarded_draft_is_never_posted(harness: XHarness) -> None:
    fake = harness.fake
    fake.add_mention(QUESTION, author_id=ALICE, username="alice")
    async with harness.running() as runtime:
        await dispatch(runtime)
        queue = MentionQueue(runtime.db)
        [draft] = await queue.drafts()
        agent = await add_agent(runtime.db)
        await queue.discard(draft.outbox_id, agent)
        with pytest.raises(DraftAlreadyHandled):
            await queue.discard(draft.outbox_id, agent)
        assert await dispatch(runtime) == 0
        assert fake.posted == []
        [row] = await outbox(runtime.db)
        assert row.OutboxEntry.status == "discarded"


async def test_queue_errors_are_clear(harness: XHarness) -> None:
    fake = harness.fake
    fake.add_mention(QUESTION, author_id=ALICE, username="alice")
    async with harness.running() as runtime:
        await dispatch(runtime)
        queue = MentionQueue(runtime.db)
        [draft] = await queue.drafts()
        agent = await add_agent(runtime.db)
        with pytest.raises(DraftNotFound):
            await queue.approve(999_999, agent)
        with pytest.raises(InvalidDraft):
            await queue.approve(draft.outbox_id, agent, text="   ")
        with pytest.raises(InvalidDraft):
            await queue.approve(draft.outbox_id, 999_999)
        assert [d.outbox_id for d in await queue.drafts()] == [draft.outbox_id]


async def test_a_safe_topic_posts_at_once_fitted_to_280_with_allowed_links(harness: XHarness) -> None:
    fake = harness.fake
    tweet = fake.add_mention(QUESTION, author_id=ALICE, username="alice")
    async with harness.running(safe_topics=f'["{TOPIC}"]') as runtime:
        await dispatch(runtime)
        [post] = fake.posted
        assert post["reply"] == {"in_reply_to_tweet_id": tweet}
        assert weighted_length(post["text"]) <= MAX_TWEET
        assert all("example.com" in link for link in links(post["text"]))
        [row] = await outbox(runtime.db)
        assert row.OutboxEntry.status == "sent" and row.topic == TOPIC


async def test_a_reply_chain_is_not_answered_endlessly(harness: XHarness) -> None:
    fake = harness.fake
    first = fake.add_mention(QUESTION, author_id=ALICE, username="alice")
    async with harness.running(safe_topics=f'["{TOPIC}"]', max_replies_per_thread="1") as runtime:
        await dispatch(runtime)
        fake.add_mention(
            "@TweepyDev and how many confirmations does a deposit need for ETH?",
            author_id=ALICE,
            username="alice",
            conversation_id=first,
        )
        await x_channel(runtime).poller.poll_mentions()  # type: ignore[union-attr]
        await dispatch(runtime)
        assert len(fake.posted) == 1
        statuses = [row.OutboxEntry.status for row in await outbox(runtime.db)]
        assert statuses == ["sent", "held"]


async def test_the_same_message_is_never_posted_twice(harness: XHarness) -> None:
    fake = harness.fake
    tweet = fake.add_mention(QUESTION, author_id=ALICE, username="alice")
    async with harness.running() as runtime:
        channel = x_channel(runtime)
        message = OutboundMessage(
            message_id=4242,
            idempotency_key="helpline-4242",
            channel="x",
            thread_key=tweet,
            text="Thanks, we are on it.",
            surface=Surface.PUBLIC,
            reply_to_external_id=tweet,
            author=Author.AGENT,
        )
        first = await channel.send(message)
        assert await channel.send(message) == first
        second = await channel.send(
            dataclasses.replace(message, message_id=4243, text="Any update? We are checking.")
        )
        assert len(fake.posted) == 2
        # A second reply to the same mention threads under our first one.
        assert fake.posted[1]["reply"] == {"in_reply_to_tweet_id": first}
        assert second == fake.posted[1]["id"]


async def test_rate_limits_and_outages_go_back_to_the_outbox(harness: XHarness) -> None:
    fake = harness.fake
    fake.add_mention(QUESTION, author_id=ALICE, username="alice")
    async with harness.running(safe_topics=f'["{TOPIC}"]') as runtime:
        fake.fail_rate_limited("create_tweet", 90)
        await dispatch(runtime)
        [row] = await outbox(runtime.db)
        assert row.OutboxEntry.status == "pending" and "429" in (row.OutboxEntry.last_error or "")
        delay = row.OutboxEntry.next_attempt_at - utcnow()
        assert timedelta(seconds=60) < delay <= timedelta(seconds=91)
        assert fake.posted == []
        await _make_due(runtime)
        await dispatch(runtime)
        assert len(fake.posted) == 1


async def test_an_attempt_that_may_have_posted_is_held_not_repeated(harness: XHarness) -> None:
    fake = harness.fake
    fake.add_mention(QUESTION, author_id=ALICE, username="alice")
    async with harness.running(safe_topics=f'["{TOPIC}"]') as runtime:
        fake.drop("create_tweet")
        await dispatch(runtime)
        await _make_due(runtime)
        await dispatch(runtime)
        [row] = await outbox(runtime.db)
        assert row.OutboxEntry.status == "held"
        assert "may have been posted" in (row.OutboxEntry.last_error or "")
        assert fake.count("POST", "/2/tweets") == 1
        # A person checked X and lets it out: it is posted.
        await MentionQueue(runtime.db).approve(row.OutboxEntry.id, await add_agent(runtime.db))
        await dispatch(runtime)
        assert len(fake.posted) == 1


async def test_a_refused_post_fails_for_good(harness: XHarness) -> None:
    fake = harness.fake
    fake.add_mention(QUESTION, author_id=ALICE, username="alice")
    async with harness.running(safe_topics=f'["{TOPIC}"]') as runtime:
        detail = "You are not allowed to reply to this Tweet"
        fake.fail("create_tweet", 403, {"title": "Forbidden", "status": 403, "detail": detail})
        await dispatch(runtime)
        [row] = await outbox(runtime.db)
        assert row.OutboxEntry.status == "failed" and "403" in (row.OutboxEntry.last_error or "")


async def test_impersonation_answers_name_only_the_official_handles(harness: XHarness) -> None:
    fake = harness.fake
    fake.add_mention(
        "@TweepyDev is @Acme_Help_Desk your real support? they DMed me asking for my seed",
        author_id=ALICE,
        username="alice",
    )
    async with harness.running() as runtime:
        await dispatch(runtime)
        queue = MentionQueue(runtime.db)
        drafts = await queue.drafts()
        assert drafts and any("@AcmeSupport" in d.text for d in drafts)
        agent = await add_agent(runtime.db)
        for draft in drafts:
            await queue.approve(draft.outbox_id, agent)
        for _ in drafts:
            await dispatch(runtime)
        texts = [post["text"] for post in fake.posted]
        assert len(texts) == len(drafts)
        assert any("@AcmeSupport" in text for text in texts)
        assert all("@Acme_Help_Desk" not in text for text in texts)
        assert all(weighted_length(text) <= MAX_TWEET for text in texts)


async def _make_due(runtime: Runtime) -> None:
    """Bring the retry time of pending deliveries to now (instead of waiting for it)."""
    async with runtime.db.transaction() as session:
        await session.execute(
            update(OutboxEntry).where(OutboxEntry.status == "pending").values(next_attempt_at=utcnow())
        )

"""Polling intake end to end: tweepy → fake X → channel → pipeline → database."""

from __future__ import annotations

import time

from adapters.x_intake import IgnoredLog
from adapters.x_polling import MENTIONS_CURSOR
from core.channels import ChannelUnavailable, RateLimited
from tests.x.conftest import XHarness, inbound, poller, state
from tests.x.fake_x import recorded

ALICE = "2244994945"


async def test_recorded_mentions_are_stored_once_as_public_conversations(harness: XHarness) -> None:
    fake = harness.fake
    ids = fake.load_recorded_mentions()
    async with harness.running() as runtime:
        stored = await inbound(runtime.db)
        assert [row[0] for row in stored] == sorted(ids, key=int)
        assert all(surface == "public" for _, _, surface, _ in stored)
        # The thread is the tweet's conversation; the "@a @b" reply prefix is not the question.
        assert {row[1] for row in stored} == set(ids)
        assert stored[-1][3] == "What why?"
        assert await state(runtime.db).get(MENTIONS_CURSOR) == max(ids, key=int)

        await poller(runtime).poll_mentions()
        assert len(await inbound(runtime.db)) == 2
        assert fake.requests[-1][2]["since_id"] == max(ids, key=int)


async def test_a_restart_between_polls_neither_misses_nor_repeats(harness: XHarness) -> None:
    fake = harness.fake
    first = [
        fake.add_mention(f"@TweepyDev question {n}", author_id=ALICE, username="alice") for n in range(7)
    ]
    async with harness.running(max_results="5") as runtime:
        assert [row[0] for row in await inbound(runtime.db)] == first  # two pages, oldest first
    later = [fake.add_mention(f"@TweepyDev later {n}", author_id=ALICE, username="alice") for n in range(3)]
    async with harness.running(max_results="5") as runtime:
        stored = [row[0] for row in await inbound(runtime.db)]
        assert stored == first + later
    mention_polls = [query for method, path, query in fake.requests if path.endswith("/mentions")]
    assert mention_polls[-1]["since_id"] == first[-1]


async def test_retweets_own_tweets_and_spam_are_ignored_with_a_reason(harness: XHarness) -> None:
    fake = harness.fake
    retweet_text = recorded("test_asyncclient_search_recent_tweets.json")[0]["body"]["data"][0]["text"]
    assert retweet_text.startswith("RT @")
    fake.add_mention(retweet_text, author_id="111", username="bot1")
    fake.add_mention(
        "@TweepyDev look", author_id="112", username="quoter", referenced=[{"type": "retweeted", "id": "1"}]
    )
    fake.add_mention("@TweepyDev thanks all", author_id=fake.account_id, username=fake.account_username)
    fake.add_mention("@TweepyDev @a @b @c @d @e @f @g free airdrop", author_id="113", username="spammer")
    kept = fake.add_mention("@TweepyDev where is my deposit?", author_id=ALICE, username="alice")
    async with harness.running() as runtime:
        assert [row[0] for row in await inbound(runtime.db)] == [kept]
        ignored = IgnoredLog(state(runtime.db))
        assert await ignored.count("retweet") == 2
        assert await ignored.count("own_tweet") == 1
        assert await ignored.count("spam_mentions") == 1
        # The cursor moved past the ignored ones too: they are not read again.
        assert await state(runtime.db).get(MENTIONS_CURSOR) == kept


async def test_a_429_backs_off_until_the_reset_and_loses_nothing(harness: XHarness) -> None:
    fake = harness.fake
    fake.fail_rate_limited("mentions", 120)
    tweet = fake.add_mention("@TweepyDev hello?", author_id=ALICE, username="alice")
    async with harness.running(poll_interval_seconds="1") as runtime:
        feed = poller(runtime)
        assert 100 < feed.next_wait["mentions"] <= 121
        assert await inbound(runtime.db) == []
        assert await state(runtime.db).get(MENTIONS_CURSOR) is None

        # A success that reports an exhausted window waits for the reset as well.
        fake.rate_remaining, fake.rate_reset = 0, int(time.time()) + 300
        wait = await feed.poll_mentions()
        assert 250 < wait <= 300
        assert [row[0] for row in await inbound(runtime.db)] == [tweet]


async def test_malformed_bodies_and_items_lose_nothing(harness: XHarness) -> None:
    fake = harness.fake
    async with harness.running() as runtime:
        feed = poller(runtime)
        tweet = fake.add_mention("@TweepyDev my withdrawal?", author_id=ALICE, username="alice")
        fake.fail("mentions", 200, b'{"data": [ {"id": "1"')
        try:
            await feed.poll_mentions()
        except ChannelUnavailable as exc:
            assert not isinstance(exc, RateLimited)
        else:
            raise AssertionError("a truncated body must fail the poll")
        assert await inbound(runtime.db) == []

        good = {
            "id": tweet,
            "text": "@TweepyDev my withdrawal?",
            "author_id": ALICE,
            "conversation_id": tweet,
        }
        fake.fail("mentions", 200, {"data": [{"id": "not-a-number"}, good], "meta": {"result_count": 2}})
        await feed.poll_mentions()
        assert [row[0] for row in await inbound(runtime.db)] == [tweet]
        assert await IgnoredLog(state(runtime.db)).count("malformed") == 1

        fake.fail("mentions", 503, {"title": "Service Unavailable", "status": 503, "detail": "busy"})
        try:
            await feed.poll_mentions()
        except ChannelUnavailable as exc:
            assert "503" in str(exc)
        else:
            raise AssertionError("a 503 must fail the poll")
        await feed.poll_mentions()
        assert len(await inbound(runtime.db)) == 1

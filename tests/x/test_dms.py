"""DMs: polled DM events become private conversations, answered by DM without review."""

from __future__ import annotations

from adapters.x_polling import DMS_CURSOR
from tests.x.conftest import XHarness, dispatch, inbound, outbox, poller, state

BOB = "3344556677"


async def test_a_dm_is_answered_by_dm(harness: XHarness) -> None:
    fake = harness.fake
    event = fake.add_dm("how many confirmations does a deposit need?", sender_id=BOB, username="bob")
    conversation = "-".join(sorted((BOB, fake.account_id), key=int))
    async with harness.running() as runtime:
        [(external_id, thread, surface, _)] = await inbound(runtime.db)
        assert (external_id, thread, surface) == (f"dm:{event}", conversation, "private")
        await dispatch(runtime)
        [(sent_to, body)] = fake.dms_sent
        assert sent_to == conversation
        assert "confirmation" in body["text"].lower()
        [row] = await outbox(runtime.db)
        assert row.OutboxEntry.status == "sent"
        assert fake.posted == []  # nothing public


async def test_dm_polling_resumes_after_the_last_event_and_skips_our_own(harness: XHarness) -> None:
    fake = harness.fake
    first = fake.add_dm("hello, my withdrawal is stuck", sender_id=BOB, username="bob")
    async with harness.running() as runtime:
        assert await state(runtime.db).get(DMS_CURSOR) == first
        fake.add_dm("Thanks for waiting", sender_id=fake.account_id, username=fake.account_username)
        second = fake.add_dm("any news?", sender_id=BOB, username="bob")
        await poller(runtime).poll_dms()
        await poller(runtime).poll_dms()
        assert [row[0] for row in await inbound(runtime.db)] == [f"dm:{first}", f"dm:{second}"]
        assert await state(runtime.db).get(DMS_CURSOR) == second

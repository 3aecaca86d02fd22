"""Polling intake: the mentions timeline and DM events, with durable cursors and back-off.

Mentions: ``GET /2/users/:id/mentions?since_id=…`` page by page (newest first), then handed
to the inbox oldest first; ``mentions.since_id`` in the channel state moves past each one
once it is stored, so a restart neither misses nor repeats a mention. A failure while
paging stores nothing and moves nothing: the next poll reads the same pages again. At
most ``max_pages`` pages are read per poll (the first poll too: the most recent mentions).

DM events have no ``since_id``: pages are read until the last event seen
(``dms.last_id``), and the newer events are handed over oldest first.

Each feed runs in its own loop. After a 429 it waits until ``x-rate-limit-reset``; when a
response says the window is used up (``x-rate-limit-remaining: 0``) it waits for the
reset before asking again; after other failures it backs off exponentially.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from adapters.x_api import ApiResult, XApi
from adapters.x_intake import (
    DirectMessage,
    IgnoredLog,
    IntakeFilter,
    Mention,
    dm_message,
    dm_page,
    mention_message,
    mentions_page,
)
from adapters.x_settings import XSettings
from conversations.errors import StoreUnavailable
from core.channels import ChannelError, ChannelState, Inbox, RateLimited

log = logging.getLogger(__name__)
MENTIONS_CURSOR = "mentions.since_id"
DMS_CURSOR = "dms.last_id"


def last_mention_key(thread_key: str) -> str:
    """The state key of the newest mention seen in a public thread (agent replies answer it)."""
    return f"thread.{thread_key}.last_mention"


class Poller:
    """Reads mentions and DMs and hands them to the inbox.

    Args:
        api: The X calls.
        account_id: The support account.
        inbox: Where messages go.
        state: The channel's durable cursors.
        intake: What to ignore.
        settings: Intervals, page limits.

    """

    def __init__(
        self,
        api: XApi,
        account_id: str,
        inbox: Inbox,
        state: ChannelState,
        intake: IntakeFilter,
        settings: XSettings,
    ) -> None:
        self._api = api
        self._account_id = account_id
        self._inbox = inbox
        self._state = state
        self._intake = intake
        self._settings = settings
        self._ignored = IgnoredLog(state)
        self._stopping = asyncio.Event()
        self.polled = asyncio.Condition()
        self.rounds = {"mentions": 0, "dms": 0}
        self.next_wait = {"mentions": 0.0, "dms": 0.0}

    def stop(self) -> None:
        """End the loops after the poll in hand."""
        self._stopping.set()

    async def run_mentions(self) -> None:
        """Poll mentions until :meth:`stop`."""
        await self._loop("mentions", self.poll_mentions)

    async def run_dms(self) -> None:
        """Poll DM events until :meth:`stop`."""
        await self._loop("dms", self.poll_dms)

    async def _loop(self, feed: str, poll: Callable[[], Awaitable[float]]) -> None:
        failures = 0
        while not self._stopping.is_set():
            try:
                wait = max(self._settings.poll_interval_seconds, await poll())
                failures = 0
            except RateLimited as exc:
                wait = (
                    exc.retry_after
                    if exc.retry_after is not None
                    else self._backoff(failures := failures + 1)
                )
                log.warning("x: %s rate-limited, next poll in %.0fs", feed, wait)
            except (ChannelError, StoreUnavailable) as exc:
                wait = self._backoff(failures := failures + 1)
                log.warning("x: polling %s failed (%s), next poll in %.0fs", feed, exc, wait)
            except Exception:  # the loop must outlive any one bad poll
                wait = self._backoff(failures := failures + 1)
                log.exception("x: polling %s failed, next poll in %.0fs", feed, wait)
            async with self.polled:
                self.rounds[feed] += 1
                self.next_wait[feed] = wait
                self.polled.notify_all()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), wait)

    def _backoff(self, failures: int) -> float:
        return float(
            min(self._settings.max_backoff_seconds, self._settings.poll_interval_seconds * 2**failures)
        )

    async def poll_mentions(self) -> float:
        """Read the new mentions and hand them over; returns the seconds the window asks to wait."""
        since = await self._state.get(MENTIONS_CURSOR)
        pages = self._settings.max_pages
        mentions: dict[str, Mention] = {}
        token: str | None = None
        last: ApiResult | None = None
        malformed = 0
        for _ in range(pages):
            last = await self._api.mentions(self._account_id, since, token)
            page = mentions_page(last.body)
            malformed += page.malformed
            mentions.update((m.id, m) for m in page.mentions)
            token = page.next_token
            if token is None:
                break
        if token is not None:
            log.warning("x: more than %d pages of new mentions; the older ones are left unread", pages)
        for _ in range(malformed):
            await self._ignored.record("?", "malformed")
        for mention in sorted(mentions.values(), key=lambda m: int(m.id)):
            if since and int(mention.id) <= int(since):
                continue
            reason = self._intake.reason(mention)
            if reason is not None:
                await self._ignored.record(mention.id, reason)
            else:
                message = mention_message(mention)
                await self._inbox.receive(message)
                await self._state.put(last_mention_key(message.thread_key), mention.id)
            await self._state.put(MENTIONS_CURSOR, mention.id)
        return last.wait_for_window() if last is not None else 0.0

    async def poll_dms(self) -> float:
        """Read the DM events newer than the last one seen and hand them over."""
        seen = await self._state.get(DMS_CURSOR)
        pages = self._settings.max_pages
        events: dict[str, DirectMessage] = {}
        token: str | None = None
        last: ApiResult | None = None
        for _ in range(pages):
            last = await self._api.dm_events(token)
            page = dm_page(last.body)
            for _ in range(page.malformed):
                await self._ignored.record("?", "malformed_dm")
            fresh = [dm for dm in page.dms if not seen or int(dm.id) > int(seen)]
            events.update((dm.id, dm) for dm in fresh)
            token = page.next_token
            if token is None or len(fresh) < len(page.dms):
                break
        for dm in sorted(events.values(), key=lambda d: int(d.id)):
            if not self._intake.own(dm):
                await self._inbox.receive(dm_message(dm))
            await self._state.put(DMS_CURSOR, dm.id)
        return last.wait_for_window() if last is not None else 0.0

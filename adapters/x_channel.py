"""The X (Twitter) channel: public mentions and DMs of the support account, on tweepy's async client.

Intake is polling (:mod:`adapters.x_polling`) or the Account Activity webhook
(:mod:`adapters.x_webhook`), as ``HELPLINE_X__INTAKE`` says; both normalise through
:mod:`adapters.x_intake`. A mention is a public conversation, a DM a private one.

Public replies are the company's voice in front of everyone, so :meth:`XChannel.send` on
a public surface raises :class:`HeldForReview` (the dispatcher marks the reply ``held`` for
the mention queue, :mod:`core.mentions`) unless a person approved it, an agent wrote it,
or the bot answered a topic listed in ``safe_topics``. Beyond ``max_replies_per_thread``
bot posts in one conversation every reply waits for review, so a reply chain is never
answered endlessly. A reply is posted once: the tweet id is recorded per message in the
channel state, and an attempt whose outcome is unknown (the connection dropped after the
request left) is held for review rather than posted again. A second reply to the same
mention (a safety warning, then the answer) threads under our first reply instead of
answering the mention twice.

The text is fitted to 280 weighted characters with links only from
``brand.link_allow_list`` (:mod:`adapters.x_text`), keeping the official handles the engine
named (the impersonation defence); every public reply carries X's "send a DM" button
(``direct_message_deep_link``), since anything account-specific moves to DMs.
DMs go out through ``POST /2/dm_conversations/:id/messages``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from typing import Any

import aiohttp
from starlette.routing import BaseRoute, Route

from adapters.x_api import Unconfirmed, XApi, default_session
from adapters.x_intake import IntakeFilter
from adapters.x_polling import Poller, last_mention_key
from adapters.x_settings import XSettings
from adapters.x_text import MAX_DM, MAX_TWEET, drop_foreign_links, fit_reply, host_allowed, links, tidy
from adapters.x_webhook import PATH, WebhookIntake
from conversations.values import Author, OutboundMessage, Surface
from core.channels import (
    Channel,
    ChannelContext,
    ChannelError,
    ChannelUnavailable,
    DeliveryRejected,
    HeldForReview,
    Inbox,
)

log = logging.getLogger(__name__)
NAME = "x"
SessionFactory = Callable[[XSettings], aiohttp.ClientSession]
DM_COMPOSE = "https://twitter.com/messages/compose?recipient_id={account}"
STOP_GRACE_SECONDS = 5.0
_POSTING = "posting"
_HELD = "held"


class XChannel(Channel):
    """Mentions and DMs of one X account.

    Args:
        settings: The ``x`` section.
        context: Settings, durable state and thread lookup lent by Helpline.
        session_factory: Builds the aiohttp session tweepy sends through.

    """

    name = NAME

    def __init__(
        self, settings: XSettings, context: ChannelContext, session_factory: SessionFactory = default_session
    ) -> None:
        self._settings = settings
        self._context = context
        self._session_factory = session_factory
        self._api: XApi | None = None
        self._account_id: str | None = settings.user_id or None
        self._poller: Poller | None = None
        self._webhook: WebhookIntake | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._starting: asyncio.Task[None] | None = None
        self._inbox: Inbox | None = None
        self._filter: IntakeFilter | None = None
        self._polling_wanted = False
        self.ready = asyncio.Event()
        # Polling one account must happen in one process only: the runtime elects it.
        self.single_intake = settings.intake != "webhook"

    @classmethod
    def configure(
        cls,
        section: Mapping[str, Any],
        context: ChannelContext,
        *,
        session_factory: SessionFactory = default_session,
    ) -> XChannel | str:
        """Build from the settings section, or say why the channel stays off."""
        settings = XSettings.model_validate(section)
        if not settings.enabled:
            return "disabled (set HELPLINE_X__ENABLED=true to enable)"
        missing = settings.missing()
        if missing:
            return f"not configured (set {', '.join(missing)})"
        return cls(settings, context, session_factory)

    @property
    def poller(self) -> Poller | None:
        """The polling intake, once running."""
        return self._poller

    async def start(self, inbox: Inbox) -> None:
        """Open the API session and begin receiving (in the background: X being down must not stop Helpline)."""
        self._api = XApi(self._settings, self._session_factory(self._settings))
        self._starting = asyncio.create_task(self._begin(self._api, inbox), name="x-start")

    async def _begin(self, api: XApi, inbox: Inbox) -> None:
        account = self._account_id
        failures = 0
        while account is None:
            try:
                account = await api.me()
            except ChannelError as exc:
                failures += 1
                wait = min(self._settings.max_backoff_seconds, 2.0**failures)
                log.warning("x: cannot look up the account (%s); retrying in %.0fs", exc, wait)
                await asyncio.sleep(wait)
        self._account_id = account
        intake = IntakeFilter(
            account,
            max_mentions=self._settings.spam_max_mentions,
            max_hashtags=self._settings.spam_max_hashtags,
            max_links=self._settings.spam_max_links,
            ignore_authors=self._settings.ignore_authors,
        )
        if self._settings.intake == "webhook":
            self._webhook = WebhookIntake(
                self._settings.consumer_secret, account, intake, self._context.state, self._context.threads
            )
            self._webhook.inbox = inbox
        else:
            self._inbox, self._filter = inbox, intake
            if self._polling_wanted:
                self._start_polling()
        log.info("x: ready for account %s (intake by %s)", account, self._settings.intake)
        self.ready.set()

    async def start_intake(self) -> None:
        """Poll mentions and DMs (this process holds the X intake lease)."""
        self._polling_wanted = True
        if self._inbox is not None and not self._tasks:
            self._start_polling()

    async def stop_intake(self) -> None:
        """Stop polling (the lease was lost or Helpline stops); sending goes on."""
        self._polling_wanted = False
        await self._stop_polling()

    def _start_polling(self) -> None:
        assert self._api is not None and self._account_id is not None
        assert self._inbox is not None and self._filter is not None
        self._poller = Poller(
            self._api, self._account_id, self._inbox, self._context.state, self._filter, self._settings
        )
        self._tasks.append(asyncio.create_task(self._poller.run_mentions(), name="x-mentions"))
        if self._settings.poll_dms:
            self._tasks.append(asyncio.create_task(self._poller.run_dms(), name="x-dms"))
        log.info("x: polling mentions%s", " and DMs" if self._settings.poll_dms else "")

    async def _stop_polling(self) -> None:
        if self._poller is not None:
            self._poller.stop()
        if self._tasks:
            # The loops finish the message in hand (they see the stop between polls); a
            # poll stuck on X is cancelled.
            _, pending = await asyncio.wait(self._tasks, timeout=STOP_GRACE_SECONDS)
            for task in pending:
                task.cancel()
            for task in self._tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._tasks.clear()

    async def stop(self) -> None:
        """Stop the intake and close the API session."""
        if self._starting is not None:
            self._starting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._starting
            self._starting = None
        if self._webhook is not None:
            self._webhook.inbox = None
        await self._stop_polling()
        if self._api is not None:
            await self._api.close()
            self._api = None

    def routes(self) -> list[BaseRoute]:
        """The Account Activity webhook (CRC challenge and events), when that is the intake."""
        if self._settings.intake != "webhook":
            return []
        return [
            Route(PATH, self._crc, methods=["GET"]),
            Route(PATH, self._events, methods=["POST"]),
        ]

    async def _crc(self, request: Any) -> Any:
        return await self._intake().crc(request)

    async def _events(self, request: Any) -> Any:
        return await self._intake().events(request)

    def _intake(self) -> WebhookIntake:
        if self._webhook is not None:
            return self._webhook
        # Not started yet (the account id is being looked up): answer CRC and refuse events.
        intake = IntakeFilter("", max_mentions=0, max_hashtags=0, max_links=0)
        return WebhookIntake(
            self._settings.consumer_secret, "", intake, self._context.state, self._context.threads
        )

    async def send(self, message: OutboundMessage) -> str:
        """Post a public reply (once, reviewed, fitted) or send a DM; returns X's id for it."""
        if self._api is None:
            raise ChannelUnavailable("the X channel is not started")
        if message.surface is Surface.PRIVATE:
            text = tidy(message.text)[:MAX_DM]
            if not text:
                raise DeliveryRejected("the DM is empty")
            return await self._api.direct_message(message.thread_key, text)
        return await self._reply(self._api, message)

    async def _reply(self, api: XApi, message: OutboundMessage) -> str:
        state = self._context.state
        posted_key, attempt_key = (
            f"message.{message.message_id}.tweet",
            f"message.{message.message_id}.attempt",
        )
        posted = await state.get(posted_key)
        if posted:
            return posted
        approved = bool(message.metadata.get("approved")) or message.author is Author.AGENT
        topic = message.metadata.get("topic")
        if not approved and topic not in self._settings.safe_topics:
            raise HeldForReview("public replies wait for the social team's approval")
        posts_key = f"thread.{message.thread_key}.posts"
        posts = int(await state.get(posts_key) or 0)
        if not approved and posts >= self._settings.max_replies_per_thread:
            raise HeldForReview(f"the bot already replied {posts} times in this conversation")
        if await state.get(attempt_key) == _POSTING:
            await state.put(attempt_key, _HELD)
            raise HeldForReview(
                "an earlier attempt may have been posted: check the thread on X before approving"
            )
        mention = message.reply_to_external_id or await state.get(last_mention_key(message.thread_key))
        if not mention:
            raise DeliveryRejected("no tweet to reply to in this conversation")
        target = await state.get(f"mention.{mention}.last_reply") or mention
        text = self._public_text(message)
        await state.put(attempt_key, _POSTING)
        try:
            tweet_id = await api.reply(text, target, self._dm_link())
        except Unconfirmed:
            raise
        except ChannelError:
            await state.put(attempt_key, "")
            raise
        await state.put(posted_key, tweet_id)
        await state.put(f"mention.{mention}.last_reply", tweet_id)
        await state.put(posts_key, str(posts + 1))
        await state.put(attempt_key, "")
        return tweet_id

    def _public_text(self, message: OutboundMessage) -> str:
        brand = self._context.settings.brand
        text = drop_foreign_links(message.text, brand.link_allow_list)
        keep = [link for link in links(text) if host_allowed(link, brand.link_allow_list)][:1]
        keep += [handle for handle in brand.official_handles if handle and handle in text]
        text = fit_reply(text, MAX_TWEET, keep)
        if not text:
            raise DeliveryRejected("nothing is left to post once foreign links are removed")
        return text

    def _dm_link(self) -> str | None:
        if not self._settings.dm_link or self._account_id is None:
            return None
        return DM_COMPOSE.format(account=self._account_id)

"""The Discord channel: DMs, support channels, private ticket threads and slash commands.

discord.py runs on Helpline's own event loop (``await client.start(token)`` in a task the
channel owns, never ``client.run``). Inbound events are mapped in
:mod:`adapters.discord_inbound`; replies leave through the outbox and
:mod:`adapters.discord_delivery`.

Settings (section ``discord``, see the README's Discord section): ``HELPLINE_DISCORD__TOKEN``
(required, environment only), ``SUPPORT_CHANNEL_IDS``, ``SUPPORT_ROLE_ID``,
``MESSAGE_CONTENT``, ``SYNC_COMMANDS``, ``COMMAND_GUILD_IDS``, ``SHARD_COUNT``, ``SHARD_IDS``,
``THREAD_ARCHIVE_MINUTES``, ``NOTIFY_SUPPORT_ROLE``, ``MAX_RATELIMIT_SECONDS``,
``READY_TIMEOUT_SECONDS``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, Self

import discord
from pydantic import BaseModel, ConfigDict, Field, model_validator

from adapters.discord_client import HelplineClient
from adapters.discord_delivery import PendingInteractions, deliver
from adapters.discord_inbound import NAME, DiscordEvents, InboundOptions
from adapters.discord_tickets import TicketThreads
from adapters.discord_topics import TopicIndex
from conversations.values import Author, OutboundMessage
from core.channels import Channel, ChannelContext, ChannelUnavailable, Inbox
from core.faq.kb import KnowledgeBase, KnowledgeBaseError, load_knowledge_base
from core.settings import ROOT

log = logging.getLogger(__name__)
RESTART_BASE_SECONDS = 1.0
RESTART_MAX_SECONDS = 60.0


class DiscordSettings(BaseModel):
    """The ``discord`` settings section."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    token: str = Field("", repr=False)
    support_channel_ids: tuple[int, ...] = ()
    support_role_id: int | None = None
    message_content: bool = True
    sync_commands: bool = True
    command_guild_ids: tuple[int, ...] = ()
    shard_count: int | None = Field(None, ge=1)
    shard_ids: tuple[int, ...] | None = None
    thread_archive_minutes: Literal[60, 1440, 4320, 10080] = 10080
    notify_support_role: bool = True
    max_ratelimit_seconds: float = Field(30.0, ge=30)
    ready_timeout_seconds: float = Field(2.0, gt=0, le=60)

    @model_validator(mode="after")
    def _shards(self) -> Self:
        if self.shard_ids is not None:
            if self.shard_count is None:
                raise ValueError("shard_ids needs shard_count (HELPLINE_DISCORD__SHARD_COUNT)")
            if any(not 0 <= i < self.shard_count for i in self.shard_ids):
                raise ValueError(f"shard_ids must lie between 0 and shard_count - 1 ({self.shard_count - 1})")
        return self


class DiscordChannel(Channel):
    """Discord through discord.py 2, on Helpline's event loop.

    Args:
        settings: The channel's settings.
        context: Settings, durable state, thread lookup and the ticket service.

    """

    name = NAME

    def __init__(self, settings: DiscordSettings, context: ChannelContext) -> None:
        self._settings = settings
        self._context = context
        self._threads = TicketThreads(context.state, context.tickets)
        self._pending = PendingInteractions()
        self._client: HelplineClient | None = None
        self._events: DiscordEvents | None = None
        self._task: asyncio.Task[None] | None = None

    @classmethod
    def configure(cls, section: Mapping[str, Any], context: ChannelContext) -> DiscordChannel | str:
        """Build from the settings section, or say why the channel stays off."""
        settings = DiscordSettings.model_validate(section)
        if not settings.token:
            return "not configured (set HELPLINE_DISCORD__TOKEN)"
        return cls(settings, context)

    @property
    def client(self) -> HelplineClient | None:
        """The running discord.py client (``None`` before start and after stop)."""
        return self._client

    async def start(self, inbox: Inbox) -> None:
        """Log in and connect in a background task; events go to ``inbox``."""
        topics = TopicIndex(await asyncio.to_thread(self._knowledge_base))
        options = InboundOptions(
            frozenset(self._settings.support_channel_ids),
            self._settings.support_role_id,
            self._settings.thread_archive_minutes,
            self._settings.notify_support_role,
        )
        self._events = DiscordEvents(
            inbox, self._threads, topics, self._pending, options, self._running_client
        )
        self._client = self._new_client()
        self._task = asyncio.create_task(self._run(), name="discord-gateway")

    def _new_client(self) -> HelplineClient:
        assert self._events is not None
        return HelplineClient(
            self._events,
            message_content=self._settings.message_content,
            shard_count=self._settings.shard_count,
            shard_ids=list(self._settings.shard_ids) if self._settings.shard_ids is not None else None,
            sync_commands=self._settings.sync_commands,
            command_guild_ids=self._settings.command_guild_ids,
            max_ratelimit_seconds=self._settings.max_ratelimit_seconds,
            guild_ready_timeout=self._settings.ready_timeout_seconds,
        )

    async def stop(self) -> None:
        """Close the gateway connections and the HTTP session."""
        client, task = self._client, self._task
        self._client = self._task = None
        if client is not None:
            await client.close()
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def send(self, message: OutboundMessage) -> str:
        """Deliver one message (an interaction's follow-up or a channel post).

        Raises:
            ChannelError: Translated from Discord's answer.

        """
        client = self._client
        if client is None or client.is_closed():
            raise ChannelUnavailable("the Discord channel is not running")
        if message.author is Author.AGENT:
            # An agent who wrote in the ticket thread already shows there: nothing to post.
            echo = await self._threads.take_echo(message.thread_key, message.text)
            if echo is not None:
                return echo
        return await deliver(client, self._pending.get(message.reply_to_external_id), message)

    def _running_client(self) -> discord.Client:
        if self._client is None:
            raise ChannelUnavailable("the Discord channel is not running")
        return self._client

    async def _run(self) -> None:
        """Keep a client connected; discord.py reconnects by itself, this covers what it gives up on."""
        failures = 0
        while self._client is not None:
            client = self._client
            try:
                await client.start(self._settings.token)
                return  # closed by stop()
            except discord.LoginFailure:
                log.error("discord: the token was refused; set HELPLINE_DISCORD__TOKEN to the bot's token")
                return
            except discord.PrivilegedIntentsRequired:
                log.error(
                    "discord: the message content intent is not enabled for this bot: enable it in the "
                    "Developer Portal (Bot → Privileged Gateway Intents) or set "
                    "HELPLINE_DISCORD__MESSAGE_CONTENT=false"
                )
                return
            except Exception:
                # A gateway event discord.py could not parse ends its connection: start afresh.
                failures += 1
                delay = min(RESTART_MAX_SECONDS, RESTART_BASE_SECONDS * 2 ** (failures - 1))
                log.exception("discord: the gateway connection ended; reconnecting in %.1fs", delay)
            with contextlib.suppress(Exception):
                await client.close()
            await asyncio.sleep(delay)
            if self._client is client:
                self._client = self._new_client()

    def _knowledge_base(self) -> KnowledgeBase | None:
        engine = self._context.settings.engine
        if engine.kind != "faq":
            return None
        path = Path(engine.knowledge_base)
        if not path.is_absolute() and not path.exists():
            path = ROOT / path
        try:
            return load_knowledge_base(path)
        except (KnowledgeBaseError, OSError) as exc:
            log.warning("discord: no /faq suggestions, the knowledge base did not load: %s", exc)
            return None

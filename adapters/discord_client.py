"""The discord.py client Helpline runs: intents, sharding, persistent components, commands.

It is an ``AutoShardedClient``: with no shard count set it asks Discord (``GET
/gateway/bot``) how many shards the bot needs, which is one for most servers; large bots
set the count, and the shard ids each process runs. Gateway events go to the handler.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

import discord

from adapters.discord_commands import CommandHandler, build_tree
from adapters.discord_components import ActionButton, ActionSelect, PressHandler

log = logging.getLogger(__name__)


class EventHandler(CommandHandler, PressHandler, Protocol):
    """Everything the client hands to the channel."""

    async def on_message(self, message: discord.Message) -> None:
        """A message was posted where the bot can read it."""
        ...


def intents(message_content: bool) -> discord.Intents:
    """Only what Helpline needs: guilds (channels, roles, threads), guild messages, DMs.

    Message content is privileged; without it the bot still reads DMs and messages that
    mention it, but not customers' and agents' messages in ticket threads.
    """
    wanted = discord.Intents.none()
    wanted.guilds = True
    wanted.guild_messages = True
    wanted.dm_messages = True
    wanted.message_content = message_content
    return wanted


class HelplineClient(discord.AutoShardedClient):
    """discord.py's client wired to Helpline.

    Args:
        handler: Receives messages, presses and commands.
        message_content: Ask for the privileged message-content intent.
        shard_count: Total shards; ``None`` lets Discord recommend.
        shard_ids: The shards this process runs (with ``shard_count``).
        sync_commands: Register the slash commands at start.
        command_guild_ids: Register them on these servers only (instant), not globally.
        max_ratelimit_seconds: Longer 429 waits are handed back to the dispatcher.
        guild_ready_timeout: How long to wait for servers before "ready".

    """

    def __init__(
        self,
        handler: EventHandler,
        *,
        message_content: bool,
        shard_count: int | None,
        shard_ids: list[int] | None,
        sync_commands: bool,
        command_guild_ids: tuple[int, ...],
        max_ratelimit_seconds: float,
        guild_ready_timeout: float,
    ) -> None:
        options: dict[str, Any] = {}
        if shard_count is not None:
            options["shard_count"] = shard_count
            options["shard_ids"] = shard_ids
        super().__init__(
            intents=intents(message_content),
            allowed_mentions=discord.AllowedMentions.none(),
            max_messages=None,
            chunk_guilds_at_startup=False,
            member_cache_flags=discord.MemberCacheFlags.none(),
            max_ratelimit_timeout=max_ratelimit_seconds,
            guild_ready_timeout=guild_ready_timeout,
            **options,
        )
        self.handler = handler
        self.tree = build_tree(self, handler)
        self._sync = sync_commands
        self._guilds = command_guild_ids

    async def setup_hook(self) -> None:
        """Register the persistent components and, if asked, the slash commands."""
        self.add_dynamic_items(ActionButton, ActionSelect)
        if not self._sync:
            return
        if self._guilds:
            for guild_id in self._guilds:
                guild = discord.Object(id=guild_id)
                self.tree.copy_global_to(guild=guild)
                await self.tree.sync(guild=guild)
        else:
            await self.tree.sync()
        log.info("discord: slash commands registered (%s)", "per server" if self._guilds else "globally")

    async def on_ready(self) -> None:
        """Log who we are connected as."""
        log.info(
            "discord: connected as %s (%d servers, %s shards)", self.user, len(self.guilds), self.shard_count
        )

    async def on_message(self, message: discord.Message) -> None:
        """Hand every message to the channel."""
        await self.handler.on_message(message)

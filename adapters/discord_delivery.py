"""Delivering one outbound message to Discord, and translating what can go wrong.

A reply to a slash command or a button press goes out as that interaction's follow-up
(the "thinking…" placeholder is replaced by the first part) while the interaction's token
lives; anything else is posted to the channel, DM or thread the conversation's key names.
Customer-written text never pings anyone (``AllowedMentions.none()``). Each part carries
a nonce derived from the idempotency key with ``enforce_nonce``, so a part re-sent after a
crash is dropped by Discord rather than shown twice.

Errors: 429 beyond what discord.py waits out itself → ``RateLimited(retry_after)``;
5xx, timeouts and connection errors → ``ChannelUnavailable``; 403/404 and other 4xx →
``DeliveryRejected``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import discord
from discord.http import handle_message_parameters

from adapters.discord_render import build_view, nonce_for, split_text
from conversations.values import OutboundMessage
from core.channels import ChannelUnavailable, DeliveryRejected, RateLimited

Interaction = discord.Interaction[Any]
# Discord keeps an interaction token valid for 15 minutes; stop a little before.
TOKEN_LIFETIME = 14 * 60.0


@dataclass(slots=True)
class PendingInteraction:
    """An interaction waiting for its turn's replies."""

    interaction: Interaction
    ephemeral: bool
    expires: float
    placeholder: bool = True  # the deferred "thinking…" message is still to be replaced
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class PendingInteractions:
    """Interactions by the external id of the turn they started, until their token expires."""

    def __init__(self, clock: Any = time.monotonic) -> None:
        self._pending: dict[str, PendingInteraction] = {}
        self._clock = clock

    def add(self, external_id: str, interaction: Interaction, *, ephemeral: bool, placeholder: bool) -> None:
        """Answer the turn ``external_id`` through ``interaction``."""
        now = self._clock()
        for key in [k for k, p in self._pending.items() if p.expires <= now]:
            del self._pending[key]
        self._pending[external_id] = PendingInteraction(
            interaction, ephemeral, now + TOKEN_LIFETIME, placeholder
        )

    def get(self, external_id: str | None) -> PendingInteraction | None:
        """The live interaction of that turn, if any."""
        pending = self._pending.get(external_id or "")
        if pending is None or pending.expires <= self._clock():
            return None
        return pending


async def deliver(
    client: discord.Client, pending: PendingInteraction | None, message: OutboundMessage
) -> str:
    """Send ``message``; returns the Discord id of its first part.

    Raises:
        ChannelError: Translated from discord.py's errors.

    """
    parts = split_text(message.text)
    with translated_errors():
        if pending is not None:
            async with pending.lock:
                return await _via_interaction(pending, parts, message)
        return await _post(client, parts, message)


async def _post(client: discord.Client, parts: list[str], message: OutboundMessage) -> str:
    channel_id, reference = route(message)
    ids: list[str] = []
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        view = build_view(message.buttons) if last else None
        params = handle_message_parameters(
            content=part,
            allowed_mentions=discord.AllowedMentions.none(),
            view=view if view is not None else discord.utils.MISSING,
            nonce=nonce_for(message.idempotency_key, index),
        )
        if index == 0 and reference is not None and params.payload is not None:
            params.payload["message_reference"] = reference
        data = await client.http.send_message(channel_id, params=params)
        ids.append(str(data["id"]))
    return ids[0]


async def _via_interaction(pending: PendingInteraction, parts: list[str], message: OutboundMessage) -> str:
    interaction = pending.interaction
    ids: list[str] = []
    for index, part in enumerate(parts):
        view = build_view(message.buttons) if index == len(parts) - 1 else None
        if view is not None:
            view.stop()  # dispatched by custom id (persistent); nothing to keep in memory
        none = discord.AllowedMentions.none()
        sent: discord.Message
        if pending.placeholder:
            sent = await interaction.edit_original_response(content=part, view=view, allowed_mentions=none)
            pending.placeholder = False
        else:
            kwargs: dict[str, Any] = {"view": view} if view is not None else {}
            sent = await interaction.followup.send(
                part, ephemeral=pending.ephemeral, allowed_mentions=none, wait=True, **kwargs
            )
        ids.append(str(sent.id))
    return ids[0]


def route(message: OutboundMessage) -> tuple[int, dict[str, Any] | None]:
    """The Discord channel to post in and the message to reply to.

    Thread keys are a DM channel or ticket thread id, or ``<channel id>:<user id>`` for a
    customer's conversation in a public support channel (replies quote their message).

    Raises:
        DeliveryRejected: The thread key is not one of ours.

    """
    channel, _, user = message.thread_key.partition(":")
    if not channel.isdigit() or (user and not user.isdigit()):
        raise DeliveryRejected(f"not a Discord conversation key: {message.thread_key!r}")
    reference = None
    replied = message.reply_to_external_id or ""
    if user and replied.isdigit():
        reference = {"message_id": replied, "channel_id": channel, "fail_if_not_exists": False}
    return int(channel), reference


@contextmanager
def translated_errors() -> Iterator[None]:
    """Turn discord.py and network errors into the channel error tree."""
    try:
        yield
    except discord.RateLimited as exc:
        raise RateLimited(
            f"Discord rate limit: retry in {exc.retry_after:.0f}s", retry_after=exc.retry_after
        ) from exc
    except (discord.Forbidden, discord.NotFound) as exc:
        raise DeliveryRejected(f"Discord refused the message: {exc.status} {exc.text[:200]}") from exc
    except discord.HTTPException as exc:
        if exc.status == 429:
            raise RateLimited("Discord answered 429 repeatedly", retry_after=None) from exc
        if exc.status >= 500:
            raise ChannelUnavailable(f"Discord server error {exc.status}") from exc
        raise DeliveryRejected(f"Discord refused the message: {exc.status} {exc.text[:200]}") from exc
    except (TimeoutError, aiohttp.ClientError, OSError) as exc:
        raise ChannelUnavailable(f"cannot reach Discord: {exc!r}") from exc

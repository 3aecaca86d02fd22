"""Persistent buttons and select menus: a press is understood from its ``custom_id`` alone.

discord.py matches every component interaction against these templates (registered with
``Client.add_dynamic_items``), so buttons sent before a restart keep working: no view has
to be kept in memory. The press itself is handled by the channel (:class:`PressHandler`).
"""

from __future__ import annotations

import re
from typing import Any, Protocol

import discord

from adapters.discord_render import BUTTON_PREFIX, SELECT_ID

Interaction = discord.Interaction[Any]


class PressHandler(Protocol):
    """Receives a customer's press of a quick reply."""

    async def pressed(self, interaction: Interaction, action: str) -> None:
        """Handle the press of the control carrying ``action``."""
        ...


class HandlerClient(Protocol):
    """The client, as the components see it."""

    handler: PressHandler


def _handler(interaction: Interaction) -> PressHandler:
    client: HandlerClient = interaction.client
    return client.handler


class ActionButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=re.escape(BUTTON_PREFIX) + r"(?P<action>.+)"
):
    """A quick-reply button; its ``custom_id`` is ``hl:b:<action>``."""

    def __init__(self, action: str, label: str = "…") -> None:
        super().__init__(discord.ui.Button(label=label, custom_id=BUTTON_PREFIX + action))
        self.action = action

    @classmethod
    async def from_custom_id(
        cls, interaction: Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ActionButton:
        """Rebuild the button from a pressed component."""
        return cls(match["action"], getattr(item, "label", None) or "…")

    async def callback(self, interaction: Interaction) -> None:
        """Hand the press to the channel."""
        await _handler(interaction).pressed(interaction, self.action)


class ActionSelect(discord.ui.DynamicItem[discord.ui.Select[Any]], template=re.escape(SELECT_ID)):
    """The "did you mean" select menu; each option's value is an action."""

    def __init__(self, options: list[discord.SelectOption] | None = None) -> None:
        super().__init__(discord.ui.Select(custom_id=SELECT_ID, options=options or []))

    @classmethod
    async def from_custom_id(
        cls, interaction: Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ActionSelect:
        """Rebuild the menu from a used component."""
        return cls(list(getattr(item, "options", [])))

    async def callback(self, interaction: Interaction) -> None:
        """Hand the chosen option's action to the channel."""
        if self.item.values:
            await _handler(interaction).pressed(interaction, self.item.values[0])

"""The slash commands: ``/help``, ``/faq``, ``/ticket``, ``/status``, ``/language``, ``/take``...

Customers have ``/help``, ``/faq``, ``/ticket``, ``/status`` and ``/language``; the
support role ``/take``, ``/solve`` and ``/note``.

The commands only parse their options and hand over to the channel
(:class:`CommandHandler`), which acknowledges within Discord's three seconds, runs the
turn and follows up. Who may use the staff commands is checked there, on our side: the
command list Discord shows is no access control.
"""

from __future__ import annotations

from typing import Any, Literal, Protocol

import discord
from discord import app_commands

Interaction = discord.Interaction[Any]
StaffVerb = Literal["take", "solve", "note"]


class CommandHandler(Protocol):
    """What the commands call on the channel."""

    async def help(self, interaction: Interaction) -> None:
        """Answer ``/help``."""
        ...

    async def command_turn(
        self, interaction: Interaction, *, text: str = "", action: str | None = None
    ) -> None:
        """Run a customer turn for a command and answer it."""
        ...

    async def open_ticket(self, interaction: Interaction, summary: str) -> None:
        """Answer ``/ticket``."""
        ...

    async def staff(self, interaction: Interaction, verb: StaffVerb, ticket: str | None, text: str) -> None:
        """Answer ``/take``, ``/solve`` and ``/note``."""
        ...

    def suggest(self, current: str, locale: str) -> list[app_commands.Choice[str]]:
        """Knowledge-base topics matching what the customer has typed so far."""
        ...


def build_tree(client: discord.Client, handler: CommandHandler) -> app_commands.CommandTree[Any]:
    """The command tree of ``client``, every command bound to ``handler``."""
    tree: app_commands.CommandTree[Any] = app_commands.CommandTree(client)

    @tree.command(name="help", description="What this bot can do and how to reach a person")
    async def help_command(interaction: Interaction) -> None:
        await handler.help(interaction)

    @tree.command(name="faq", description="Ask a question or pick a help article")
    @app_commands.describe(question="Your question (suggestions appear as you type)")
    async def faq(interaction: Interaction, question: app_commands.Range[str, 1, 500]) -> None:
        await handler.command_turn(interaction, text=question)

    @faq.autocomplete("question")
    async def faq_choices(interaction: Interaction, current: str) -> list[app_commands.Choice[str]]:
        return handler.suggest(current, str(interaction.locale))

    @tree.command(name="ticket", description="Open a private ticket with the support team")
    @app_commands.describe(summary="What is it about? (optional)")
    async def ticket(interaction: Interaction, summary: app_commands.Range[str, 0, 300] = "") -> None:
        await handler.open_ticket(interaction, summary)

    @tree.command(name="status", description="The status of your ticket")
    async def status(interaction: Interaction) -> None:
        await handler.command_turn(interaction, action="topic:support.ticket_status")

    @tree.command(name="language", description="Answer me in English or Chinese")
    @app_commands.describe(language="en or zh")
    @app_commands.choices(
        language=[
            app_commands.Choice(name="English", value="en"),
            app_commands.Choice(name="中文", value="zh"),
        ]
    )
    async def language(interaction: Interaction, language: app_commands.Choice[str]) -> None:
        await handler.command_turn(interaction, action=f"lang:{language.value}")

    @tree.command(name="take", description="Support team: take this ticket")
    @app_commands.guild_only()
    @app_commands.describe(ticket="The ticket number (defaults to this thread's ticket)")
    async def take(interaction: Interaction, ticket: str | None = None) -> None:
        await handler.staff(interaction, "take", ticket, "")

    @tree.command(name="solve", description="Support team: mark this ticket solved")
    @app_commands.guild_only()
    @app_commands.describe(ticket="The ticket number (defaults to this thread's ticket)")
    async def solve(interaction: Interaction, ticket: str | None = None) -> None:
        await handler.staff(interaction, "solve", ticket, "")

    @tree.command(name="note", description="Support team: add an internal note the customer never sees")
    @app_commands.guild_only()
    @app_commands.describe(text="The note", ticket="The ticket number (defaults to this thread's ticket)")
    async def note(
        interaction: Interaction, text: app_commands.Range[str, 1, 2000], ticket: str | None = None
    ) -> None:
        await handler.staff(interaction, "note", ticket, text)

    return tree

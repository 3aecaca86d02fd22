"""Gateway events → Helpline: messages, button presses and slash commands.

Where a customer writes decides the conversation:

- a DM is a private conversation keyed by the DM channel;
- in a configured support channel the bot answers only when mentioned, publicly, in a
  conversation keyed ``<channel id>:<user id>``; anything account-specific
  (:mod:`adapters.discord_triage`), ``/ticket``, or pressing "talk to a person" or a form's
  button there opens a **private thread** with a ticket, keyed by the thread id;
- in a ticket thread, the customer's messages continue that conversation and the support
  role's messages become the agents' replies on the ticket.

Every event's platform id (message id, interaction id; one id per pressed message) is
the inbound message's ``external_id``, so an event replayed after a RESUME is stored once.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands

from adapters.discord_commands import StaffVerb
from adapters.discord_delivery import PendingInteractions, translated_errors
from adapters.discord_render import disabled_copy
from adapters.discord_texts import help_text, notice
from adapters.discord_tickets import TicketThread, TicketThreads
from adapters.discord_topics import TOPIC_ACTION, TopicIndex
from adapters.discord_triage import is_account_specific
from conversations.errors import StoreUnavailable
from conversations.values import Attachment, InboundMessage, Sender, Surface
from core.channels import ChannelError, Inbox, TurnResult
from core.tickets.errors import TicketError

if TYPE_CHECKING:
    from discord.types.threads import ThreadArchiveDuration

log = logging.getLogger(__name__)
Interaction = discord.Interaction[Any]
NAME = "discord"
HUMAN = "human"
FORM_PREFIX = "form:start:"
# A store outage is waited out (about two minutes in all) rather than losing a gateway
# event, which Discord never sends again.
STORE_RETRIES = (0.5, 1, 2, 4, 8, 15, 30, 60)


@dataclass(frozen=True, slots=True)
class Place:
    """Where an event happened, as a conversation."""

    thread_key: str
    surface: Surface
    ticket: TicketThread | None = None


@dataclass(frozen=True, slots=True)
class InboundOptions:
    """The channel's settings the inbound side needs."""

    support_channel_ids: frozenset[int]
    support_role_id: int | None
    archive_minutes: ThreadArchiveDuration
    notify_support_role: bool


class DiscordEvents:
    """Turns gateway events into inbound messages, ticket threads and agents' actions.

    Args:
        inbox: The pipeline.
        threads: The ticket-thread registry.
        topics: Knowledge-base topics for ``/faq`` suggestions.
        pending: Interactions waiting for their replies.
        options: Support channels, role and thread settings.
        client: The running client (for threads and notices).

    """

    def __init__(
        self,
        inbox: Inbox,
        threads: TicketThreads,
        topics: TopicIndex,
        pending: PendingInteractions,
        options: InboundOptions,
        client: Callable[[], discord.Client],
    ) -> None:
        self._inbox = inbox
        self._threads = threads
        self._topics = topics
        self._pending = pending
        self._options = options
        self._client = client

    # ----- messages ---------------------------------------------------------------------

    async def on_message(self, message: discord.Message) -> None:
        """Route a message; a failure is logged and the next event is handled."""
        try:
            if message.author.bot or message.webhook_id is not None:
                return
            if message.type not in (discord.MessageType.default, discord.MessageType.reply):
                return
            await self._route_message(message)
        except Exception:
            log.exception("discord: message %s in %s could not be handled", message.id, message.channel.id)

    async def _route_message(self, message: discord.Message) -> None:
        channel = message.channel
        if isinstance(channel, discord.DMChannel):
            await self._receive(self._inbound(message, str(channel.id), Surface.PRIVATE, message.content))
            return
        ticket = await self._threads.get(channel.id)
        if ticket is not None:
            await self._in_ticket_thread(message, ticket)
            return
        me = self._client().user
        if channel.id not in self._options.support_channel_ids or me is None:
            return
        if not any(user.id == me.id for user in message.mentions):
            return
        question = re.sub(rf"<@!?{me.id}>", "", message.content).strip()
        if is_account_specific(question):
            await self._escalate(
                message.id,
                channel.id,
                message.author,
                lambda thread: self._inbound(message, thread, Surface.PRIVATE, question),
                question,
                notice_reply_to=message.id,
            )
        else:
            key = f"{channel.id}:{message.author.id}"
            await self._receive(self._inbound(message, key, Surface.PUBLIC, question))

    async def _in_ticket_thread(self, message: discord.Message, ticket: TicketThread) -> None:
        if self._is_staff(message.author):
            if not message.content.strip():
                return
            if ticket.ticket is None:
                log.warning(
                    "discord: agent message %s in thread %s before its ticket opened",
                    message.id,
                    ticket.thread_id,
                )
                return
            agent = await self._threads.agent(message.author.id, message.author.display_name)
            try:
                await self._threads.agent_reply(ticket, message.id, agent, message.content)
            except TicketError as exc:
                log.warning("discord: agent message %s not added to %s: %s", message.id, ticket.ticket, exc)
            return
        await self._receive(self._inbound(message, str(ticket.thread_id), Surface.PRIVATE, message.content))

    def _inbound(self, message: discord.Message, key: str, surface: Surface, content: str) -> InboundMessage:
        reference = message.reference.message_id if message.reference is not None else None
        return InboundMessage(
            channel=NAME,
            thread_key=key,
            external_id=str(message.id),
            sender=_sender(message.author),
            text=content,
            surface=surface,
            attachments=tuple(
                Attachment(_kind(a.content_type), str(a.id), a.filename, a.content_type, a.size)
                for a in message.attachments
            ),
            reply_to_external_id=str(reference) if reference else None,
            sent_at=message.created_at,
            raw={
                "id": str(message.id),
                "channel_id": str(message.channel.id),
                "guild_id": str(message.guild.id) if message.guild else None,
                "author_id": str(message.author.id),
            },
        )

    # ----- private ticket threads -------------------------------------------------------

    async def _escalate(
        self,
        trigger_id: int,
        parent_id: int,
        customer: discord.abc.User,
        inbound: Callable[[str], InboundMessage],
        subject: str,
        *,
        notice_reply_to: int | None = None,
    ) -> int:
        """Carry this event on in a private ticket thread (opened once per event); its id."""
        async with self._threads.locks.hold(("escalate", trigger_id)):
            return await self._escalate_once(
                trigger_id, parent_id, customer, inbound, subject, notice_reply_to
            )

    async def _escalate_once(
        self,
        trigger_id: int,
        parent_id: int,
        customer: discord.abc.User,
        inbound: Callable[[str], InboundMessage],
        subject: str,
        notice_reply_to: int | None,
    ) -> int:
        thread_id = await self._threads.escalated(trigger_id)
        new = thread_id is None
        if thread_id is None:
            thread_id = await self._open_thread(parent_id, customer)
            # Known as a ticket thread at once: the customer may write there before the ticket exists.
            await self._threads.add(TicketThread(thread_id, None, customer.id, parent_id))
            await self._threads.mark_escalated(trigger_id, thread_id)
        result = await self._receive(inbound(str(thread_id)))
        ticket = await self._threads.get(thread_id)
        if ticket is None or ticket.ticket is None:
            view = await self._threads.open_ticket(result.conversation_id, subject)
            ticket = TicketThread(thread_id, view.number, customer.id, parent_id)
            await self._threads.add(ticket)
        if new and notice_reply_to is not None:
            await self._notice(
                parent_id, notice_reply_to, notice("moved", number=ticket.ticket, thread=thread_id)
            )
        return thread_id

    async def _open_thread(self, parent_id: int, customer: discord.abc.User) -> int:
        client = self._client()
        with translated_errors():
            parent = client.get_channel(parent_id) or await client.fetch_channel(parent_id)
            if not isinstance(parent, discord.TextChannel):
                raise ChannelError(f"support channel {parent_id} is not a text channel")
            thread = await parent.create_thread(
                name=f"Support · {customer.display_name}"[:100],
                type=discord.ChannelType.private_thread,
                invitable=False,
                auto_archive_duration=self._options.archive_minutes,
            )
            await thread.add_user(customer)
            role = self._options.support_role_id
            ping = f"<@&{role}> " if role is not None and self._options.notify_support_role else ""
            # Our own words, not the customer's: naming the role adds its members to the thread.
            await thread.send(
                f"{ping}{notice('thread_intro', user=customer.id)}",
                allowed_mentions=discord.AllowedMentions(
                    everyone=False, users=[customer], roles=[discord.Object(role)] if ping and role else False
                ),
            )
        log.info("discord: private ticket thread %s opened for %s", thread.id, customer.id)
        return thread.id

    async def _notice(self, channel_id: int, reply_to: int, content: str) -> None:
        channel = self._client().get_partial_messageable(channel_id)
        reference = discord.MessageReference(
            message_id=reply_to, channel_id=channel_id, fail_if_not_exists=False
        )
        try:
            await channel.send(content, reference=reference, allowed_mentions=discord.AllowedMentions.none())
        except discord.HTTPException as exc:
            log.warning("discord: could not post the thread notice in %s: %s", channel_id, exc)

    # ----- interactions -----------------------------------------------------------------

    async def help(self, interaction: Interaction) -> None:
        """Answer ``/help`` at once (nothing to look up)."""
        await interaction.response.send_message(help_text(_lang(interaction)), ephemeral=True)

    def suggest(self, current: str, locale: str) -> list[app_commands.Choice[str]]:
        """``/faq`` autocomplete."""
        lang = "zh" if locale.startswith("zh") else "en"
        return [app_commands.Choice(name=n, value=v) for n, v in self._topics.suggest(current, lang)]

    async def command_turn(
        self, interaction: Interaction, *, text: str = "", action: str | None = None
    ) -> None:
        """Defer within Discord's three seconds, run the turn; the replies follow up."""
        if action is None and text.startswith(TOPIC_ACTION) and self._topics.knows(text[len(TOPIC_ACTION) :]):
            action, text = text, ""
        place = await self._place(interaction)
        if place is None:
            await _say(interaction, "not_here")
            return
        ephemeral = place.surface is Surface.PUBLIC
        await _defer(interaction, ephemeral=ephemeral)
        external_id = str(interaction.id)
        self._pending.add(external_id, interaction, ephemeral=ephemeral, placeholder=True)
        result = await self._receive(self._interaction_inbound(interaction, external_id, place, text, action))
        if not result.replies and not result.duplicate:
            await _finish(interaction, text_for(interaction, "passed_on"))

    async def open_ticket(self, interaction: Interaction, summary: str) -> None:
        """``/ticket``: a private thread in a support channel; a person in a DM or thread."""
        place = await self._place(interaction)
        if place is None:
            await _say(interaction, "not_here")
            return
        if place.surface is Surface.PRIVATE:
            await self.command_turn(interaction, text=summary, action=HUMAN)
            return
        await _defer(interaction, ephemeral=True)
        assert interaction.channel_id is not None
        thread_id = await self._escalate(
            interaction.id,
            interaction.channel_id,
            interaction.user,
            lambda thread: self._interaction_inbound(
                interaction, str(interaction.id), Place(thread, Surface.PRIVATE), summary, HUMAN
            ),
            summary,
        )
        await _finish(interaction, text_for(interaction, "thread_ready", thread=thread_id))

    async def pressed(self, interaction: Interaction, action: str) -> None:
        """A quick reply was pressed: disable the message's controls, then run the turn."""
        message = interaction.message
        place = await self._place(interaction)
        if message is None or place is None:
            await _say(interaction, "not_here")
            return
        view = disabled_copy(message)
        view.stop()  # nothing to dispatch: the controls are disabled
        try:
            await interaction.response.edit_message(view=view)
        except discord.HTTPException as exc:
            log.info("discord: press %s not acknowledged (%s); handling it anyway", interaction.id, exc)
        # One press per message: a second press (two clicks, two members) is a duplicate.
        external_id = f"{message.id}:press"
        escalate = action == HUMAN or action.startswith(FORM_PREFIX)
        if place.surface is Surface.PUBLIC and escalate and interaction.channel_id is not None:
            thread_id = await self._escalate(
                message.id,
                interaction.channel_id,
                interaction.user,
                lambda thread: self._interaction_inbound(
                    interaction, external_id, Place(thread, Surface.PRIVATE), "", action
                ),
                text_for(interaction, "subject_button"),
            )
            await interaction.followup.send(
                text_for(interaction, "thread_ready", thread=thread_id), ephemeral=True
            )
            return
        self._pending.add(
            external_id, interaction, ephemeral=place.surface is Surface.PUBLIC, placeholder=False
        )
        result = await self._receive(self._interaction_inbound(interaction, external_id, place, "", action))
        if result.duplicate:
            await interaction.followup.send(text_for(interaction, "already_pressed"), ephemeral=True)

    async def staff(self, interaction: Interaction, verb: StaffVerb, ticket: str | None, note: str) -> None:
        """``/take``, ``/solve``, ``/note``: only for the support role, checked here."""
        if not self._is_staff(interaction.user):
            await _say(interaction, "staff_only", command=verb)
            return
        await _defer(interaction, ephemeral=True)
        number = ticket
        if number is None and interaction.channel_id is not None:
            found = await self._threads.get(interaction.channel_id)

            number = found.ticket if found is not None else None
        if not number:
            await _finish(interaction, notice("which_ticket", command=verb))
            return
        user = interaction.user
        agent = await self._threads.agent(user.id, user.display_name)
        tickets = self._threads.service
        try:
            if verb == "take":
                view = await tickets.take(number, agent)
            elif verb == "solve":
                view = await tickets.solve(number, actor=f"discord:{user.name}")
            else:
                view = await tickets.note(number, agent, note)
        except TicketError as exc:
            await _finish(interaction, str(exc))
            return
        await _finish(interaction, notice(f"staff_{verb}", number=view.number, status=view.status))

    def _interaction_inbound(
        self, interaction: Interaction, external_id: str, place: Place, content: str, action: str | None
    ) -> InboundMessage:
        return InboundMessage(
            channel=NAME,
            thread_key=place.thread_key,
            external_id=external_id,
            sender=_sender(interaction.user, _lang(interaction)),
            text=content,
            action=action,
            surface=place.surface,
            sent_at=interaction.created_at,
            raw={
                "interaction_id": str(interaction.id),
                "type": interaction.type.value,
                "channel_id": str(interaction.channel_id),
                "guild_id": str(interaction.guild_id) if interaction.guild_id else None,
            },
        )

    async def _place(self, interaction: Interaction) -> Place | None:
        channel_id = interaction.channel_id
        if channel_id is None:
            return None
        if interaction.guild_id is None:
            return Place(str(channel_id), Surface.PRIVATE)
        ticket = await self._threads.get(channel_id)
        if ticket is not None:
            return Place(str(channel_id), Surface.PRIVATE, ticket)
        if channel_id in self._options.support_channel_ids:
            return Place(f"{channel_id}:{interaction.user.id}", Surface.PUBLIC)
        return None

    def _is_staff(self, user: discord.abc.User) -> bool:
        role = self._options.support_role_id
        return role is not None and isinstance(user, discord.Member) and user.get_role(role) is not None

    async def _receive(self, message: InboundMessage) -> TurnResult:
        return await with_store_retries(lambda: self._inbox.receive(message))


async def with_store_retries(call: Callable[[], Awaitable[TurnResult]]) -> TurnResult:
    """Run ``call``, waiting out a store outage (a gateway event is never sent again)."""
    for delay in STORE_RETRIES:
        try:
            return await call()
        except StoreUnavailable as exc:
            log.warning("discord: the store is unavailable (%s); retrying in %ss", exc, delay)
            await asyncio.sleep(delay)
    return await call()


def _sender(user: discord.abc.User, language: str | None = None) -> Sender:
    return Sender(str(user.id), handle=user.name, display_name=user.display_name, language_hint=language)


def _lang(interaction: Interaction) -> str:
    return "zh" if str(interaction.locale).startswith("zh") else "en"


def text_for(interaction: Interaction, key: str, **values: object) -> str:
    """A notice in the language of the member's Discord client."""
    return notice(key, _lang(interaction), **values)


def _kind(content_type: str | None) -> str:
    major = (content_type or "").split("/", 1)[0]
    return major if major in ("image", "video", "audio") else "document"


async def _defer(interaction: Interaction, *, ephemeral: bool) -> None:
    try:
        await interaction.response.defer(thinking=True, ephemeral=ephemeral)
    except discord.HTTPException as exc:
        # A replayed interaction was acknowledged the first time; the turn is still stored once.
        log.info("discord: interaction %s not deferred: %s", interaction.id, exc)


async def _finish(interaction: Interaction, content: str) -> None:
    try:
        await interaction.edit_original_response(
            content=content, allowed_mentions=discord.AllowedMentions.none()
        )
    except discord.HTTPException as exc:
        log.info("discord: interaction %s not answered: %s", interaction.id, exc)


async def _say(interaction: Interaction, key: str, **values: object) -> None:
    try:
        await interaction.response.send_message(text_for(interaction, key, **values), ephemeral=True)
    except discord.HTTPException as exc:
        log.info("discord: interaction %s not answered: %s", interaction.id, exc)

"""The channel port: the few things every platform really has.

A channel receives platform events and hands each one, normalised, to an :class:`Inbox`
(the pipeline); it sends an :class:`OutboundMessage` and returns the platform's id for it.
Errors from the platform's SDK are translated at the adapter into the tree below, so the
dispatcher can decide between retrying and giving up without knowing the platform.

``ChannelError``
 ├── ``ChannelUnavailable`` — outage, timeout, 5xx: retry with backoff.
 │    └── ``RateLimited`` — 429: retry after ``retry_after`` seconds.
 └── ``DeliveryRejected`` — the platform refuses this message for good (blocked bot,
      deleted chat, invalid recipient): do not retry.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Protocol

from conversations.values import InboundMessage, OutboundMessage
from core.ratelimit import Limit

if TYPE_CHECKING:
    from core.settings import Settings
    from core.tickets.service import TicketService


class ChannelError(Exception):
    """A platform failed to do what we asked.

    Args:
        message: What happened, for the outbox's ``last_error`` and the logs.
        retry_after: Seconds the platform asked us to wait, if it said.

    """

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ChannelUnavailable(ChannelError):
    """The platform is down, slow or answered with a server error: try again later."""


class RateLimited(ChannelUnavailable):
    """The platform answered 429: try again after ``retry_after`` seconds."""


class DeliveryRejected(ChannelError):
    """The platform refuses this message permanently: retrying will not help."""


class HeldForReview(ChannelError):
    """The channel will not publish this message until a person approves it (X public replies).

    The dispatcher marks the outbox entry ``held``; approving it from the mention queue
    queues it again with ``metadata["approved"]`` set.
    """


@dataclass(frozen=True, slots=True)
class TurnReply:
    """A reply the pipeline stored for a turn, as returned to a synchronous channel."""

    id: int
    text: str
    buttons: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class TurnResult:
    """What ingesting one inbound message produced.

    Attributes:
        message_id: Our id of the stored inbound message.
        conversation_id: The conversation it belongs to.
        duplicate: The platform had delivered this message before; nothing new was stored.
        replies: The replies to it (the same ones again for a duplicate).
        jobs: The turn queued work for later (a ticket to open).

    """

    message_id: int
    conversation_id: int
    duplicate: bool
    replies: tuple[TurnReply, ...]
    jobs: bool = False


class Inbox(Protocol):
    """Where channels deliver normalised inbound messages (the pipeline implements it)."""

    async def receive(self, message: InboundMessage) -> TurnResult:
        """Store the message, decide the answer and queue the replies, exactly once."""
        ...


class ChannelState(Protocol):
    """Durable cursors a channel keeps between runs (``since_id``, IMAP UIDs, update offsets)."""

    async def get(self, key: str) -> str | None:
        """The value under ``key``, or ``None``."""
        ...

    async def put(self, key: str, value: str) -> None:
        """Store ``value`` under ``key``."""
        ...


class ThreadDirectory(Protocol):
    """Finds existing threads of a channel (e-mail replies, staff replies in a ticket thread)."""

    async def thread_of_message(self, *external_ids: str) -> str | None:
        """The thread key of the conversation holding any of these platform message ids."""
        ...

    async def thread_of_ticket(self, number: int) -> str | None:
        """The thread key of ticket ``number``'s conversation on this channel."""
        ...


@dataclass(frozen=True, slots=True)
class ChannelContext:
    """What Helpline lends a channel besides the inbox: settings, durable state, services.

    Attributes:
        settings: Every setting (brand, public URL, data directory); the channel's own
            section is passed to its factory separately, validated by the channel.
        state: The channel's durable cursors.
        threads: Lookup of existing threads by message id or ticket number.
        tickets: The agents' service (staff commands in a channel call it).

    """

    settings: Settings
    state: ChannelState
    threads: ThreadDirectory
    tickets: TicketService


class Channel(abc.ABC):
    """A messaging platform, with a lifecycle: ``start`` → (``send``)* → ``stop``.

    Subclasses set :attr:`name` and implement the three hooks. ``start`` returns once the
    channel is receiving (background work runs in tasks the channel owns); ``stop`` ends
    them and releases connections.

    A channel whose platform waits for our answer in the same request (the web chat)
    sets :attr:`answers_in_response`: a turn's replies are then delivered by that response
    and stored as sent; later messages (an agent's reply) still go through :meth:`send`.
    """

    name: ClassVar[str]
    answers_in_response: ClassVar[bool] = False
    #: The channel receives by polling one account (Telegram long polling, IMAP, X mentions):
    #: only one process may do that. The runtime calls :meth:`start_intake` in the process
    #: holding the channel's lease and :meth:`stop_intake` when it loses it; ``start`` then
    #: only prepares sending (and webhook routes), in every process.
    single_intake: bool = False
    #: The platform's delivery limits; the dispatcher waits for a slot before each send,
    #: shared by every dispatcher process when Redis is configured.
    rate_limits: ClassVar[tuple[Limit, ...]] = ()

    async def start_intake(self) -> None:  # noqa: B027 - an optional hook, empty by default
        """Begin polling (channels with :attr:`single_intake`)."""

    async def stop_intake(self) -> None:  # noqa: B027 - an optional hook, empty by default
        """Stop polling; sending goes on."""

    @abc.abstractmethod
    async def start(self, inbox: Inbox) -> None:
        """Begin receiving; every event goes to ``inbox.receive``."""

    @abc.abstractmethod
    async def send(self, message: OutboundMessage) -> str:
        """Deliver one message and return the platform's id for it.

        Raises:
            ChannelError: Translated from the platform's own errors.

        """

    @abc.abstractmethod
    async def stop(self) -> None:
        """Stop receiving and close connections."""

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
from typing import ClassVar, Protocol

from conversations.values import InboundMessage, OutboundMessage


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

    """

    message_id: int
    conversation_id: int
    duplicate: bool
    replies: tuple[TurnReply, ...]


class Inbox(Protocol):
    """Where channels deliver normalised inbound messages (the pipeline implements it)."""

    async def receive(self, message: InboundMessage) -> TurnResult:
        """Store the message, decide the answer and queue the replies, exactly once."""
        ...


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

"""The inbound flood limit: how fast one sender's messages are answered.

Each sender (one channel identity: a web chat session, a Telegram user, an e-mail address)
has a GCRA budget of ``max_messages_per_minute`` with a burst. A message beyond it is still
stored, once, marked throttled in its ``raw`` payload, but the engine does not see it and it
does not move the conversation up the agents' inbox or into a ticket. The sender is told to
slow down at most once per notice window, not once per message. The budgets are taken from
:class:`~core.ratelimit.RateLimits`, so with Redis every process shares them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from conversations.values import InboundMessage
from core.ratelimit import Limit, LocalLimits, RateLimits
from core.settings import AbuseSettings
from core.text.language import Language, reply_language

#: The key of the ``raw`` payload that marks a stored message as throttled (never answered).
THROTTLED_KEY = "helpline_throttled"

_NOTICE = {
    "en": "You are sending messages too fast. Please wait {seconds} seconds before writing again; "
    "what you sent is saved and an agent can read it.",
    "zh": "您发送消息的速度过快，请等待 {seconds} 秒后再发送。您发送的内容已保存，客服可以查看。",
}


@dataclass(frozen=True, slots=True)
class Throttled:
    """A message over its sender's budget.

    Attributes:
        retry_after: Seconds until the sender's next message will be answered.
        notify: This is the first throttled message of the notice window: tell the sender.

    """

    retry_after: float
    notify: bool


def notice(language: str, retry_after: float) -> str:
    """The polite "you are sending too fast" reply, in ``"en"`` or ``"zh"``."""
    lang = "zh" if language.lower().startswith("zh") else "en"
    return _NOTICE[lang].format(seconds=max(1, math.ceil(retry_after)))


def notice_language(conversation_language: str | None, text: str, default: Language) -> str:
    """The conversation's language, else the one the message is written in."""
    return conversation_language or reply_language(text, default)


def mark_throttled(raw: Mapping[str, Any] | None, retry_after: float) -> dict[str, Any]:
    """The payload to store for a throttled message: the platform's, plus the mark."""
    return {**(raw or {}), THROTTLED_KEY: {"retry_after": round(retry_after, 3)}}


def is_throttled(raw: Mapping[str, Any] | None) -> bool:
    """Whether a stored message's payload carries the throttled mark."""
    return raw is not None and THROTTLED_KEY in raw


class InboundThrottle:
    """Per-sender budgets of inbound messages.

    Args:
        limits: Where budgets are kept (:class:`~adapters.redis_limits.RedisLimits` to share
            them between processes, :class:`~core.ratelimit.LocalLimits` otherwise).
        per_minute: Messages a sender may send per minute, sustained.
        burst: Messages a sender may send at once before the rate applies.
        notice_seconds: At most one notice per sender in this many seconds.
        default_language: The notice's language when neither the conversation nor the text decides.

    """

    def __init__(
        self,
        limits: RateLimits,
        per_minute: float,
        burst: int,
        notice_seconds: float = 60.0,
        default_language: Language = "en",
    ) -> None:
        if per_minute <= 0 or burst < 1 or notice_seconds <= 0:
            raise ValueError("a throttle needs a positive rate, burst and notice window")
        self._limits = limits
        self._messages = Limit("sender", per_second=per_minute / 60.0, burst=burst)
        self._notices = Limit("sender", per_second=1.0 / notice_seconds, burst=1)
        self.default_language: Language = default_language

    @classmethod
    def from_settings(
        cls, settings: AbuseSettings, limits: RateLimits | None, default_language: Language = "en"
    ) -> InboundThrottle | None:
        """The throttle the settings ask for, or ``None`` when the limit is off (0 or null)."""
        if not settings.max_messages_per_minute:
            return None
        return cls(
            limits or LocalLimits(),
            settings.max_messages_per_minute,
            settings.message_burst,
            settings.throttle_notice_seconds,
            default_language,
        )

    async def check(self, message: InboundMessage) -> Throttled | None:
        """Take a slot for the message's sender: ``None`` if it may be answered."""
        sender = f"{message.channel}:{message.sender.external_id}"
        wait = await self._limits.reserve(f"inbound:{sender}", self._messages)
        if wait <= 0:
            return None
        notify = await self._limits.reserve(f"inbound-notice:{sender}", self._notices) <= 0
        return Throttled(retry_after=wait, notify=notify)

"""The Telegram channel: private chats, groups and a staff group, on python-telegram-bot 22.

Built on :class:`telegram.Bot` with its own update loop rather than ``telegram.ext.Application``,
on Helpline's event loop. Why: Helpline already has what ``Application`` adds (a queue, a
dispatcher, retries), and two things matter here that its ``Updater`` does differently —

- the long-polling offset is stored durably and moved past an update only once the pipeline
  has stored it (``Updater`` acknowledges a batch as soon as it is fetched and keeps the
  offset in memory, so a crash loses what was fetched but not yet handled);
- one malformed update is logged and skipped; ``Bot.get_updates`` parses a whole batch at
  once and one bad update would fail that batch on every retry.

Polling and webhook mode feed the same handler. In webhook mode Helpline registers
``webhook_url`` with its secret at start and serves the update route on its own HTTP
server: a wrong or missing ``X-Telegram-Bot-Api-Secret-Token`` gets 403 and nothing is read.

Outbound (:meth:`TelegramChannel.send`): plain text split at 4,096 characters on paragraph
boundaries, buttons as an inline keyboard on the last part, a reply to the customer's message
where there is one, paced within Telegram's flood limits. Errors are translated: ``RetryAfter``
→ :class:`RateLimited`, network errors and timeouts → :class:`ChannelUnavailable`, ``Forbidden``
(the customer blocked the bot; the chat is marked unreachable) and ``BadRequest`` (chat not
found...) → :class:`DeliveryRejected`. The platform id returned is ``"<chat id>:<message id>"``.
Telegram has no idempotency key: a send that timed out after Telegram accepted it is sent again.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hmac
import logging
import os
import ssl
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from telegram import Bot, InlineKeyboardMarkup, ReplyParameters, Update
from telegram.error import (
    BadRequest,
    Conflict,
    Forbidden,
    InvalidToken,
    RetryAfter,
    TelegramError,
)
from telegram.request import HTTPXRequest

from adapters.http_helpers import error, json_response, read_limited
from adapters.telegram_limits import SendPacer
from adapters.telegram_render import CallbackCodec, message_key, parse_message_key, split_text
from adapters.telegram_settings import TelegramSettings
from adapters.telegram_staff import StaffDesk
from adapters.telegram_updates import (
    NAME,
    BotIdentity,
    CustomerTurn,
    Ignored,
    MalformedUpdate,
    Reachability,
    StaffMessage,
    classify,
    parse_update,
)
from conversations.errors import StoreUnavailable
from conversations.values import OutboundMessage
from core.channels import (
    Channel,
    ChannelContext,
    ChannelUnavailable,
    DeliveryRejected,
    Inbox,
    RateLimited,
)

# python-telegram-bot 22 warns on every read of a time period (RetryAfter.retry_after...)
# unless it may hand out timedeltas already; we read both forms.
os.environ.setdefault("PTB_TIMEDELTA", "true")

log = logging.getLogger(__name__)
ALLOWED_UPDATES = ("message", "edited_message", "callback_query", "my_chat_member")
OFFSET = "offset"
READY_TIMEOUT = 10.0
MAX_BACKOFF = 60.0
TOO_LARGE = {
    "en": "I couldn't take {files}: files up to {limit} MB can be sent here. A smaller file or a "
    "screenshot works, or describe it in words.",
    "zh": "无法接收 {files}：这里只能发送不超过 {limit} MB 的文件。请发送较小的文件或截图，或用文字描述。",
}
EXPIRED = {"en": "This button has expired.", "zh": "此按钮已失效。"}


class _Bot(Bot):
    """A Bot that can fetch updates without parsing them, so one bad update cannot block a batch."""

    async def raw_updates(self, offset: int | None, timeout: int, read_timeout: float) -> list[Any]:
        data: dict[str, Any] = {
            "offset": offset,
            "timeout": timeout,
            "allowed_updates": list(ALLOWED_UPDATES),
        }
        result = await self._post("getUpdates", data, read_timeout=read_timeout + timeout)
        return result if isinstance(result, list) else []


class TelegramChannel(Channel):
    """A Telegram bot, in polling or webhook mode.

    Args:
        settings: The ``telegram`` settings section.
        context: Durable state, thread lookup and the ticket service (staff group).

    """

    name = NAME

    def __init__(self, settings: TelegramSettings, context: ChannelContext) -> None:
        self._settings = settings
        self._context = context
        self._codec = CallbackCodec(context.state)
        self._pacer = SendPacer(
            settings.global_per_second,
            settings.chat_per_second,
            settings.group_per_minute,
            settings.max_pacing_wait_seconds,
        )
        self._bot: _Bot | None = None
        self._requests: tuple[HTTPXRequest, ...] = ()
        self._me: BotIdentity | None = None
        self._ready = asyncio.Event()
        self._inbox: Inbox | None = None
        self._task: asyncio.Task[None] | None = None
        self._intake_task: asyncio.Task[None] | None = None
        self._intake_wanted = False
        # Polling and the staff feed run in one process, elected by the runtime.
        self.single_intake = settings.mode == "polling" or settings.staff_chat_id is not None
        self._partial: dict[str, list[int]] = {}
        self._staff: StaffDesk | None = None
        if settings.staff_chat_id is not None:
            self._staff = StaffDesk(context.tickets, context.state, settings.staff_agents, self._post_staff)

    @classmethod
    def configure(cls, section: Mapping[str, Any], context: ChannelContext) -> TelegramChannel | str:
        """Build from the settings section, or say why the channel stays off."""
        settings = TelegramSettings.model_validate(section)
        return settings.missing() or cls(settings, context)

    @property
    def ready(self) -> asyncio.Event:
        """Set once the bot knows who it is and its webhook (or polling) is set up."""
        return self._ready

    async def start(self, inbox: Inbox) -> None:
        """Connect in the background (Telegram may be unreachable for a while) and start receiving."""
        timeout = self._settings.request_timeout_seconds
        self._inbox = inbox
        tls = {"verify": _tls_context()}
        self._requests = (
            HTTPXRequest(
                connection_pool_size=32,
                read_timeout=timeout,
                write_timeout=timeout,
                connect_timeout=timeout,
                pool_timeout=timeout,
                httpx_kwargs=tls,
            ),
            HTTPXRequest(
                connection_pool_size=1,
                read_timeout=timeout,
                write_timeout=timeout,
                connect_timeout=timeout,
                httpx_kwargs=tls,
            ),
        )
        self._bot = _Bot(
            self._settings.token,
            base_url=self._settings.api_base_url,
            base_file_url=self._settings.file_base_url,
            request=self._requests[0],
            get_updates_request=self._requests[1],
        )
        self._task = asyncio.create_task(self._run(self._bot), name="telegram")

    async def stop(self) -> None:
        """Stop polling and posting, and close the HTTP connections (the webhook stays registered)."""
        self._inbox = None
        await self.stop_intake()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._bot is not None:
            with contextlib.suppress(TelegramError):
                await self._bot.shutdown()
            self._bot = None
        for request in self._requests:
            await request.shutdown()  # also when the bot never got to initialize
        self._requests = ()
        self._ready.clear()

    def routes(self) -> list[BaseRoute]:
        """The webhook route, in webhook mode."""
        if self._settings.mode != "webhook":
            return []
        return [Route(self._settings.webhook_path, self._webhook, methods=["POST"])]

    # -- receiving -------------------------------------------------------------------------

    async def _run(self, bot: _Bot) -> None:
        # initialize() asks getMe who the bot is (its @username is how groups mention it).
        if not await self._retrying("getMe", bot.initialize):
            return
        self._me = BotIdentity(bot.bot.id, bot.bot.username or "")
        if self._settings.mode == "webhook":
            registered = await self._retrying(
                "setWebhook",
                lambda: bot.set_webhook(
                    self._settings.webhook_url,
                    allowed_updates=list(ALLOWED_UPDATES),
                    secret_token=self._settings.webhook_secret,
                ),
            )
        else:
            registered = await self._retrying("deleteWebhook", bot.delete_webhook)
        if not registered:
            return
        log.info("telegram: connected as @%s (%s mode)", self._me.username, self._settings.mode)
        self._ready.set()
        if self._intake_wanted:
            self._begin_intake()

    async def start_intake(self) -> None:
        """Poll for updates and feed the staff group (this process holds the Telegram intake lease)."""
        self._intake_wanted = True
        if self._ready.is_set() and self._intake_task is None:
            self._begin_intake()

    async def stop_intake(self) -> None:
        """Stop polling and the staff feed; sending goes on."""
        self._intake_wanted = False
        task, self._intake_task = self._intake_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _begin_intake(self) -> None:
        assert self._bot is not None
        self._intake_task = asyncio.create_task(self._intake(self._bot), name="telegram-intake")

    async def _intake(self, bot: _Bot) -> None:
        # One process only: two pollers would fight over getUpdates, two staff feeds would
        # post every new ticket twice.
        async with asyncio.TaskGroup() as tasks:
            if self._settings.mode == "polling":
                tasks.create_task(self._poll(bot))
            if self._staff is not None:
                tasks.create_task(self._staff.run(self._settings.staff_poll_seconds))

    async def _retrying(self, what: str, call: Callable[[], Awaitable[object]]) -> bool:
        """``await call()`` until it succeeds; ``False`` if the token is refused (logged)."""
        failures = 0
        while True:
            try:
                await call()
            except (InvalidToken, Forbidden) as exc:
                log.error("telegram: %s refused the bot token (%s): the channel stays off", what, exc)
                return False
            except RetryAfter as exc:
                await asyncio.sleep(_seconds(exc.retry_after))
            except TelegramError as exc:
                failures += 1
                delay = _backoff(failures)
                log.warning("telegram: %s failed (%s); retrying in %.1fs", what, exc, delay)
                await asyncio.sleep(delay)
            else:
                return True

    async def _poll(self, bot: _Bot) -> None:
        stored = await self._context.state.get(OFFSET)
        offset = int(stored) if stored else None
        failures = 0
        while True:
            try:
                batch = await bot.raw_updates(
                    offset, self._settings.poll_timeout_seconds, self._settings.request_timeout_seconds
                )
                ids = [
                    u["update_id"]
                    for u in batch
                    if isinstance(u, dict) and isinstance(u.get("update_id"), int)
                ]
                if batch:
                    await self._handle_batch(batch)
                if ids:
                    offset = max(ids) + 1
                    await self._context.state.put(OFFSET, str(offset))
                failures = 0
            except RetryAfter as exc:
                await asyncio.sleep(_seconds(exc.retry_after))
            except InvalidToken as exc:
                log.error("telegram: getUpdates refused the bot token (%s): polling stops", exc)
                return
            except (TelegramError, StoreUnavailable) as exc:
                # Conflict: another process polls this bot, or a webhook is set.
                failures += 1
                delay = _backoff(failures)
                level = logging.ERROR if isinstance(exc, Conflict) else logging.WARNING
                log.log(level, "telegram: polling failed (%s); retrying in %.1fs", exc, delay)
                await asyncio.sleep(delay)

    async def _handle_batch(self, batch: Sequence[Any]) -> None:
        """Handle a batch: each chat's updates in order, different chats concurrently."""
        by_chat: dict[int | None, list[Update]] = defaultdict(list)
        for data in batch:
            update = self._parse(data)
            if update is not None:
                by_chat[update.effective_chat.id if update.effective_chat else None].append(update)

        async def in_order(updates: list[Update]) -> None:
            for update in updates:
                await self._handle(update)

        outcomes = await asyncio.gather(*(in_order(u) for u in by_chat.values()), return_exceptions=True)
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome  # only StoreUnavailable gets here: the batch is fetched again

    def _parse(self, data: Any) -> Update | None:
        try:
            return parse_update(data, self._bot)
        except MalformedUpdate as exc:
            log.warning("telegram: rejected an update: %s", exc)
            return None

    async def _handle(self, update: Update) -> None:
        """Act on one update. Only the store being down escapes (the update is then fetched again)."""
        assert self._me is not None
        try:
            event = await classify(
                update,
                self._me,
                self._codec,
                self._settings.staff_chat_id,
                self._settings.max_attachment_bytes,
            )
            if isinstance(event, Ignored):
                log.info("telegram: ignored: %s", event.reason)
            elif isinstance(event, Reachability):
                marked = "" if event.reachable else datetime.now(UTC).isoformat()
                await self._context.state.put(f"unreachable:{event.chat_id}", marked)
            elif isinstance(event, StaffMessage):
                if self._staff is not None:
                    await self._staff.handle(event.message)
            else:
                await self._customer(event)
        except StoreUnavailable:
            raise
        except Exception:  # the per-update boundary: one bad update must not stop the others
            log.exception("telegram: update %s could not be handled", update.update_id)

    async def _customer(self, turn: CustomerTurn) -> None:
        message = turn.message
        language = message.sender.language_hint or "en"
        if turn.callback_query_id is not None:
            await self._acknowledge(turn, EXPIRED[language] if turn.expired else None)
            if turn.expired:
                log.info("telegram: expired button pressed in %s", message.thread_key)
                return
        if turn.oversized:
            limit = self._settings.max_attachment_bytes // (1024 * 1024) or 1
            notice = TOO_LARGE[language].format(files=", ".join(turn.oversized), limit=limit)
            with contextlib.suppress(ChannelUnavailable, DeliveryRejected):
                await self._send_text(int(message.thread_key), notice)
        if self._inbox is None:
            raise StoreUnavailable("the Telegram channel is stopping")
        result = await self._inbox.receive(message)
        if result.duplicate:
            log.info("telegram: %s was delivered before; stored once", message.external_id)

    async def _acknowledge(self, turn: CustomerTurn, text: str | None) -> None:
        """Answer the button press at once and take the keyboard away, so it cannot be pressed twice."""
        bot = self._bot
        assert bot is not None and turn.callback_query_id is not None and turn.keyboard is not None
        chat_id, message_id = turn.keyboard
        results = await asyncio.gather(
            bot.answer_callback_query(turn.callback_query_id, text=text),
            bot.edit_message_reply_markup(chat_id=chat_id, message_id=message_id, reply_markup=None),
            return_exceptions=True,
        )
        for outcome in results:
            if isinstance(outcome, TelegramError):
                # A query answered before, or a keyboard already gone: nothing to undo.
                log.info("telegram: acknowledging a button press in %s: %s", chat_id, outcome)
            elif isinstance(outcome, BaseException):
                raise outcome

    async def _webhook(self, request: Request) -> Response:
        given = request.headers.get("x-telegram-bot-api-secret-token", "")
        if not hmac.compare_digest(given.encode(), self._settings.webhook_secret.encode()):
            return error(403, "forbidden", "missing or wrong X-Telegram-Bot-Api-Secret-Token")
        if self._inbox is None:
            return error(503, "unavailable", "the Telegram channel is not running")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._ready.wait(), READY_TIMEOUT)
        if not self._ready.is_set():
            return error(503, "unavailable", "the Telegram channel is still connecting; retry")
        body = await read_limited(request, self._settings.max_webhook_body_bytes)
        if body is None:
            return error(
                413, "too_large", f"the body is larger than {self._settings.max_webhook_body_bytes} bytes"
            )
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError:
            return error(400, "invalid_json", "the body is not valid JSON")
        try:
            update = parse_update(data, self._bot)
        except MalformedUpdate as exc:
            log.warning("telegram: rejected a webhook update: %s", exc)
            # 200: Telegram would otherwise redeliver an update that can never be read.
            return json_response(200, {"ok": False, "ignored": str(exc)})
        try:
            await self._handle(update)
        except StoreUnavailable:
            return error(503, "unavailable", "the update was not stored; Telegram will deliver it again")
        return json_response(200, {"ok": True})

    # -- sending ---------------------------------------------------------------------------

    async def send(self, message: OutboundMessage) -> str:
        """Deliver a reply: parts of at most 4,096 characters, buttons on the last one.

        Raises:
            RateLimited: Telegram (or our pacing) asks to wait.
            ChannelUnavailable: Telegram is unreachable or not connected yet.
            DeliveryRejected: The chat is gone, the bot was blocked, or Telegram refused the text.

        """
        try:
            chat_id = int(message.thread_key)
        except ValueError:
            raise DeliveryRejected(f"{message.thread_key!r} is not a Telegram chat id") from None
        parts = split_text(message.text)
        if not parts:
            raise DeliveryRejected("an empty message cannot be sent to Telegram")
        markup = await self._codec.keyboard(message.buttons)
        replied = parse_message_key(message.reply_to_external_id)
        reply_to = replied[1] if replied is not None and replied[0] == chat_id else None
        # Parts Telegram already took, kept across the outbox's retries of this message.
        sent = self._partial.setdefault(message.idempotency_key, [])
        try:
            for index in range(len(sent), len(parts)):
                last = index == len(parts) - 1
                sent.append(
                    await self._send_text(
                        chat_id, parts[index], markup if last else None, reply_to if index == 0 else None
                    )
                )
        except DeliveryRejected:
            self._partial.pop(message.idempotency_key, None)
            raise
        self._partial.pop(message.idempotency_key, None)
        return message_key(chat_id, sent[0])

    async def _send_text(
        self,
        chat_id: int,
        text: str,
        markup: InlineKeyboardMarkup | None = None,
        reply_to: int | None = None,
    ) -> int:
        bot = self._bot
        if bot is None or not self._ready.is_set():
            raise ChannelUnavailable("the Telegram channel is not connected yet")
        await self._pacer.wait(chat_id)
        reply = ReplyParameters(reply_to, allow_sending_without_reply=True) if reply_to is not None else None
        try:
            sent = await bot.send_message(chat_id, text, reply_markup=markup, reply_parameters=reply)
        except RetryAfter as exc:
            raise RateLimited(f"Telegram: {exc}", retry_after=_seconds(exc.retry_after)) from exc
        except Forbidden as exc:
            await self._context.state.put(f"unreachable:{chat_id}", datetime.now(UTC).isoformat())
            raise DeliveryRejected(f"Telegram refused chat {chat_id}: {exc}") from exc
        except BadRequest as exc:
            raise DeliveryRejected(f"Telegram refused the message to {chat_id}: {exc}") from exc
        except TelegramError as exc:
            raise ChannelUnavailable(f"Telegram: {exc}") from exc
        return sent.message_id

    async def _post_staff(self, text: str, reply_to: int | None) -> int:
        assert self._settings.staff_chat_id is not None
        chat_id = self._settings.staff_chat_id
        parts = split_text(text) or ["…"]
        return await self._send_text(chat_id, parts[0], reply_to=reply_to)


@functools.cache
def _tls_context() -> ssl.SSLContext:
    # Building one costs a few hundred milliseconds (the CA bundle): one per process will do.
    return httpx.create_ssl_context()


def _backoff(failures: int) -> float:
    return float(min(MAX_BACKOFF, 2.0**failures / 4))


def _seconds(value: int | float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)

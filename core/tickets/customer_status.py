"""The answer to "what is the status of my ticket?", in the customer's language (en or zh)."""

from __future__ import annotations

from datetime import datetime, timedelta

from core.tickets.views import TicketView

_NONE = {
    "en": "You have no support ticket with us at the moment.",
    "zh": "您目前没有工单。",
}
_STATUS = {
    "en": {
        "new": "Your ticket {number} ({subject}) is waiting for an agent.",
        "open": "Your ticket {number} ({subject}) is open: an agent is working on it.",
        "pending_customer": "Your ticket {number} ({subject}) is waiting for your reply.",
        "on_hold": "Your ticket {number} ({subject}) is on hold while our team checks it with another department.",
        "solved": "Your ticket {number} ({subject}) has been solved. Write to us if you still need help.",
        "closed": "Your ticket {number} ({subject}) is closed. Write to us if you need more help.",
    },
    "zh": {
        "new": "您的工单 {number}（{subject}）正在等待客服处理。",
        "open": "您的工单 {number}（{subject}）处理中，客服正在跟进。",
        "pending_customer": "您的工单 {number}（{subject}）正在等待您的回复。",
        "on_hold": "您的工单 {number}（{subject}）已暂缓，我们的团队正在与相关部门核实。",
        "solved": "您的工单 {number}（{subject}）已解决。如仍需帮助，请随时联系我们。",
        "closed": "您的工单 {number}（{subject}）已关闭。如需更多帮助，请联系我们。",
    },
}
_DUE = {
    "en": " We aim to reply within {wait}.",
    "zh": "我们预计在 {wait}内回复您。",
}
_SOON = {"en": " We will reply shortly.", "zh": "我们会尽快回复您。"}
_MERGED = {
    "en": "Your request {old} was merged into ticket {number}. ",
    "zh": "您的请求 {old} 已合并到工单 {number}。",
}


def status_sentence(
    ticket: TicketView | None, lang: str, now: datetime, *, merged_from: str | None = None
) -> str:
    """One or two sentences describing a ticket's status for its customer.

    Args:
        ticket: The customer's ticket, or ``None`` when they have none.
        lang: ``"en"`` or ``"zh"`` (anything starting with ``zh`` is Chinese; others fall back to English).
        now: The current time, for the wait until the response target.
        merged_from: The number the customer knows, when their ticket was merged into ``ticket``.

    """
    language = "zh" if lang.lower().startswith("zh") else "en"
    if ticket is None:
        return _NONE[language]
    text = _STATUS[language][ticket.status].format(number=ticket.number, subject=ticket.subject)
    if merged_from is not None:
        text = _MERGED[language].format(old=merged_from, number=ticket.number) + text
    if (
        ticket.status in ("new", "open")
        and ticket.first_response_at is None
        and ticket.sla_due_at is not None
    ):
        remaining = ticket.sla_due_at - now
        if remaining > timedelta(minutes=5):
            text += _DUE[language].format(wait=_duration(remaining, language))
        else:
            text += _SOON[language]
    return text


def _duration(remaining: timedelta, language: str) -> str:
    minutes = int(remaining.total_seconds() // 60)
    if minutes < 90:
        rounded = max(5, (minutes + 4) // 5 * 5)
        return f"{rounded} 分钟" if language == "zh" else f"{rounded} minutes"
    hours = (minutes + 59) // 60
    if hours <= 48:
        if language == "zh":
            return f"{hours} 小时"
        return f"{hours} hours"
    days = (hours + 23) // 24
    return f"{days} 天" if language == "zh" else f"{days} days"

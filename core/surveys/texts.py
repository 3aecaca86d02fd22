"""What surveys and follow-ups say, in English and Chinese."""

from __future__ import annotations

from datetime import timedelta

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "ask": (
            "Your ticket {ticket} has been solved. How did we do? Rate our help from 1 (poor) to "
            "5 (excellent): tap a star, or reply with the number."
        ),
        "opt_out_button": "No more surveys",
        "thanks": (
            "Thank you for rating us {rating}/5! If you like, tell us in a message what we did well "
            "or could do better."
        ),
        "sorry": (
            "Thank you for telling us, and we're sorry we let you down ({rating}/5). If your problem "
            "isn't solved, we can reopen {ticket}. You can also tell us in a message what went wrong."
        ),
        "reopen_button": "Reopen my ticket",
        "skip_button": "Skip",
        "comment_thanks": "Thank you, we've passed your comment on to the team.",
        "skipped": "No problem. Thank you for your feedback!",
        "already": "You've already answered this survey. Thank you!",
        "closed": "This survey has closed. Thank you anyway; write to us any time if you need help.",
        "opted_out": "Understood: we won't send you satisfaction surveys any more.",
        "reopening": "I'm reopening {ticket}. A support agent will follow up in this chat.",
        "no_reopen": "{ticket} can't be reopened from here any more. Write to us and we'll help.",
        "reminder": (
            "Your ticket {ticket} is waiting for your reply. If you still need help, just answer "
            "here; otherwise we'll mark it solved in {wait}."
        ),
        "auto_solved": (
            "We haven't heard back from you, so we've marked {ticket} as solved. If you still need "
            "help, write to us here any time."
        ),
        "hours": "{n} hours",
        "days": "{n} days",
    },
    "zh": {
        "ask": "您的工单 {ticket} 已解决。请为我们的服务打分：1（很差）到 5（很好）。点击星级按钮，或直接回复数字。",
        "opt_out_button": "不再接收调查",
        "thanks": "感谢您给出 {rating}/5 的评分！如愿意，可以发消息告诉我们哪些做得好、哪些需要改进。",
        "sorry": (
            "感谢您的反馈，很抱歉让您失望了（{rating}/5）。如果问题仍未解决，我们可以重新打开工单 {ticket}。"
            "您也可以发消息告诉我们哪里出了问题。"
        ),
        "reopen_button": "重新打开工单",
        "skip_button": "跳过",
        "comment_thanks": "谢谢，我们已将您的意见转达给团队。",
        "skipped": "好的，感谢您的反馈！",
        "already": "您已经回答过这份调查了，谢谢！",
        "closed": "这份调查已结束，仍然感谢您。如需帮助，欢迎随时联系我们。",
        "opted_out": "好的，我们以后不会再向您发送满意度调查。",
        "reopening": "正在为您重新打开工单 {ticket}，客服会在此对话中跟进。",
        "no_reopen": "工单 {ticket} 已无法在这里重新打开。请联系我们，我们会继续帮您。",
        "reminder": "您的工单 {ticket} 正在等待您的回复。如仍需帮助，请直接在这里回复；否则我们将在 {wait}后将其标记为已解决。",
        "auto_solved": "由于没有收到您的回复，我们已将工单 {ticket} 标记为已解决。如仍需帮助，欢迎随时在这里联系我们。",
        "hours": "{n} 小时",
        "days": "{n} 天",
    },
}


def texts(lang: str | None) -> dict[str, str]:
    """The texts of a language (``zh…`` is Chinese; anything else English)."""
    return TEXTS["zh"] if (lang or "").startswith("zh") else TEXTS["en"]


def language(lang: str | None) -> str:
    """``"zh"`` or ``"en"``."""
    return "zh" if (lang or "").startswith("zh") else "en"


def wait(delta: timedelta, lang: str | None) -> str:
    """A wait in whole hours, or days from two days on: "72 hours" reads worse than "3 days"."""
    hours = max(1, round(delta.total_seconds() / 3600))
    if hours >= 48 and hours % 24 == 0:
        return texts(lang)["days"].format(n=hours // 24)
    return texts(lang)["hours"].format(n=hours)

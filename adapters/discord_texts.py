"""The Discord channel's own words (notices around the conversation), in English and Chinese.

The answers themselves come from the engine; these only say where a conversation moved,
who may use a command, and what ``/help`` offers.
"""

from __future__ import annotations

NOTICES: dict[str, dict[str, str]] = {
    "en": {
        "moved": "This looks account-specific, so I've opened a private thread for you: <#{thread}> "
        "(ticket {number}). Only you and the support team can read it.",
        "thread_intro": "Private support thread for <@{user}>. Only you and the support team can see it; "
        "please never share passwords, 2FA codes or seed phrases.",
        "thread_ready": "Your private support thread: <#{thread}>",
        "passed_on": "Thanks, your message has been passed on to the support team.",
        "already_pressed": "That was already answered.",
        "not_here": "I answer in direct messages and in the support channels.",
        "staff_only": "/{command} is for the support team only.",
        "which_ticket": "Which ticket? Use /{command} inside a ticket thread or name it: ticket:HL-1001",
        "staff_take": "{number} is yours ({status}).",
        "staff_solve": "{number} is {status}.",
        "staff_note": "Note added to {number}.",
        "subject_button": "Discord support request",
    },
    "zh": {
        "moved": "这个问题涉及您的账户，我已为您开了一个私密讨论串：<#{thread}>（工单 {number}），"
        "只有您和客服团队能看到。",
        "thread_intro": "<@{user}> 的私密客服讨论串，只有您和客服团队能看到；请勿发送密码、二次验证码或助记词。",
        "thread_ready": "您的私密客服讨论串：<#{thread}>",
        "passed_on": "谢谢，您的消息已转交客服团队。",
        "already_pressed": "这个已经回答过了。",
        "not_here": "我在私信和客服频道中回答问题。",
        "staff_only": "/{command} 仅限客服团队使用。",
        "which_ticket": "哪个工单？请在工单讨论串中使用 /{command}，或指定：ticket:HL-1001",
        "staff_take": "{number} 已由您接手（{status}）。",
        "staff_solve": "{number} 状态：{status}。",
        "staff_note": "已为 {number} 添加备注。",
        "subject_button": "Discord 客服请求",
    },
}

HELP = {
    "en": "I'm the support assistant. Ask me in a direct message, or mention me in a support channel.\n"
    "• /faq <question> — an answer from the help articles (suggestions as you type)\n"
    "• /ticket — a private conversation with the support team\n"
    "• /status — the status of your ticket\n"
    "• /language — English or 中文\n"
    "Anything about your own account is handled in a private thread, never in public. "
    "Staff will never ask for your password, 2FA codes or seed phrase.",
    "zh": "我是客服助手。可以私信我，或在客服频道中 @ 我。\n"
    "• /faq <问题> —— 从帮助文章中获取答案（输入时会有建议）\n"
    "• /ticket —— 与客服团队私下沟通\n"
    "• /status —— 查看工单状态\n"
    "• /language —— English 或 中文\n"
    "涉及您个人账户的问题会在私密讨论串中处理，绝不公开。客服绝不会索要您的密码、二次验证码或助记词。",
}


def notice(key: str, lang: str = "en", **values: object) -> str:
    """The notice ``key`` in ``lang`` (English if the language is unknown)."""
    return NOTICES.get(lang, NOTICES["en"])[key].format(**values)


def help_text(lang: str) -> str:
    """What ``/help`` answers."""
    return HELP.get(lang, HELP["en"])

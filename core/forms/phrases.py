"""What the customer says to steer a form (cancel, skip, human, yes, edit) and what the bot says."""

from __future__ import annotations

import re

from core.validation.textnorm import fold

# Button actions. HUMAN matches the FAQ engine's action so one button works everywhere.
HUMAN = "human"
CANCEL = "form:cancel"
SKIP = "form:skip"
CONFIRM = "form:yes"
EDIT = "form:edit"
EDIT_PREFIX = "form:edit:"
SET_PREFIX = "form:set:"

_END = r"[\s.!。！,，~]*$"
CANCEL_WORDS = re.compile(
    rf"(?i)^\s*(?:cancel|cancel (?:it|this|the form)|stop|never ?mind|forget it|quit|exit|取消|不用了|算了|退出|不办了){_END}"
)
HUMAN_WORDS = re.compile(
    r"(?i)\b(?:human|real person|live agent|an agent|support agent|operator|customer service)\b"
    r"|人工|真人|客服人员|转客服"
)
SKIP_WORDS = re.compile(
    rf"(?i)^\s*(?:skip|skip it|skip this|pass|next|n/?a|rather not say|跳过|下一个|不填|下一步){_END}"
)
YES_WORDS = re.compile(
    rf"(?i)^\s*(?:yes|y|yep|yeah|correct|right|ok|okay|confirm|that'?s (?:right|correct)|all good"
    rf"|是|是的|对|对的|正确|没错|确认|好的?|可以){_END}"
)
EDIT_WORDS = re.compile(
    r"(?i)^\s*(?:edit|change|no|nope|not (?:right|correct)|wrong|fix|修改|更改|改一下|不对|不正确|错了)(?![a-z])"
)
CORRECTION_CUE = re.compile(
    r"(?i)\b(?:actually|sorry|correction|i meant|i mean|not\b.*\bbut|instead|change|update|wrong|mistake"
    r"|should be|make it)\b|其实|不对|错了|选错|填错|写错|搞错|改成|改为|更正|修改|应该是"
)
# "change the amount to 60" / "金额改成60": the part after the cue is the new value.
NEW_VALUE = re.compile(
    r"(?i)(?:\bto\b|\bis\b|\bshould be\b|\bbe\b|改成|改为|应该是|换成|是|为|:|：)\s*(?P<value>.+)$"
)
ASKS = re.compile(r"[?？]\s*$|吗[?？。]?\s*$")
QUESTION_START = re.compile(
    r"(?i)^\s*(?:how|what|why|when|where|which|who|can|could|is|are|do|does|will|should|may|is there)\b"
    r"|^\s*(?:怎么|为什么|如何|什么|哪里|能不能|可不可以|是否|请问)"
)

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "got": "Got it: {items}.",
        "invalid": "{reason}",
        "ask_again": "{prompt}",
        "skipped": "OK, I'll leave that out.",
        "cannot_skip": "I need this one to help you, so it can't be skipped.",
        "cancelled": "OK, I've cancelled this request. Nothing was sent. Ask me anything else any time.",
        "escalated": "I'm passing this to a support agent with the details you've given so far. "
        "They will reply in this chat.",
        "expired": "This request timed out because it was idle for a while, so I've closed it. "
        "If you still need help, just tell me again and we'll start over.",
        "summary": "Here is what I have:\n{lines}\nIs this correct?",
        "not_given": "(not given)",
        "completed": "Thank you! I've passed your request to our team with these details. "
        "We'll get back to you in this chat.",
        "which_edit": "Which detail would you like to change?",
        "resume": "Back to your request.",
        "mismatch": "{reason}",
        "changed": "Updated {label}: {value}.",
        "button_skip": "Skip",
        "button_cancel": "Cancel",
        "button_human": "Talk to a human",
        "button_yes": "Yes, correct",
        "button_edit": "Edit",
    },
    "zh": {
        "got": "已记录：{items}。",
        "invalid": "{reason}",
        "ask_again": "{prompt}",
        "skipped": "好的，这项先不填。",
        "cannot_skip": "这项信息是处理您的问题所必需的，无法跳过。",
        "cancelled": "好的，已取消本次申请，没有提交任何信息。有其他问题随时问我。",
        "escalated": "我会把您目前提供的信息转交人工客服，他们会在此对话中回复您。",
        "expired": "由于长时间没有回复，本次申请已超时关闭。如仍需帮助，请再告诉我一次，我们重新开始。",
        "summary": "以下是我记录的信息：\n{lines}\n以上信息是否正确？",
        "not_given": "（未提供）",
        "completed": "谢谢！我已将您的申请和以上信息转交团队处理，我们会在此对话中回复您。",
        "which_edit": "您想修改哪一项？",
        "resume": "我们继续处理您的申请。",
        "mismatch": "{reason}",
        "changed": "已更新{label}：{value}。",
        "button_skip": "跳过",
        "button_cancel": "取消",
        "button_human": "转人工客服",
        "button_yes": "正确",
        "button_edit": "修改",
    },
}


def text(lang: str, key: str, **values: str) -> str:
    """Return the bot's text ``key`` in ``lang`` (English when the language is not supported)."""
    table = TEXTS["zh"] if lang.lower().startswith("zh") else TEXTS["en"]
    return table[key].format(**values) if values else table[key]


def norm(message: str) -> str:
    """Fold a message for matching (NFKC, trimmed)."""
    return fold(message).strip()


def is_question(message: str, *, strict: bool = False) -> bool:
    """Whether the message reads as a question rather than an answer.

    Args:
        message: The customer's message.
        strict: Count only messages that end as a question ("?", "吗"): used for free-text slots,
            where an answer may well start with "what" or "how".

    """
    clean = norm(message)
    if ASKS.search(clean):
        return True
    return not strict and bool(QUESTION_START.search(clean))

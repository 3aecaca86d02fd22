"""Recognise customers asking about (or reporting) "support" accounts that contacted them, and answer them.

Scammers impersonate exchange support: they reply to public complaints, DM the customer as "admin" or
"客服", and move the conversation to WhatsApp or WeChat. A customer who mentions such contact should be
told which accounts are really ours.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from core.safety.customer_warnings import language

_STAFF_EN = (
    r"(?:support|admin|administrator|moderator|\bmods?\b|staff|agent|customer\s*(?:service|care|support)"
    r"|help\s*desk|helpdesk|official|representative|\brep\b|team\s*member|someone\s+from\s+(?:the\s+)?team)"
)
_CONTACT_EN = (
    r"(?:dm'?e?d|dms|\bdm\b|pm'?e?d|\bpm\b|private(?:ly)?\s*messag\w*|direct\s*messag\w*|messaged|texted|"
    r"called|contacted|reached\s*out|wrote\s+to\s+me|added\s+me|add\s+me|followed\s+me|whatsapp|telegram"
    r"|signal|wechat|inbox)"
)
_HANDLE = r"@[A-Za-z0-9_.]{2,32}"
_GENUINE = r"(?:real|legit\w*|genuine|official|fake|scam\w*|authentic|trustworthy|really\s+(?:you|support))"

_PATTERNS = (
    # "an admin DMed me", "support contacted me on telegram", "a moderator asked me to DM"
    re.compile(rf"{_STAFF_EN}[^\n.?!]{{0,40}}?{_CONTACT_EN}", re.IGNORECASE),
    # "I got a DM from support", "someone messaged me claiming to be admin"
    re.compile(
        rf"{_CONTACT_EN}[^\n.?!]{{0,40}}?(?:from|claim\w*|pretend\w*|say\w*|as)\s+[^\n.?!]{{0,20}}?{_STAFF_EN}",
        re.IGNORECASE,
    ),
    # "is @xyz_support real?", "is this admin legit", "is this account really your support"
    re.compile(
        rf"(?:is|are)\s+(?:{_HANDLE}|(?:this|that|these|those|the|your|an?)\s+(?:[\w'-]+\s+){{0,3}}?"
        rf"(?:accounts?|{_STAFF_EN}|person|people|number|profile|user|channel|group|guy|email|message|dm)\b)"
        rf"[^\n?]{{0,40}}?{_GENUINE}",
        re.IGNORECASE,
    ),
    re.compile(rf"{_HANDLE}[^\n?]{{0,40}}?(?:{_GENUINE}|your\s+(?:support|team|admin))", re.IGNORECASE),
    re.compile(
        r"(?:asked|told|wants?)\s+me\s+to\s+(?:dm|pm|message|contact|text|add|whatsapp|telegram)",
        re.IGNORECASE,
    ),
    re.compile(
        r"(?:impersonat\w*|pretending\s+to\s+be|claim\w*\s+to\s+be)\s+[^\n.?!]{0,20}?"
        rf"(?:{_STAFF_EN}|you|your)",
        re.IGNORECASE,
    ),
    # 客服加我微信 / 官方私信我 / 管理员联系我
    re.compile(
        r"(?:客服|官方|管理员|管理員|工作人员|工作人員|技术支持|技術支持|专员|專員|群主)[^\n。？！]{0,12}?"
        r"(?:加我|加了我|私信|私聊|私訊|联系我|聯繫我|聯絡我|找我|打电话|打電話|给我打|給我打|发消息|發消息|微信|QQ|电报|電報"
        r"|telegram|whatsapp|让我转|讓我轉)",
        re.IGNORECASE,
    ),
    # 这个是官方的吗 / 是不是客服 / 是真的客服吗 / 冒充客服
    re.compile(
        r"(?:是不是|是否|是真的|真的是)[^\n。？！]{0,8}?(?:客服|官方|管理员|管理員|工作人员|工作人員)"
        r"|(?:客服|官方|管理员|管理員|工作人员|工作人員)[^\n。？！]{0,6}?(?:吗|嗎|真的假的|是真的|是假的|可信|靠谱|靠譜)"
        r"|(?:冒充|假冒|假的|骗子|騙子)[^\n。？！]{0,6}?(?:客服|官方|管理员|管理員)",
    ),
)


def mentions_support_contact(text: str) -> bool:
    """Whether the customer reports or asks about a "support"/"admin"/"客服"/"官方" account contacting them.

    Examples that match: "an admin DMed me", "is @xyz_support real?", "客服加我微信", "这个是官方的吗".
    """
    return any(pattern.search(text) for pattern in _PATTERNS)


def impersonation_warning(official_handles: Sequence[str], lang: str) -> str:
    """Return the warning about impersonators, naming only ``official_handles`` as genuine.

    Args:
        official_handles: The operator's real accounts (e.g. ``["@ExampleSupport"]``), in the order to
            list them. Blank entries and duplicates are dropped; nothing else is ever named.
        lang: The customer's language tag (en or zh; English for others).

    """
    handles = list(dict.fromkeys(handle.strip() for handle in official_handles if handle.strip()))
    if language(lang) == "zh":
        where = f"（官方账号仅限：{'、'.join(handles)}）" if handles else ""
        return (
            f"请注意：我们的客服只会在当前这个对话中与您联系{where}。"
            "我们绝不会主动私信您，不会要求您转到微信、QQ、WhatsApp 或 Telegram 等其他渠道沟通，"
            "绝不会索要您的密码、验证码、助记词或私钥，也绝不会让您转账来“验证”或“保护”账户。"
            "其他任何以我们名义联系您的账号都是冒充者：请不要回复、不要点击其链接，并请举报该账号。"
        )
    where = f", and from these official accounts only: {', '.join(handles)}" if handles else ""
    return (
        f"Please be careful: our support team only talks to you here, in this conversation{where}. "
        "We never message you first, never ask you to move the conversation to DMs, WhatsApp, Telegram or "
        "any other app, never ask for your password, verification codes, recovery phrase or private keys, "
        'and never ask you to send funds to "verify" or "protect" your account. Any other account using '
        "our name is an impersonator: don't reply, don't click its links, and report it."
    )

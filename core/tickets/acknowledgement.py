"""The automatic acknowledgement a customer gets when the bot opens a ticket for them.

It names the ticket number, says what happens next and when to expect an answer, and for
an urgent ticket (an account or funds at risk) lists the steps to take right now.
"""

from __future__ import annotations

from datetime import timedelta

_OPENED = {
    "en": "I've opened ticket {number} for you. An agent will review the details and reply here{wait}. "
    "You can ask for its status at any time.",
    "zh": "已为您创建工单 {number}。客服会查看这些信息并在此回复您{wait}。您可以随时询问工单进度。",
}
_ADDED = {
    "en": "I've added this to your open ticket {number}; the agent working on it will see it.",
    "zh": "已将这些信息补充到您的工单 {number}，处理该工单的客服会看到。",
}
_WAIT = {"en": ", usually within {time}", "zh": "，通常在{time}内"}
_URGENT = {
    "en": "This is marked URGENT. While you wait, protect your account now:\n"
    '1. Freeze your account (Security → Disable account, or reply "freeze").\n'
    "2. Change your password and your e-mail password.\n"
    "3. Revoke all API keys and reset 2FA.\n"
    "Never share your password, 2FA codes or seed phrase: our staff will never ask for them.",
    "zh": "此工单已标记为紧急。在等待期间，请立即保护您的账户：\n"
    "1. 在 App 或网站的安全中心冻结账户。\n"
    "2. 修改登录密码以及邮箱密码。\n"
    "3. 删除所有 API 密钥并重置二次验证。\n"
    "切勿向任何人提供密码、验证码或助记词：我们的工作人员绝不会索要。",
}


def acknowledgement(
    number: str, priority: str | None, lang: str, *, wait: timedelta | None = None, added: bool = False
) -> str:
    """The message that tells the customer their ticket exists.

    Args:
        number: The ticket's label, e.g. ``"HL-1001"``.
        priority: Its priority (``urgent`` adds the immediate self-help steps).
        lang: ``"en"`` or ``"zh"``.
        wait: The response target, said as "usually within ...".
        added: The request was added to an existing ticket rather than opening one.

    """
    language = "zh" if lang.lower().startswith("zh") else "en"
    if added:
        return _ADDED[language].format(number=number)
    text = _OPENED[language].format(number=number, wait=_wait(wait, language) if wait else "")
    if priority == "urgent":
        text = f"{text}\n\n{_URGENT[language]}"
    return text


def _wait(wait: timedelta, language: str) -> str:
    minutes = int(wait.total_seconds() // 60)
    if minutes < 120:
        time = f"{minutes} 分钟" if language == "zh" else f"{minutes} minutes"
    elif minutes < 48 * 60:
        hours = round(minutes / 60)
        time = f"{hours} 小时" if language == "zh" else f"{hours} hours"
    else:
        days = round(minutes / 1440)
        time = f"{days} 天" if language == "zh" else f"{days} days"
    return _WAIT[language].format(time=time)

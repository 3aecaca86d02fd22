"""A first engine: greets, acknowledges what it understood and offers a human.

It is the foundation's stand-in until the knowledge-base engine answers questions; it
speaks the customer's language (Chinese or English) and never pretends to know more
than it does.
"""

from __future__ import annotations

import re

from conversations.values import Button
from core.engine.base import Decision, Engine, Reply, Turn

HUMAN = "human"
MENU = "menu"
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_GREETING = re.compile(
    r"^\s*(hi|hello|hey|yo|good (morning|afternoon|evening)|你好|您好|嗨|哈喽|在吗)\b", re.I
)

TEXTS = {
    "en": {
        "welcome": "Hello! I'm the {brand} support assistant. Tell me what you need help with.",
        "understood": 'Thanks, I\'ve noted: "{excerpt}". A support agent will follow up here.',
        "human": "I've asked a support agent to join. They will reply in this chat.",
        "human_button": "Talk to a human",
        "empty": "I only understand text for now. Could you describe the problem in words?",
    },
    "zh": {
        "welcome": "您好！我是 {brand} 的客服助手，请告诉我您需要什么帮助。",
        "understood": "收到，我已记录：“{excerpt}”。客服人员会在这里跟进。",
        "human": "已为您通知人工客服，他们会在此对话中回复您。",
        "human_button": "转人工客服",
        "empty": "目前我只能理解文字，能用文字描述一下您的问题吗？",
    },
}


def guess_language(text: str, default: str = "en") -> str:
    """Chinese when the text has CJK characters, English when it has Latin letters."""
    if _CJK.search(text):
        return "zh"
    return "en" if re.search(r"[A-Za-z]", text) else default


class BasicEngine(Engine):
    """Greets, acknowledges, hands over to a human on request.

    Args:
        brand: The exchange's name, used in the greeting.
        default_language: Language used when a message gives no clue.

    """

    def __init__(self, brand: str, default_language: str = "en") -> None:
        self._brand = brand
        self._default = default_language

    async def respond(self, turn: Turn) -> Decision:
        """Answer one message without a knowledge base."""
        conversation = turn.conversation
        language = guess_language(turn.text, conversation.language or self._default)
        texts = TEXTS[language]
        human = Button(texts["human_button"], HUMAN)
        if turn.message.action == HUMAN or conversation.status == "human":
            if conversation.status == "human":
                return Decision(language=language)
            return Decision((Reply(texts["human"]),), language=language, status="human")
        if not turn.text.strip():
            return Decision((Reply(texts["empty"], (human,)),), language=language)
        if _GREETING.match(turn.text):
            return Decision((Reply(texts["welcome"].format(brand=self._brand), (human,)),), language=language)
        excerpt = " ".join(turn.text.split())[:120]
        return Decision((Reply(texts["understood"].format(excerpt=excerpt), (human,)),), language=language)

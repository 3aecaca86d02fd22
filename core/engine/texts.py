"""What the bot says, in English and Chinese."""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "welcome": (
            "Hello! I'm the {brand} support assistant. Ask me anything about your account, deposits, "
            "withdrawals or trading — or talk to a person."
        ),
        "suggest": "I'm not completely sure what you mean. Is it one of these?",
        "fallback": (
            "I'm not sure I understood. Could you describe it another way? You can also ask for a "
            "support agent."
        ),
        "human": "I've asked a support agent to join. They will reply in this chat.",
        "human_subject": "Customer asked for an agent",
        "human_button": "Talk to a human",
        "helpful_followup": "If this doesn't solve it, a support agent can take over.",
        "form_offer": "If it still isn't sorted, I can collect the details our team needs to check it for you.",
        "form_button": "Report it to support",
        "form_handed_over": "Thank you. Our support team has these details and will reply in this chat.",
        "language_set": "I'll answer in English from now on.",
        "language_button": "中文",
        "empty": "I can only read text for now. Could you describe the problem in words?",
        "go_private": (
            "This is a public channel, so I won't ask about your account here. Please send us a private "
            "message (DM) and we'll take it from there. Never post your UID, order or transaction ids, "
            "e-mail or addresses in public, and remember: our staff never ask for your password, 2FA "
            "codes or seed phrase."
        ),
    },
    "zh": {
        "welcome": (
            "您好！我是 {brand} 的客服助手。账户、充值、提现、交易的问题都可以问我，也可以转人工客服。"
        ),
        "suggest": "我不太确定您的意思，是以下哪个问题？",
        "fallback": "抱歉，我没有完全理解。能换个说法描述一下吗？您也可以转人工客服。",
        "human": "已为您通知人工客服，他们会在此对话中回复您。",
        "human_subject": "客户请求人工客服",
        "human_button": "转人工客服",
        "helpful_followup": "如果仍未解决，人工客服可以为您继续处理。",
        "form_offer": "如果问题仍未解决，我可以帮您收集核查所需的信息并提交给客服团队。",
        "form_button": "提交给客服",
        "form_handed_over": "谢谢！客服团队已收到这些信息，会在此对话中回复您。",
        "language_set": "好的，接下来我会用中文回复您。",
        "language_button": "English",
        "empty": "目前我只能理解文字，能用文字描述一下您的问题吗？",
        "go_private": (
            "这里是公开频道，我不会在这里询问您的账户信息。请私信（DM）我们，我们会继续为您处理。"
            "请勿在公开场合发布您的 UID、订单号、交易哈希、邮箱或地址；我们的工作人员绝不会索要您的密码、"
            "验证码或助记词。"
        ),
    },
}

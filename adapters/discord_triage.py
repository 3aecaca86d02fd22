"""Which public questions belong in a private ticket thread rather than in the channel.

A question in a support channel is answered in the channel unless it is about the
customer's own account or money: their deposit, withdrawal, order, balance, verification
or security ("my withdrawal is stuck", "我的充值没到账"), something gone wrong with it
(hacked, frozen, not received), or identifiers nobody should post publicly (transaction
hashes, addresses, order numbers, e-mail addresses). Those move to a private thread with
a ticket, which only the customer and the support role can read.
"""

from __future__ import annotations

import re

_OWN_THING = re.compile(
    r"\b(my|mine|our)\s+(\w+\s+){0,2}?"
    r"(account|deposits?|withdraw(al|als)?|orders?|funds?|balance|wallet|kyc|verification|2fa|"
    r"authenticator|password|ticket|transfers?|payments?|trades?|positions?|money|coins?|usdt|btc|eth|"
    r"address|api\s*keys?|p2p)\b",
    re.I,
)
_TROUBLE = re.compile(
    r"\b(hacked|stolen|compromised|frozen|locked|suspended|banned|disabled|"
    r"not\s+(received|credited|arrived|showing)|never\s+(arrived|received)|missing|lost\s+(access|my))\b",
    re.I,
)
_IDENTIFIERS = re.compile(
    r"\b(0x[0-9a-f]{40,64}|[0-9a-f]{64}|bc1[02-9ac-hj-np-z]{20,}|[13][a-km-zA-HJ-NP-Z1-9]{25,34}|"
    r"T[1-9A-HJ-NP-Za-km-z]{33})\b"
    r"|\b(txid|tx\s*hash|order\s*(id|no|number)|uid)\b"
    r"|[\w.+-]+@[\w-]+\.[\w.-]+",
    re.I,
)
_CHINESE = re.compile(
    r"我的?(账户|账号|帐户|帐号|充值|提现|提币|订单|资金|余额|钱包|认证|实名|密码|谷歌验证|转账|币)"
    r"|被盗|被黑|冻结|没到账|未到账|没收到|未收到|丢失|锁定|被封|交易哈希|订单号"
)


def is_account_specific(text: str) -> bool:
    """Whether ``text`` is about the customer's own account or funds (see the module docstring)."""
    return any(p.search(text) for p in (_OWN_THING, _TROUBLE, _IDENTIFIERS, _CHINESE))

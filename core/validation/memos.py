"""Memos and destination tags (XRP, TON) that exchanges need to credit a deposit."""

from __future__ import annotations

import re

from core.validation.catalog import AssetCatalog, MemoKind, MemoPolicy, Network
from core.validation.result import ValidationResult, accept, reject
from core.validation.textnorm import fold, strip_label

MEMO_LABELS = ("destination tag", "dest tag", "tag", "memo", "comment", "目标标签", "标签", "备注", "留言")
_NONE_GIVEN = re.compile(
    r"(?i)^(?:no|none|nope|n/?a|nothing|i forgot|forgot|没有|无|没填|忘了|忘记了?|没写)[.!。！]*$"
)
_MAX_TAG = 2**32 - 1


def validate_memo(text: str, network: str | Network, catalog: AssetCatalog) -> ValidationResult[str]:
    """Validate the memo / destination tag of a deposit on ``network``.

    Returns:
        The memo (digits for an XRP destination tag), or a reason: ``memo_not_used`` (the network has
        none), ``memo_missing`` (required but the customer has none), ``bad_character``, ``too_large`` or
        ``too_long``.

    """
    net = catalog.network(network)
    label = net.memo.label
    if net.memo.policy is MemoPolicy.NONE:
        return reject(
            "memo_not_used",
            f"{net.label} transfers do not use a memo or tag, so none is needed.",
            f"{net.label} 转账不使用备注或标签，无需填写。",
        )
    clean = strip_label(text, MEMO_LABELS).strip()
    if not clean or _NONE_GIVEN.match(clean):
        required = net.memo.policy is MemoPolicy.REQUIRED
        return reject(
            "memo_missing",
            f"A deposit on {net.label} needs the {label.en} that the deposit page showed"
            + (
                "; without it we cannot credit it automatically, but we can still trace it with the TXID."
                if required
                else "."
            ),
            f"{net.label} 充值需要填写充值页面显示的{label.zh}"
            + ("；缺少它无法自动入账，但我们仍可以通过交易哈希 (TXID) 查找。" if required else "。"),
        )
    if net.memo.kind is MemoKind.DIGITS:
        digits = fold(clean).replace(" ", "")
        bad = next((c for c in digits if not c.isdigit()), None)
        if bad is not None:
            return reject(
                "bad_character",
                f"The {label.en} is a number; yours contains “{bad}”.",
                f"{label.zh}是一串数字；您提供的包含“{bad}”。",
            )
        if int(digits) > _MAX_TAG:
            return reject(
                "too_large",
                f"The {label.en} is at most 4294967295; yours is larger, so a digit is probably extra.",
                f"{label.zh}最大为 4294967295；您提供的更大，可能多了一位数字。",
            )
        return accept(str(int(digits)))
    if len(clean) > net.memo.max_length:
        return reject(
            "too_long",
            f"The {label.en} is at most {net.memo.max_length} characters; yours has {len(clean)}.",
            f"{label.zh}最多 {net.memo.max_length} 个字符；您提供的有 {len(clean)} 个。",
        )
    return accept(clean)

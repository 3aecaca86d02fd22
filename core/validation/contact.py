"""E-mail addresses (syntax only: no DNS or deliverability check)."""

from __future__ import annotations

import email_validator

from core.validation.result import ValidationResult, accept, reject
from core.validation.textnorm import fold, strip_label

EMAIL_LABELS = ("e-mail", "email", "mail", "mailto", "邮箱地址", "电子邮箱", "邮箱", "邮件")


def validate_email(text: str) -> ValidationResult[str]:
    """Validate an e-mail address's syntax with ``email-validator`` (no network access).

    Returns:
        The normalised address (domain lower-cased, IDNA-normalised), or a reason: ``empty``,
        ``missing_at``, ``too_many_at``, ``contains_space``, ``missing_domain_dot`` or ``bad_email``.

    """
    clean = strip_label(text, EMAIL_LABELS).strip().strip("<>").rstrip("。.")
    clean = fold(clean)
    if not clean:
        return reject("empty", "Please send your e-mail address.", "请提供您的邮箱地址。")
    if "@" not in clean:
        return reject(
            "missing_at",
            "An e-mail address contains an @, like name@example.com; yours has none.",
            "邮箱地址中应包含 @，例如 name@example.com；您提供的没有 @。",
        )
    if clean.count("@") > 1:
        return reject(
            "too_many_at",
            "An e-mail address contains exactly one @; yours has several. Please send one address.",
            "邮箱地址中只能有一个 @；您提供的有多个。请只提供一个邮箱地址。",
        )
    if any(c.isspace() for c in clean):
        return reject(
            "contains_space",
            "An e-mail address has no spaces; please check yours.",
            "邮箱地址中不能有空格，请核对。",
        )
    domain = clean.rpartition("@")[2]
    if domain and "." not in domain:
        return reject(
            "missing_domain_dot",
            f"The part after @ should be a domain such as gmail.com; “{domain}” has no dot.",
            f"@ 后面应是域名，例如 gmail.com；“{domain}”中没有点号。",
        )
    try:
        info = email_validator.validate_email(clean, check_deliverability=False)
    except email_validator.EmailNotValidError as exc:
        return reject(
            "bad_email",
            f"That is not a valid e-mail address: {exc}",
            f"该邮箱地址格式不正确（{exc}）。请核对后重新输入，例如 name@example.com。",
        )
    return accept(info.normalized)

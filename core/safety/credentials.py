"""Detect passwords and one-time codes, which are only recognisable by what the customer says around them."""

from __future__ import annotations

import re

from core.safety.findings import Finding, SecretKind

MIN_PASSWORD = 3
_MARKER_PREFIX = "[REDACTED:"

# --- passwords -----------------------------------------------------------------------------------------

_EN_PASSWORD_LABEL = (
    r"(?<![A-Za-z0-9_])(?:pass(?:word|wd|code|phrase)?|pwd|pw|pin(?:\s*(?:code|number))?)(?![A-Za-z])"
)
# "password for my binance account is ...": one short qualifier between the label and the verb.
_QUALIFIER = r"(?:\s+(?:for|on|of|to)\s+(?:my\s+|the\s+)?[\w.@-]{1,40}(?:\s+account)?)?"
_QUOTED = r"\"[^\"\n]{1,64}\"|'[^'\n]{1,64}'|“[^”\n]{1,64}”|「[^」\n]{1,64}」"
_BARE = r"[^\s\u3400-\u9fff\"'“「][^\s\u3400-\u9fff]{0,63}"

# "password: X", "pw = X", "PIN - X"
_EN_PASSWORD_EXPLICIT = re.compile(
    rf"{_EN_PASSWORD_LABEL}\s*(?:[:：=]|\s-\s)\s*(?P<value>{_QUOTED}|{_BARE})",
    re.IGNORECASE,
)
# "my password is X", "password was: X"
_EN_PASSWORD_IS = re.compile(
    rf"{_EN_PASSWORD_LABEL}{_QUALIFIER}\s+(?:(?:is|was)(?:\s*[:：]\s*|\s+)|=\s*)(?P<value>{_QUOTED}|{_BARE})",
    re.IGNORECASE,
)
# "change my pin to 1234", "set the password to X" (only password-looking values: "password to log in")
_EN_PASSWORD_TO = re.compile(
    rf"{_EN_PASSWORD_LABEL}(?:\s+number)?\s+to(?:\s+be)?\s+(?P<value>{_QUOTED}|{_BARE})",
    re.IGNORECASE,
)
# "I don't know what my password is": the verb does not introduce a value.
_QUESTION_BEFORE = re.compile(
    r"(?:what|whatever|which|where|how|know|remember|recall|sure|forgot|forget)\s+(?:\w+\s+){0,3}$",
    re.IGNORECASE,
)

_ZH_PASSWORD = re.compile(
    r"(?<!动态)(?<!動態)(?<!短信)(?:密码|密碼|口令|PIN码|PIN碼)"
    r"\s*(?:是|为|為|:|：|=|就是|改成了?|改为|改為|设置为|設置為|设为|設為|设成|設成)?\s*"
    rf"(?P<value>{_QUOTED}|[!-~]{{{MIN_PASSWORD},64}})",
    re.IGNORECASE,
)

# Words that follow "password is" in a complaint, not a password ("my password is wrong").
_NOT_A_PASSWORD = frozenset(
    (
        "a", "about", "accepted", "actually", "already", "also", "always", "an", "and", "anymore",
        "apparently", "are", "asked", "at", "bad", "be", "because", "been", "being", "blank", "blocked",
        "but", "case", "changed", "compromised", "correct", "definitely", "denied", "different",
        "disabled", "done", "empty", "expired", "fine", "for", "forgotten", "from", "getting", "gone",
        "good", "hacked", "here", "hidden", "if", "in", "incorrect", "invalid", "is", "it", "just",
        "leaked", "less", "locked", "long", "lost", "mandatory", "missing", "more", "my", "needed",
        "never", "new", "no", "not", "nothing", "now", "of", "ok", "okay", "old", "on", "only",
        "optional", "or", "our", "over", "probably", "really", "rejected", "required", "reset", "right",
        "safe", "same", "saved", "secure", "sent", "set", "short", "shown", "so", "somehow", "something",
        "still", "stolen", "stored", "strong", "supposed", "temporary", "that", "the", "their", "there",
        "this", "to", "too", "unknown", "unlocked", "updated", "very", "visible", "weak", "what",
        "whatever", "when", "which", "working", "wrong", "your", "yours", "forgot", "forget", "change",
        "changing", "resetting", "update", "recover", "recovery", "help", "please", "number"
    )
)  # fmt: skip
_TRAILING_PUNCT = ".,;:!?)]}\"'”」。，；！？"
_PROSE_ENDINGS = ("ed", "ing", "ly")
_SENTENCE_END = re.compile(
    r"\s*(?:$|\n|[.,;!?。，；！？]|(?:and|but|so|please|pls|thanks|thank)\b)", re.IGNORECASE
)

# --- one-time codes ------------------------------------------------------------------------------------

_OTP_LABEL = (
    r"2\s*-?\s*fa|two[\s-]*factor|2[\s-]*factor|\b[th]?otp\b|mfa|2sv|one[\s-]*time\s*(?:pass(?:word|code)?|code|pin)"
    r"|(?:google\s*)?authenticator|google\s*auth|authy|\bga\b"
    r"|(?:sms|text|email|e-mail|verification|verify|security|auth|authentication|login|sign[\s-]*in|"
    r"withdrawal|withdraw)\s*code"
    r"|验证码|驗證碼|校验码|校驗碼|动态码|動態碼|动态密码|動態密碼|安全码|安全碼|谷歌验证|谷歌驗證"
    r"|谷歌码|谷歌碼|短信码|短信碼|认证码|認證碼|二次验证|二次驗證|双重验证|雙重驗證|两步验证|兩步驗證"
)
# What may sit between the label and the digits: "code is", "code I got was", "是", "：".
_OTP_LINK = (
    r"(?:[\s:：=\-,，'\"“”]|\b(?:code|codes|number|token|pin|is|was|are|it's|its|my|the|i|got|get|received"
    r"|receive|just|new|current|latest|now|from|app|here|says|shows|reads)\b|是|为|為|了|的|码|碼|号|號|收到|我|刚|剛)"
)
# Not a digit of a longer number, an amount ("1,234.56") or an alphanumeric id ("1234abcd").
_OTP_VALUE = r"(?<![\dA-Za-z])(?<!\d[.,])(?P<value>\d{3}[ \-]\d{3}|\d{4,8})(?![\dA-Za-z]|[.,]\d)"
_OTP_AFTER_LABEL = re.compile(
    rf"(?<![0-9A-Za-z])(?:{_OTP_LABEL}){_OTP_LINK}{{0,12}}?{_OTP_VALUE}", re.IGNORECASE
)
# "123456 is my 2fa code", "654321是验证码"
_OTP_BEFORE_LABEL = re.compile(
    rf"{_OTP_VALUE}\s*(?:is|was|=|是|为|為)\s*(?:my|the|我的)?\s*(?:{_OTP_LABEL})(?![A-Za-z])",
    re.IGNORECASE,
)


def find_passwords(text: str) -> list[Finding]:
    """Return the passwords the customer typed after a label ("password: X", "密码是X", "my pin is X")."""
    findings: list[Finding] = []
    for pattern in (_EN_PASSWORD_EXPLICIT, _EN_PASSWORD_IS, _EN_PASSWORD_TO):
        for match in pattern.finditer(text):
            if pattern is _EN_PASSWORD_IS and _QUESTION_BEFORE.search(
                text, max(0, match.start() - 60), match.start()
            ):
                continue
            span = _password_span(match, strict=pattern is _EN_PASSWORD_TO, prose=pattern is _EN_PASSWORD_IS)
            if span is not None:
                findings.append(Finding(SecretKind.PASSWORD, *span))
    for match in _ZH_PASSWORD.finditer(text):
        span = _password_span(match, strict=False, prose=False)
        if span is not None:
            findings.append(Finding(SecretKind.PASSWORD, *span))
    return findings


def _password_span(match: re.Match[str], *, strict: bool, prose: bool) -> tuple[int, int] | None:
    """Return the span of a password value, or ``None`` when the "value" is just the sentence going on.

    Args:
        match: A match with a ``value`` group.
        strict: Accept only password-shaped values (digits, symbols or mixed case).
        prose: The label was followed by "is"/"was": a plain word there is usually a complaint
            ("my password is expired") unless it ends the sentence.

    """
    value = match.group("value")
    start, end = match.span("value")
    if value.startswith(_MARKER_PREFIX):
        return None
    quoted = value[0] in "\"'“「" and len(value) > 2
    core = value[1:-1] if quoted else value.rstrip(_TRAILING_PUNCT)
    if not core or core.startswith(_MARKER_PREFIX):
        return None
    if not quoted:
        if len(core) < MIN_PASSWORD or core.lower() in _NOT_A_PASSWORD:
            return None
        if (strict or prose) and not looks_like_password(core) and not _ends_sentence(match, strict=strict):
            return None
    # Trailing punctuation stays inside the span: it may be part of the password ("hunter2!").
    return start, end


def _ends_sentence(match: re.Match[str], *, strict: bool) -> bool:
    """Whether a plain-word value ends its sentence: "is sunshine." does, "is entered wrong" does not."""
    if strict:
        return False
    word = match.group("value").rstrip(_TRAILING_PUNCT).lower()
    if word.endswith(_PROSE_ENDINGS):
        return False
    return (
        bool(_SENTENCE_END.match(match.string, match.end("value")))
        or match.group("value")[-1] in _TRAILING_PUNCT
    )


def looks_like_password(value: str) -> bool:
    """Whether ``value`` has the shape of a password rather than a word: a digit, a symbol or mixed case."""
    return (
        any(char.isdigit() for char in value)
        or any(not char.isalnum() for char in value)
        or (any(char.isupper() for char in value[1:]) and any(char.islower() for char in value))
    )


def find_otp_codes(text: str) -> list[Finding]:
    """Return the 2FA / SMS / email codes named as such ("2fa code 123456", "验证码 654321")."""
    findings: list[Finding] = []
    for pattern in (_OTP_AFTER_LABEL, _OTP_BEFORE_LABEL):
        for match in pattern.finditer(text):
            findings.append(Finding(SecretKind.OTP_CODE, *match.span("value")))
    return findings

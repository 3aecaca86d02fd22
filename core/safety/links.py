"""Keep the bot from lending its voice to a phishing link.

A bot reply can repeat customer text (a form's summary, an acknowledgement). A scammer who
writes "verify at https://acme-support.example-phish.top" would otherwise get the brand's own
assistant to post that link, clickable, into a chat or a public group. :func:`defang_links`
leaves links to the brand's allow-listed hosts (and their subdomains) alone and rewrites every
other one so that no client turns it into a link: ``https://evil.top/x`` → ``hxxps://evil[.]top/x``.
The customer still sees what they wrote; nobody can click it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from urllib.parse import urlsplit

# Schemes clients link, and bare host names with a top-level domain (Telegram, Discord and
# e-mail clients all link "evil.top/x" without a scheme). Labels are ASCII, Latin, Greek and
# Cyrillic letters (look-alike hosts included), digits and hyphens; a CJK character ends a
# host, as clients read "https://help.example.com查看" too. After "@" is an e-mail address.
_CHAR = "a-z0-9\u00c0-\u024f\u0370-\u03ff\u0400-\u04ff"
_LABEL = rf"[{_CHAR}](?:[{_CHAR}-]{{0,61}}[{_CHAR}])?"
_URL = re.compile(
    rf"(?<![@{_CHAR}.-])(?P<scheme>(?:https?|ftp)://(?:[^\s/@]{{0,64}}@)?|www\.)?"
    rf"(?P<host>(?:{_LABEL}\.)+(?:[a-z]{{2,24}}|xn--[a-z0-9-]+))(?![{_CHAR}-]|\.[{_CHAR}])"
    r"(?::\d{1,5})?(?P<rest>[/?#](?:[^\s<>\"']*[^\s<>\"'.,;:!?)])?)?",
    re.IGNORECASE,
)
_SCHEME_ONLY = re.compile(r"\b(https?|ftp)://", re.IGNORECASE)


def host_allowed(host: str, allow_list: Iterable[str]) -> bool:
    """Whether ``host`` is on the allow-list or a subdomain of an entry (letter case aside).

    The one allow-list test of every channel's link handling (X's public replies use it too).
    """
    host = host.lower()
    return any(host == entry.lower() or host.endswith("." + entry.lower()) for entry in allow_list)


def defang_links(text: str, allow_list: Sequence[str]) -> str:
    """``text`` with every link outside ``allow_list`` made unclickable; allowed links kept as they are."""

    def defang(match: re.Match[str]) -> str:
        whole = match.group(0)
        scheme = (match.group("scheme") or "").lower()
        host = (urlsplit(whole).hostname if scheme.endswith("://") else None) or match.group("host")
        if host_allowed(host.rstrip("."), allow_list):  # "example.com." is example.com
            return whole
        unlinked = _SCHEME_ONLY.sub(lambda m: re.sub("[tT]", "x", m.group(1)) + "://", whole)
        return unlinked.replace(".", "[.]")

    return _URL.sub(defang, text)

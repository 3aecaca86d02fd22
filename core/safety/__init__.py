"""Keep customers' secrets out of Helpline: redaction, customer warnings and impersonation checks.

Everything here is pure and channel-independent: call :func:`redact` on every inbound message before it
is stored, logged or shown, send :func:`warning_for` to the customer when something was removed, and
answer with :func:`impersonation_warning` when :func:`mentions_support_contact` is true.
"""

from core.safety.customer_warnings import warning_for
from core.safety.findings import Finding, Redaction, SecretKind, marker
from core.safety.impersonation import impersonation_warning, mentions_support_contact
from core.safety.redaction import ALLOW_TXID, redact

__all__ = [
    "ALLOW_TXID",
    "Finding",
    "Redaction",
    "SecretKind",
    "impersonation_warning",
    "marker",
    "mentions_support_contact",
    "redact",
    "warning_for",
]

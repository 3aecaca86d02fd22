"""Detail-collection forms: ask for the details a ticket needs, one message at a time.

Definitions live in ``config/forms.yaml``; :class:`FormRunner` is pure: it takes the stored state and
a message and returns replies, the new state and an :class:`Outcome`.
"""

from core.forms.loader import DEFAULT_FORMS_PATH, FormConfigError, load_forms, parse_forms
from core.forms.runner import FormRunner
from core.forms.spec import FormCatalog, FormSpec, SlotKind, SlotSpec
from core.forms.state import FormStep, Outcome

__all__ = [
    "DEFAULT_FORMS_PATH",
    "FormCatalog",
    "FormConfigError",
    "FormRunner",
    "FormSpec",
    "FormStep",
    "Outcome",
    "SlotKind",
    "SlotSpec",
    "load_forms",
    "parse_forms",
]

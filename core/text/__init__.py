"""Text utilities shared by the matcher: normalisation, language detection and segmentation."""

from core.text.courtesy import strip_courtesy
from core.text.language import detect_language, reply_language
from core.text.normalize import light_normalize, light_question, normalize, normalize_question, to_simplified
from core.text.segment import segment

__all__ = [
    "detect_language",
    "light_normalize",
    "light_question",
    "normalize",
    "normalize_question",
    "reply_language",
    "segment",
    "strip_courtesy",
    "to_simplified",
]

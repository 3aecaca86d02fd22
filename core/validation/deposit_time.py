"""When did the customer make the deposit? Parsing "yesterday 3pm", "2026-11-20 14:00", "今天下午3点"."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

import dateparser

from core.validation.result import ValidationResult, accept, reject
from core.validation.textnorm import fold
from core.validation.zh_time import (
    ZH_AGO,
    ZH_TIME,
    ParsedTime,
    TimeSyntaxError,
    has_content,
    parse_zh_ago,
    parse_zh_match,
)

logger = logging.getLogger(__name__)

DateOrder = Literal["DMY", "MDY"]

_MONTHS = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_DAY_CUE = re.compile(
    rf"(?i)\b(?:today|yesterday|tomorrow|tonight|last\s+night|this\s+(?:morning|afternoon|evening)|ago|now"
    rf"|(?:mon|tues|wednes|thurs|fri|satur|sun)day|\d{{4}}-\d{{1,2}}-\d{{1,2}}|\d{{1,2}}[/.]\d{{1,2}}[/.]\d{{2,4}}"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTHS}|{_MONTHS}\s+\d{{1,2}})\b"
)
_TIME_CUE = re.compile(
    r"(?i)\d{1,2}\s*[:h]\s*\d{2}|\b\d{1,2}\s*(?:am|pm|a\.m\.|p\.m\.|o'?clock)|\b(?:hours?|minutes?|mins?|an?\s+hour)\s+ago\b|\bnow\b"
)
_EN_TIME_WORDS = re.compile(r"(?i)\b(?:last\s+night|this\s+(?:morning|afternoon|evening)|tonight)\b")
_SLASH_DATE = re.compile(r"(\d{1,2})[/.](\d{1,2})[/.](\d{4})")
_FILLER = re.compile(
    r"(?i)^(?:at|on|around|about|approx\.?|approximately|roughly|~|大概|大约|约)\s*|\s*(?:左右|前后|的时候|那会儿?|或者?更早)$"
)
_EN_FILLER = re.compile(r"(?i)\b(?:around|about|approximately|approx\.?|roughly|at)\b")
_CJK = re.compile(r"[\u3400-\u9fff]")
# The commonest answers ("yesterday 3pm", "today at 14:30", "3:15 pm"), read directly: dateparser
# takes about a millisecond for each and gives the same result (tests/validation/test_deposit_time.py).
_EN_SIMPLE = re.compile(
    r"(?i)(?:(?P<day>today|yesterday)\s+(?:at\s+)?)?"
    r"(?P<h>\d{1,2})(?::(?P<m>\d{2}))?\s*(?P<ap>[ap])?(?(ap)\.?m\.?|)"
    r"(?:\s+(?P<after>today|yesterday))?"
)


@dataclass(frozen=True, slots=True)
class DepositTime:
    """The moment of a deposit as the customer told it.

    Attributes:
        moment: Timezone-aware, in the time zone of the ``now`` passed to the validator.
        has_time: ``False`` when only the day is known (``moment`` is then that day's midnight).

    """

    moment: datetime
    has_time: bool


def validate_deposit_time(
    text: str,
    now: datetime,
    *,
    date_order: DateOrder | None = None,
    max_age: timedelta | None = None,
    future_tolerance: timedelta = timedelta(minutes=5),
) -> ValidationResult[DepositTime]:
    """Parse when a deposit happened, in English or Chinese, and refuse times in the future.

    Args:
        text: The customer's answer ("yesterday 3pm", "2026-11-20 14:00", "今天下午3点", "2小时前").
        now: The current time, timezone-aware, in the customer's time zone: relative expressions are
            resolved against it and a naive answer is read as wall-clock time there.
        date_order: How to read 03/04/2026; ``None`` asks the customer when both readings are possible.
        max_age: Reject moments older than this (``None`` accepts any past date).
        future_tolerance: Clock skew allowed before a time counts as "in the future".

    Returns:
        A :class:`DepositTime`, or a reason: ``empty``, ``not_a_time``, ``bad_date``, ``ambiguous_date``,
        ``in_future`` or ``too_old``.

    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    clean = _FILLER.sub("", fold(text).strip()).strip()
    if not clean:
        return reject("empty", "When did you make the deposit?", "您是什么时候充值的？")
    try:
        parsed = parse_time_text(clean, now, date_order, slack=future_tolerance)
    except TimeSyntaxError:
        return reject(
            "bad_date",
            f"“{clean}” is not a real date or time. Please check it, for example 2026-11-20 14:00.",
            f"“{clean}”不是有效的日期或时间，请核对，例如 2026-11-20 14:00。",
        )
    except _AmbiguousDate as exc:
        return reject(
            "ambiguous_date",
            f"“{exc.text}” could mean {exc.first} or {exc.second}. Please write the date as year-month-day, "
            "for example 2026-11-20.",
            f"“{exc.text}”可能是 {exc.first}，也可能是 {exc.second}。请按“年-月-日”格式填写，例如 "
            "2026-11-20。",
        )
    if parsed is None:
        return reject(
            "not_a_time",
            "I could not understand that as a date and time. Please write it like “yesterday 3pm” or "
            "“2026-11-20 14:00”.",
            "无法识别该日期和时间。请按“昨天下午3点”或“2026-11-20 14:00”这样的格式填写。",
        )
    return _check_range(parsed, now, max_age, future_tolerance)


def parse_time_text(
    text: str, now: datetime, date_order: DateOrder | None = None, *, slack: timedelta = timedelta(0)
) -> ParsedTime | None:
    """Parse a time expression into naive wall-clock time of ``now``'s zone; ``None`` if it is not one.

    Raises:
        TimeSyntaxError: The expression names a date or time that does not exist.
        _AmbiguousDate: A numeric date reads differently day-first and month-first.

    """
    local_now = now.replace(tzinfo=None)
    ago = ZH_AGO.fullmatch(text)
    if ago:
        return parse_zh_ago(ago, local_now)
    match = ZH_TIME.fullmatch(text)
    if match and has_content(match) and (_CJK.search(text) or match.group("y") or match.group("hh")):
        return parse_zh_match(match, local_now, slack)
    if _CJK.search(text):
        return None
    return _parse_english(text, now, date_order, slack)


class _AmbiguousDate(ValueError):
    def __init__(self, text: str, first: str, second: str) -> None:
        super().__init__(text)
        self.text, self.first, self.second = text, first, second


def _parse_english(
    text: str, now: datetime, date_order: DateOrder | None, slack: timedelta
) -> ParsedTime | None:
    return _parse_simple_english(text, now, slack) or _parse_with_dateparser(text, now, date_order, slack)


def _parse_simple_english(text: str, now: datetime, slack: timedelta) -> ParsedTime | None:
    """A clock time, with or without "today" / "yesterday"; ``None`` for anything else."""
    match = _EN_SIMPLE.fullmatch(text.strip())
    if match is None or (match["day"] and match["after"]):
        return None
    hour, minute = int(match["h"]), int(match["m"] or 0)
    if match["ap"]:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if match["ap"].lower() == "p" else 0)
    elif match["m"] is None or hour > 23:  # a bare number is not a time
        return None
    if minute > 59:
        return None
    local_now = now.replace(tzinfo=None)
    moment = local_now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    day = (match["day"] or match["after"] or "").lower()
    if day == "yesterday":
        moment -= timedelta(days=1)
    elif not day and moment > local_now + slack:
        moment -= timedelta(days=1)  # a bare clock time means its most recent occurrence
    return ParsedTime(moment, has_time=True)


def _parse_with_dateparser(
    text: str, now: datetime, date_order: DateOrder | None, slack: timedelta
) -> ParsedTime | None:
    has_day = bool(_DAY_CUE.search(text))
    has_time = bool(_TIME_CUE.search(text) or _EN_TIME_WORDS.search(text))
    if not (has_day or has_time):
        return None
    order = date_order or "DMY"
    slash = _SLASH_DATE.search(text)
    if slash:
        first, second = int(slash.group(1)), int(slash.group(2))
        if first > 12 or second > 12 or first == second:
            order = "DMY" if first > 12 else "MDY" if second > 12 else order
        elif date_order is None:
            year = slash.group(3)
            raise _AmbiguousDate(
                slash.group(0), f"{year}-{second:02d}-{first:02d}", f"{year}-{first:02d}-{second:02d}"
            )
    offset = now.utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds()) // 60
    zone = f"{'+' if minutes >= 0 else '-'}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"
    settings = {
        "RELATIVE_BASE": now.replace(tzinfo=None),
        "PREFER_DATES_FROM": "past",
        "DATE_ORDER": order,
        "TIMEZONE": zone,
        "TO_TIMEZONE": zone,
        "RETURN_AS_TIMEZONE_AWARE": False,
        "PREFER_DAY_OF_MONTH": "first",
    }
    text = " ".join(_EN_FILLER.sub(" ", text).split())
    result = dateparser.parse(text, languages=["en"], settings=settings)
    if result is None:
        logger.debug("dateparser could not read %r", text)
        return None
    if not has_day and result > now.replace(tzinfo=None) + slack:
        # A bare clock time ("3pm") means its most recent occurrence.
        result -= timedelta(days=1)
    if not has_time:
        result = result.replace(hour=0, minute=0, second=0, microsecond=0)
    return ParsedTime(result, has_time=has_time)


def _check_range(
    parsed: ParsedTime, now: datetime, max_age: timedelta | None, tolerance: timedelta
) -> ValidationResult[DepositTime]:
    moment = parsed.moment.replace(tzinfo=now.tzinfo)
    shown = moment.strftime("%Y-%m-%d %H:%M") if parsed.has_time else moment.strftime("%Y-%m-%d")
    in_future = moment > now + tolerance if parsed.has_time else moment.date() > now.date()
    if in_future:
        current = now.strftime("%Y-%m-%d %H:%M")
        return reject(
            "in_future",
            f"That would be {shown}, which is in the future (it is now {current}). When did you "
            "actually send "
            "the deposit? For example “yesterday 3pm”.",
            f"这对应 {shown}，是未来的时间（现在是 {current}）。请告诉我实际充值的时间，例如“昨天下午3点”。",
        )
    if max_age is not None and moment < now - max_age:
        return reject(
            "too_old",
            f"That would be {shown}, more than {max_age.days} days ago. Please check the date of the "
            "deposit.",
            f"这对应 {shown}，已超过 {max_age.days} 天。请核对充值日期。",
        )
    return accept(DepositTime(moment=moment, has_time=parsed.has_time))

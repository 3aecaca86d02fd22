"""A small parser for the Chinese ways customers say when they made a deposit.

dateparser (used for English) does not understand 下午/晚上 or Chinese numerals for hours, so
"昨天下午三点半" and "今天下午3点" are handled here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

_CN_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_NUM = r"[\d零〇一二两三四五六七八九十]{1,3}"

ZH_TIME = re.compile(
    r"(?:(?P<y>\d{4})\s*[年/\-.]\s*(?P<m>\d{1,2})\s*[月/\-.]\s*(?P<d>\d{1,2})\s*[日号]?"
    r"|(?P<m2>\d{1,2})\s*月\s*(?P<d2>\d{1,2})\s*[日号]"
    r"|(?P<rel>大前天|前天|昨天|昨日|昨晚|今天|今日|今早|今晚|明天|明日|明早|明晚)"
    rf"|(?P<ndays>{_NUM})\s*天前)?"
    r"\s*(?P<period>凌晨|清晨|早上|早晨|上午|中午|午后|下午|傍晚|晚上|夜里|夜间|半夜)?\s*"
    rf"(?:(?P<h>{_NUM})\s*[点點时時](?:\s*(?P<half>半)|\s*(?P<quarter>[一三])刻|(?P<mi>{_NUM})\s*分?)?"
    r"|(?P<hh>\d{1,2})\s*:\s*(?P<mm>\d{2}))?"
)
ZH_AGO = re.compile(rf"(?P<n>{_NUM}|半)\s*个?\s*(?P<unit>小时|钟头|分钟|分|天)(?:之)?前|(?P<now>刚刚|刚才)")

_REL_DAYS = {
    "大前天": -3,
    "前天": -2,
    "昨天": -1,
    "昨日": -1,
    "昨晚": -1,
    "今天": 0,
    "今日": 0,
    "今早": 0,
    "今晚": 0,
    "明天": 1,
    "明日": 1,
    "明早": 1,
    "明晚": 1,
}
_PM_PERIODS = frozenset({"午后", "下午", "傍晚", "晚上", "夜里", "夜间", "昨晚", "今晚", "明晚"})


@dataclass(frozen=True, slots=True)
class ParsedTime:
    """A parsed moment (naive, in the customer's wall-clock time) and whether it includes a time."""

    moment: datetime
    has_time: bool


class TimeSyntaxError(ValueError):
    """The text names an impossible date or time (Feb 30th, 25 o'clock)."""


def cn_number(text: str) -> int:
    """Convert "3", "十五", "二十三", "两" to an int (up to 99)."""
    if text.isdigit():
        return int(text)
    if "十" in text:
        tens, _, units = text.partition("十")
        return (_CN_DIGITS[tens] if tens else 1) * 10 + (_CN_DIGITS[units] if units else 0)
    value = 0
    for char in text:
        value = value * 10 + _CN_DIGITS[char]
    return value


def has_content(match: re.Match[str]) -> bool:
    """Whether a :data:`ZH_TIME` match names a day or a clock time (not just "下午")."""
    return any(match.group(g) for g in ("m", "m2", "rel", "ndays", "h", "hh"))


def parse_zh_match(match: re.Match[str], now: datetime, slack: timedelta = timedelta(0)) -> ParsedTime:
    """Turn a :data:`ZH_TIME` match into a moment relative to ``now`` (naive wall-clock time).

    A bare clock time up to ``slack`` after ``now`` still counts as today (clocks differ a little).

    Raises:
        TimeSyntaxError: The date or time does not exist.

    """
    day, explicit_day = _day(match, now)
    hour, minute = _clock(match)
    if hour is None:
        return ParsedTime(datetime.combine(day, datetime.min.time()), has_time=False)
    period = match.group("period") or (match.group("rel") if match.group("rel") in _PM_PERIODS else None)
    candidates = _hours(hour, period)
    moments = [
        datetime.combine(day, datetime.min.time()) + timedelta(hours=h, minutes=minute) for h in candidates
    ]
    past = [m for m in moments if m <= now + slack]
    if past:
        return ParsedTime(max(past), has_time=True)
    if not explicit_day:
        # A bare clock time ("下午3点") means its most recent occurrence.
        return ParsedTime(max(moments) - timedelta(days=1), has_time=True)
    return ParsedTime(min(moments), has_time=True)


def parse_zh_ago(match: re.Match[str], now: datetime) -> ParsedTime:
    """Turn a :data:`ZH_AGO` match ("两小时前", "刚才") into a moment."""
    if match.group("now"):
        return ParsedTime(now, has_time=True)
    amount = 0.5 if match.group("n") == "半" else float(cn_number(match.group("n")))
    unit = match.group("unit")
    if unit == "天":
        day = (now - timedelta(days=amount)).date()
        return ParsedTime(datetime.combine(day, datetime.min.time()), has_time=False)
    delta = timedelta(hours=amount) if unit in ("小时", "钟头") else timedelta(minutes=amount)
    return ParsedTime(now - delta, has_time=True)


def _day(match: re.Match[str], now: datetime) -> tuple[date, bool]:
    if match.group("m") or match.group("m2"):
        month = int(match.group("m") or match.group("m2"))
        day_of_month = int(match.group("d") or match.group("d2"))
        year = int(match.group("y")) if match.group("y") else now.year
        try:
            found = date(year, month, day_of_month)
        except ValueError as exc:
            raise TimeSyntaxError(f"{match.group(0)!r} is not a date") from exc
        if not match.group("y") and found > now.date():
            found = found.replace(year=year - 1)
        return found, True
    if match.group("rel"):
        return now.date() + timedelta(days=_REL_DAYS[match.group("rel")]), True
    if match.group("ndays"):
        return now.date() - timedelta(days=cn_number(match.group("ndays"))), True
    return now.date(), False


def _clock(match: re.Match[str]) -> tuple[int | None, int]:
    if match.group("hh"):
        hour, minute = int(match.group("hh")), int(match.group("mm"))
    elif match.group("h"):
        hour = cn_number(match.group("h"))
        if match.group("half"):
            minute = 30
        elif match.group("quarter"):
            minute = 15 * cn_number(match.group("quarter"))
        else:
            minute = cn_number(match.group("mi")) if match.group("mi") else 0
    else:
        return None, 0
    if hour > 24 or minute > 59 or (hour == 24 and minute):
        raise TimeSyntaxError(f"{match.group(0)!r} is not a time of day")
    return hour, minute


def _hours(hour: int, period: str | None) -> list[int]:
    """Possible 24-hour values for a spoken hour; 24 means midnight at the end of the day."""
    if period in _PM_PERIODS:
        if hour == 12 and period in ("晚上", "夜里", "夜间", "今晚", "昨晚", "明晚"):
            return [24]
        return [hour + 12 if hour < 12 else hour]
    if period == "中午":
        return [hour + 12 if hour < 11 else hour]
    if period in ("凌晨", "半夜") and hour == 12:
        return [0]
    if period is not None or hour == 0 or hour > 12:
        return [hour]
    return [hour, hour + 12] if hour < 12 else [12]

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from core.validation import validate_deposit_time
from core.validation.deposit_time import _parse_simple_english, _parse_with_dateparser
from tests.validation.conftest import SHANGHAI


def at(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("yesterday 3pm", at(20, 15)),
        ("yesterday at 3:30 pm", at(20, 15, 30)),
        ("yesterday around 3pm", at(20, 15)),
        ("2026-11-20 14:00", at(20, 14)),
        ("20 Nov 2026 14:00", at(20, 14)),
        ("Nov 20, 2:15pm", at(20, 14, 15)),
        ("2 hours ago", at(21, 8)),
        ("3pm", at(20, 15)),  # a bare clock time is its most recent occurrence
        ("at 14:00", at(20, 14)),
        ("today 9am", at(21, 9)),
        ("2026-11-20T14:00:00Z", at(20, 22)),  # explicit UTC converted to the customer's zone
        ("昨天下午3点", at(20, 15)),
        ("昨天下午三点半", at(20, 15, 30)),
        ("昨天 15:00", at(20, 15)),
        ("昨晚8点", at(20, 20)),
        ("下午3点", at(20, 15)),
        ("今天上午九点十五分", at(21, 9, 15)),
        ("11月20日 14:00", at(20, 14)),
        ("2026年11月20日下午2点", at(20, 14)),
        ("两小时前", at(21, 8)),
        ("半小时前", at(21, 9, 30)),
        ("凌晨2点", at(21, 2)),
        ("中午12点", at(20, 12)),
        ("大概昨天下午3点左右", at(20, 15)),
        ("１５：００", at(20, 15)),
    ],
)
def test_times_are_parsed(now: datetime, text: str, expected: datetime) -> None:
    result = validate_deposit_time(text, now)
    assert result.ok, result.reason
    assert result.value is not None
    assert result.value.moment == expected
    assert result.value.has_time


@pytest.mark.parametrize(
    ("text", "day"),
    [("前天", 19), ("3天前", 18), ("monday", 16), ("2026-11-20", 20), ("13/04/2026", None)],
)
def test_day_only_answers_have_no_time(now: datetime, text: str, day: int | None) -> None:
    result = validate_deposit_time(text, now)
    assert result.ok and result.value is not None
    assert not result.value.has_time
    if day is not None:
        assert result.value.moment == at(day, 0)
    else:
        assert result.value.moment == at(13, 0, month=4)


@pytest.mark.parametrize("text", ["今天下午3点", "tomorrow", "明天下午3点", "2026-11-22 08:00", "今晚12点"])
def test_future_times_are_refused(now: datetime, text: str) -> None:
    result = validate_deposit_time(text, now)
    assert result.reason_code == "in_future"
    assert result.reason is not None
    assert "future" in result.reason.en and "2026-11-21 10:00" in result.reason.en
    assert "未来" in result.reason.zh


def test_today_3pm_in_chinese_names_the_moment(now: datetime) -> None:
    result = validate_deposit_time("今天下午3点", now)
    assert result.reason is not None
    assert "2026-11-21 15:00" in result.reason.en


def test_small_clock_skew_is_tolerated(now: datetime) -> None:
    within = validate_deposit_time("10:03", now)
    assert within.value is not None and within.value.moment == at(21, 10, 3)
    # Without tolerance a bare "10:03" is its most recent occurrence as 10:03 or 22:03: yesterday 22:03.
    strict = validate_deposit_time("10:03", now, future_tolerance=timedelta(0))
    assert strict.value is not None and strict.value.moment == at(20, 22, 3)
    am = validate_deposit_time("10:03am", now, future_tolerance=timedelta(0))
    assert am.value is not None and am.value.moment == at(20, 10, 3)


def test_ambiguous_numeric_date_asks_for_iso(now: datetime) -> None:
    result = validate_deposit_time("03/04/2026", now)
    assert result.reason_code == "ambiguous_date"
    assert result.reason is not None
    assert "2026-04-03" in result.reason.en and "2026-03-04" in result.reason.en


def test_date_order_can_be_configured(now: datetime) -> None:
    day_first = validate_deposit_time("03/04/2026", now, date_order="DMY")
    month_first = validate_deposit_time("03/04/2026", now, date_order="MDY")
    assert day_first.value is not None and day_first.value.moment.month == 4
    assert month_first.value is not None and month_first.value.moment.month == 3


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("50", "not_a_time"),
        ("banana", "not_a_time"),
        ("", "empty"),
        ("2026-02-30 10:00", "bad_date"),
        ("25点", "bad_date"),
        ("随便", "not_a_time"),
    ],
)
def test_rejections(now: datetime, text: str, code: str) -> None:
    assert validate_deposit_time(text, now).reason_code == code


def test_max_age(now: datetime) -> None:
    result = validate_deposit_time("2016-11-20 14:00", now, max_age=timedelta(days=365))
    assert result.reason_code == "too_old"
    assert validate_deposit_time("2016-11-20 14:00", now).ok


def test_other_time_zones(now: datetime) -> None:
    new_york = now.astimezone(timezone(timedelta(hours=-5)))  # 2026-11-20 21:00 there
    result = validate_deposit_time("today 3pm", new_york)
    assert result.value is not None
    assert result.value.moment == datetime(2026, 11, 20, 15, tzinfo=new_york.tzinfo)


def test_naive_now_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        validate_deposit_time("yesterday", datetime(2026, 11, 21, 10))


@pytest.mark.parametrize("hour", [0, 1, 9, 12, 15, 23])
def test_the_direct_reading_of_clock_times_agrees_with_dateparser(hour: int) -> None:
    # The commonest answers skip dateparser (a millisecond each): same moment, or left to it.
    now = datetime(2026, 11, 21, hour, 40, tzinfo=SHANGHAI)
    slack = timedelta(minutes=10)
    times = ["3pm", "3 pm", "3 PM", "3:15pm", "3:15 p.m.", "11am", "12am", "12pm", "12:30 am", "00:05"]
    times += ["14:00", "23:59", "9:07", "0:45", "11:50 am", "11:45"]
    read = 0
    for day in ("", "today ", "yesterday ", "yesterday at ", "today at ", "Yesterday "):
        for clock in times:
            text = f"{day}{clock}"
            direct = _parse_simple_english(text, now, slack)
            assert direct is not None, text
            assert direct == _parse_with_dateparser(text, now, None, slack), text
            read += 1
    for clock in ("3pm", "14:00"):
        for after in ("yesterday", "today"):
            text = f"{clock} {after}"
            assert _parse_simple_english(text, now, slack) == _parse_with_dateparser(text, now, None, slack)
    assert read == 96
    # Not clock times, or not only: dateparser's to read (or to refuse).
    for text in ("15", "25:00", "13pm", "0am", "3:75", "yesterday 3pm today", "3pm tomorrow", "tonight 9pm"):
        assert _parse_simple_english(text, now, slack) is None, text

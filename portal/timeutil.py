"""Time helpers: store UTC, show Japan time and 和暦; 年度 and "12 months".

Every feature takes these from here rather than writing its own:

* ``to_jst`` / ``jst_to_utc`` / ``jst_midnight_utc``: stored values are naive
  UTC (SQLite keeps no zone); days are Japanese calendar days.
* ``fiscal_year_start``: 1 April of the 年度 (April to March) a day falls in.
* ``twelve_months_ago``: the calendar reading of "12 months" — the same day a
  year earlier (29 February → 28 February). "Within 12 months" of ``today``
  is after that day, up to today: 365 days with today, 366 when the window
  holds a 29 February.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import NamedTuple, TypeVar
from zoneinfo import ZoneInfo

JST = ZoneInfo("Asia/Tokyo")



class Era(NamedTuple):
    start: date
    name: str
    letter: str  # its initial, as dates are abbreviated (R8.4.1)


# Newest first; 和暦 is written and read (e.g. the roster import) from this one list.
ERAS = (
    Era(date(2019, 5, 1), "令和", "R"),
    Era(date(1989, 1, 8), "平成", "H"),
    Era(date(1926, 12, 25), "昭和", "S"),
)


def utcnow() -> datetime:
    """Naive UTC, as stored in the database (SQLite keeps no zone)."""
    return datetime.now(UTC).replace(tzinfo=None)


def to_jst(value: datetime) -> datetime:
    """An aware datetime in Japan time; a naive value is UTC, as stored."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(JST)


def jst_to_utc(local: datetime) -> datetime:
    """Naive UTC, as stored; a naive value is JST wall-clock time (Japan has no daylight saving time)."""
    if local.tzinfo is None:
        local = local.replace(tzinfo=JST)
    return local.astimezone(UTC).replace(tzinfo=None)


def jst_midnight_utc(day: date) -> datetime:
    """The start of a Japanese calendar day as naive UTC (15:00 UTC the day before)."""
    return jst_to_utc(datetime.combine(day, time()))


_D = TypeVar("_D", date, datetime)


def add_years(value: _D, years: int) -> _D:
    """The same day (and time) ``years`` later, or earlier when negative; 29 February becomes 28 February."""
    try:
        return value.replace(year=value.year + years)
    except ValueError:  # 29 February
        return value.replace(year=value.year + years, day=28)


def twelve_months_ago(today: date) -> date:
    """What staff read as 「12か月」: the same day a year earlier; after it is "within 12 months"."""
    return add_years(today, -1)


def fiscal_year(value: date) -> int:
    """The 年度 (April to March) as the year it starts in: 31 March 2027 is in 2026.

    A datetime counts by its day in Japan: 2027-03-31 15:00 UTC is already 1 April.
    """
    if isinstance(value, datetime):
        value = to_jst(value).date()
    return value.year if value.month >= 4 else value.year - 1


def fiscal_year_start(value: date) -> date:
    """1 April of the 年度 ``value`` falls in (the day staff move, 人事異動)."""
    return date(fiscal_year(value), 4, 1)


def wareki(value: date) -> str:
    """令和8年11月24日; the first year is written 元年 as staff expect."""
    if isinstance(value, datetime):
        value = to_jst(value).date()
    for era in ERAS:
        if value >= era.start:
            year = value.year - era.start.year + 1
            year_text = "元" if year == 1 else str(year)
            return f"{era.name}{year_text}年{value.month}月{value.day}日"
    return f"{value.year}年{value.month}月{value.day}日"


def fiscal_year_label(value: date) -> str:
    """年度 (April to March), e.g. 令和8年度.

    The era is the one in force on 31 December of the fiscal year, which gives
    the names offices use: 令和元年度 for FY2019, 昭和63年度 for FY1988.
    """
    fy = fiscal_year(value)
    for era in ERAS:
        if date(fy, 12, 31) >= era.start:
            year = fy - era.start.year + 1
            return f"{era.name}{'元' if year == 1 else year}年度"
    return f"{fy}年度"


def format_datetime_jst(value: datetime) -> str:
    local = to_jst(value)
    return f"{wareki(local.date())} {local:%H:%M}"


def today_jst() -> date:
    """Today's date in Japan, whatever the server's time zone."""
    return datetime.now(JST).date()

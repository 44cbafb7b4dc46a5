"""Time helpers: store UTC, show Japan time and 和暦."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

JST = ZoneInfo("Asia/Tokyo")

# (start date, era name) newest first.
_ERAS = (
    (date(2019, 5, 1), "令和"),
    (date(1989, 1, 8), "平成"),
    (date(1926, 12, 25), "昭和"),
)


def utcnow() -> datetime:
    """Naive UTC, as stored in the database (SQLite keeps no zone)."""
    return datetime.now(UTC).replace(tzinfo=None)


def to_jst(value: datetime) -> datetime:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(JST)


def wareki(value: date) -> str:
    """令和8年11月24日; the first year is written 元年 as staff expect."""
    if isinstance(value, datetime):
        value = to_jst(value).date()
    for start, era in _ERAS:
        if value >= start:
            year = value.year - start.year + 1
            year_text = "元" if year == 1 else str(year)
            return f"{era}{year_text}年{value.month}月{value.day}日"
    return f"{value.year}年{value.month}月{value.day}日"


def fiscal_year_label(value: date) -> str:
    """年度 (April to March), e.g. 令和8年度.

    The era is the one in force on 31 December of the fiscal year, which gives
    the names offices use: 令和元年度 for FY2019, 昭和63年度 for FY1988.
    """
    fy = value.year if value.month >= 4 else value.year - 1
    for start, era in _ERAS:
        if date(fy, 12, 31) >= start:
            year = fy - start.year + 1
            return f"{era}{'元' if year == 1 else year}年度"
    return f"{fy}年度"


def format_datetime_jst(value: datetime) -> str:
    local = to_jst(value)
    return f"{wareki(local.date())} {local:%H:%M}"


def today_jst() -> date:
    """Today's date in Japan, whatever the server's time zone."""
    return datetime.now(JST).date()

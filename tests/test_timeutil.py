from datetime import UTC, date, datetime, timedelta

import pytest

from portal.timeutil import (
    JST,
    add_years,
    fiscal_year,
    fiscal_year_label,
    fiscal_year_start,
    format_datetime_jst,
    jst_midnight_utc,
    jst_to_utc,
    to_jst,
    twelve_months_ago,
    wareki,
)
from tenants.handovers import daily, metrics
from tenants.members.freshness import Freshness, freshness


@pytest.mark.parametrize(
    "value,expected",
    [
        (date(2026, 11, 24), "令和8年11月24日"),
        (date(2019, 5, 1), "令和元年5月1日"),
        (date(2019, 4, 30), "平成31年4月30日"),
        (date(1989, 1, 8), "平成元年1月8日"),
        (date(1989, 1, 7), "昭和64年1月7日"),
    ],
)
def test_wareki(value, expected):
    assert wareki(value) == expected


@pytest.mark.parametrize(
    "value,expected",
    [
        (date(2026, 11, 24), "令和8年度"),
        (date(2027, 3, 31), "令和8年度"),
        (date(2027, 4, 1), "令和9年度"),
        (date(2019, 6, 1), "令和元年度"),
        (date(2019, 3, 31), "平成30年度"),
        (date(2010, 4, 1), "平成22年度"),
    ],
)
def test_fiscal_year(value, expected):
    assert fiscal_year_label(value) == expected


def test_datetime_is_shown_in_japan_time():
    # 15:30 UTC is 00:30 the next day in Japan.
    assert format_datetime_jst(datetime(2026, 11, 24, 15, 30)) == "令和8年11月25日 00:30"


# --- "12 months", 年度 and JST days: one definition each, used by every feature ---


@pytest.mark.parametrize(
    "today,expected",
    [
        (date(2026, 12, 1), date(2025, 12, 1)),
        (date(2028, 2, 29), date(2027, 2, 28)),  # leap day: 28 February a year earlier
        (date(2028, 2, 28), date(2027, 2, 28)),
        (date(2028, 3, 1), date(2027, 3, 1)),
        (date(2029, 2, 28), date(2028, 2, 28)),  # not 29 February: the same day
    ],
)
def test_twelve_months_ago_is_the_same_day_a_year_earlier(today, expected):
    assert twelve_months_ago(today) == expected


def test_the_12_months_hold_366_days_when_they_hold_a_29_february():
    # "Within 12 months" is after twelve_months_ago, up to today (contacts, activities, handovers).
    assert date(2028, 3, 10) - twelve_months_ago(date(2028, 3, 10)) == timedelta(days=366)
    assert date(2027, 3, 10) - twelve_months_ago(date(2027, 3, 10)) == timedelta(days=365)
    assert daily.window_start(date(2028, 3, 10)) == date(2027, 3, 11)
    assert daily.window_start(date(2028, 2, 29)) == date(2027, 3, 1)
    assert daily.window_start(date(2027, 3, 10)) == date(2027, 3, 10) - timedelta(days=364)


def test_a_contact_is_stale_exactly_on_the_day_twelve_months_ago():
    today = date(2028, 2, 29)
    assert freshness(twelve_months_ago(today), today) is Freshness.STALE
    assert freshness(twelve_months_ago(today) + timedelta(days=1), today) is Freshness.DUE


def test_add_years_keeps_the_time_of_day_and_moves_29_february_to_28():
    assert add_years(datetime(2028, 2, 29, 23, 59), -5) == datetime(2023, 2, 28, 23, 59)
    assert add_years(datetime(2026, 12, 1, 8, 0), -1) == datetime(2025, 12, 1, 8, 0)
    assert add_years(date(2028, 2, 29), 1) == date(2029, 2, 28)
    assert add_years(date(2028, 2, 29), 4) == date(2032, 2, 29)


@pytest.mark.parametrize(
    "value,expected",
    [
        (date(2027, 3, 31), date(2026, 4, 1)),
        (date(2027, 4, 1), date(2027, 4, 1)),
        (date(2028, 2, 29), date(2027, 4, 1)),
        (date(2026, 12, 31), date(2026, 4, 1)),
        (date(2027, 1, 1), date(2026, 4, 1)),
    ],
)
def test_fiscal_year_starts_on_1_april(value, expected):
    assert fiscal_year_start(value) == expected
    assert fiscal_year(value) == expected.year


def test_the_fiscal_year_turns_at_midnight_in_japan_while_utc_is_still_31_march():
    # 2027-03-31 15:00 UTC is 2027-04-01 00:00 JST: the new 年度 has begun in Japan.
    last_second = datetime(2027, 3, 31, 14, 59, 59)
    first_second = datetime(2027, 3, 31, 15, 0)
    assert first_second.date() == date(2027, 3, 31)
    assert fiscal_year_start(last_second) == date(2026, 4, 1)
    assert fiscal_year_start(first_second) == date(2027, 4, 1)
    assert fiscal_year_label(first_second) == "令和9年度"
    assert to_jst(first_second).date() == date(2027, 4, 1)


def test_jst_midnight_is_15_00_utc_the_day_before():
    assert jst_midnight_utc(date(2027, 4, 1)) == datetime(2027, 3, 31, 15, 0)
    assert jst_midnight_utc(date(2028, 3, 1)) == datetime(2028, 2, 29, 15, 0)
    assert daily.window_start_utc(date(2028, 3, 10)) == datetime(2027, 3, 10, 15, 0)
    assert metrics.period_start("fy", date(2027, 4, 1)) == datetime(2027, 3, 31, 15, 0)
    assert metrics.period_start("fy", date(2027, 3, 31)) == datetime(2026, 3, 31, 15, 0)


def test_jst_and_utc_round_trip():
    stored = datetime(2026, 12, 1, 22, 56)  # naive UTC, as stored
    local = to_jst(stored)
    assert local.tzinfo is JST and (local.day, local.hour) == (2, 7)
    assert jst_to_utc(local) == stored
    assert jst_to_utc(local.replace(tzinfo=None)) == stored  # naive = JST wall-clock time
    assert jst_to_utc(datetime(2026, 12, 2, 7, 56, tzinfo=UTC)) == datetime(2026, 12, 2, 7, 56)

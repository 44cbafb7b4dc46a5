"""Deadline arithmetic for the first response to a handover: pure functions, no database.

Times are written in JST for readability and converted to the naive UTC the
functions take and return.
"""

from datetime import UTC, date, datetime

import pytest

from portal.timeutil import JST
from tenants.handovers import deadlines as d


def utc(y, mo, day, h, mi=0):
    """A JST wall-clock time as stored: naive UTC."""
    return datetime(y, mo, day, h, mi, tzinfo=JST).astimezone(UTC).replace(tzinfo=None)


def jst(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC).astimezone(JST).replace(tzinfo=None)


# 2026-09-18 is a Friday; 9/19-20 the weekend; 9/21 敬老の日, 9/22 国民の休日, 9/23 秋分の日.
SILVER_WEEK = [date(2026, 9, n) for n in range(19, 24)]


def test_working_days():
    assert d.is_working_day(date(2026, 9, 18))
    for day in SILVER_WEEK:
        assert not d.is_working_day(day), day
    assert d.is_working_day(date(2026, 9, 24))
    assert d.next_working_day(date(2026, 9, 18)) == date(2026, 9, 24)


def test_year_end_break_is_not_working_time():
    for day in [date(2026, 12, 29), date(2026, 12, 30), date(2026, 12, 31), date(2027, 1, 1), date(2027, 1, 2),
                date(2027, 1, 3)]:
        assert not d.is_working_day(day), day
    assert d.is_working_day(date(2026, 12, 28))  # a Monday
    assert d.next_working_day(date(2026, 12, 28)) == date(2027, 1, 4)


@pytest.mark.parametrize("sent,expected", [
    # Same clock time on the next working day.
    (utc(2026, 11, 24, 10, 5), (2026, 11, 25, 10, 5)),
    # Friday before the holiday weekend -> Thursday after it.
    (utc(2026, 9, 18, 10, 5), (2026, 9, 24, 10, 5)),
    # Sent during the holidays: counting starts Thursday 8:30 -> due at its end.
    (utc(2026, 9, 21, 11, 0), (2026, 9, 24, 17, 15)),
    # After closing on Friday: the whole of the next working day.
    (utc(2026, 9, 18, 20, 0), (2026, 9, 24, 17, 15)),
    # Before opening: the whole of the same day.
    (utc(2026, 11, 24, 7, 0), (2026, 11, 24, 17, 15)),
    # Exactly at closing time counts as after closing.
    (utc(2026, 11, 24, 17, 15), (2026, 11, 25, 17, 15)),
    # Year-end: Monday 28 December 15:00 -> Monday 4 January 15:00.
    (utc(2026, 12, 28, 15, 0), (2027, 1, 4, 15, 0)),
    (utc(2026, 12, 30, 9, 0), (2027, 1, 4, 17, 15)),
])
def test_normal_is_one_working_day(sent, expected):
    assert jst(d.response_due(sent, "normal")) == datetime(*expected)


@pytest.mark.parametrize("sent,expected", [
    (utc(2026, 11, 24, 9, 0), (2026, 11, 24, 12, 0)),
    # Crosses closing time into the next working day.
    (utc(2026, 11, 24, 16, 0), (2026, 11, 25, 10, 15)),
    # Friday afternoon before the holiday weekend -> Thursday morning.
    (utc(2026, 9, 18, 16, 0), (2026, 9, 24, 10, 15)),
    # At night: from the next opening.
    (utc(2026, 9, 18, 23, 30), (2026, 9, 24, 11, 30)),
    (utc(2026, 12, 28, 16, 45), (2027, 1, 4, 11, 0)),
])
def test_urgent_is_three_working_hours(sent, expected):
    assert jst(d.response_due(sent, "urgent")) == datetime(*expected)


def test_results_are_naive_utc_and_later_than_the_start():
    sent = utc(2026, 9, 18, 10, 5)
    due = d.response_due(sent, "urgent")
    assert due.tzinfo is None
    assert due > sent


def test_family_contact_by_is_one_working_day_after_the_response():
    due = d.response_due(utc(2026, 9, 18, 10, 5), "normal")  # Thursday 24th 10:05
    assert d.family_contact_by(due) == date(2026, 9, 25)


def test_amount_must_be_positive():
    from datetime import timedelta

    with pytest.raises(ValueError):
        d.add_working_time(utc(2026, 11, 24, 10), timedelta(0))

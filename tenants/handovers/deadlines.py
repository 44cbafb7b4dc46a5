"""When a first response to a handover is due: working time in Japan.

Working time is 8:30–17:15 JST (8 h 45 min) on working days: Monday to
Friday, except Japanese public holidays (``jpholiday``, which also knows
振替休日 and 国民の休日) and the year-end break 29 December – 3 January.

A first response (accept or decline) is due after this much working time,
counted from the moment the handover is sent (a handover sent outside working
time starts counting at the next opening):

* 通常 (normal): one working day = 8 h 45 min of working time. That is the
  same clock time on the next working day: sent Friday 10:05 → due Monday
  10:05 (or Tuesday, if Monday is a holiday). Sent outside working time →
  due at the end of the next working day: sent Friday 20:00 or Saturday →
  due Monday 17:15. The end of a working day and the opening of the next are
  the same moment of working time; deadlines land on the end (17:15), the
  earlier of the two wall-clock times.
* 至急 (urgent): 3 working hours. Sent Friday 16:00 → due Monday 10:15.

Pure functions on naive UTC datetimes (as stored) and JST dates; nothing
reads the clock or the database.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import jpholiday

from portal.timeutil import jst_to_utc, to_jst

OPENS = time(8, 30)
CLOSES = time(17, 15)
WORKING_DAY = timedelta(hours=8, minutes=45)
ALLOWANCE = {"normal": WORKING_DAY, "urgent": timedelta(hours=3)}


def is_year_end_break(day: date) -> bool:
    return (day.month == 12 and day.day >= 29) or (day.month == 1 and day.day <= 3)


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and not jpholiday.is_holiday(day) and not is_year_end_break(day)


def next_working_day(day: date) -> date:
    """The first working day after ``day``."""
    day += timedelta(days=1)
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def add_working_time(start_utc: datetime, amount: timedelta) -> datetime:
    """``start_utc`` plus ``amount`` of working time, as naive UTC."""
    if amount <= timedelta(0):
        raise ValueError("amount must be positive")
    local = to_jst(start_utc).replace(tzinfo=None)  # naive JST wall-clock time, like OPENS/CLOSES
    day = local.date()
    # Move the start into working time.
    if not is_working_day(day) or local.time() >= CLOSES:
        day = next_working_day(day)
        cursor = datetime.combine(day, OPENS)
    elif local.time() < OPENS:
        cursor = datetime.combine(day, OPENS)
    else:
        cursor = local
    remaining = amount
    while True:
        closes = datetime.combine(day, CLOSES)
        available = closes - cursor
        if remaining <= available:
            return jst_to_utc(cursor + remaining)
        remaining -= available
        day = next_working_day(day)
        cursor = datetime.combine(day, OPENS)


def response_due(sent_at_utc: datetime, urgency: str) -> datetime:
    """When the first response to a handover sent at ``sent_at_utc`` is due (naive UTC)."""
    return add_working_time(sent_at_utc, ALLOWANCE[urgency])


def family_contact_by(response_due_utc: datetime) -> date:
    """The date to give the family on the slip: the JST working day after the response is due.

    The recipient first accepts the handover, then calls the family; one more
    working day for the call keeps the promise on paper realistic.
    """
    due = add_working_time(response_due_utc, WORKING_DAY)
    return to_jst(due).date()

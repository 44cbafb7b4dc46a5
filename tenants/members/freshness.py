"""Is a contact still current?

* stale: not confirmed for 12 months (or never);
* due: confirmed within 12 months but before the last 1 April, when staff
  move (人事異動) and every contact must be reconfirmed;
* current: confirmed since the last 1 April.
"""

from __future__ import annotations

from datetime import date

from tenants.core.enums import LabelledEnum


class Freshness(LabelledEnum):
    CURRENT = "current", "確認済み"
    DUE = "due", "要再確認（4月）"
    STALE = "stale", "12か月以上未確認"


def stale_before(today: date) -> date:
    """Contacts last confirmed on or before this date are stale."""
    try:
        return today.replace(year=today.year - 1)
    except ValueError:  # 29 February
        return today.replace(year=today.year - 1, day=28)


def last_april_first(today: date) -> date:
    return date(today.year if today.month >= 4 else today.year - 1, 4, 1)


def freshness(last_confirmed_on: date | None, today: date) -> Freshness:
    if last_confirmed_on is None or last_confirmed_on <= stale_before(today):
        return Freshness.STALE
    if last_confirmed_on < last_april_first(today):
        return Freshness.DUE
    return Freshness.CURRENT

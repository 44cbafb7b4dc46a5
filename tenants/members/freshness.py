"""Is a contact still current?

* stale: not confirmed for 12 months (or never);
* due: confirmed within 12 months but before the last 1 April, when staff
  move (人事異動) and every contact must be reconfirmed;
* current: confirmed since the last 1 April.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from portal.timeutil import fiscal_year_start, twelve_months_ago
from tenants.core.enums import LabelledEnum


class Freshness(LabelledEnum):
    CURRENT = "current", "確認済み"
    DUE = "due", "要再確認（4月）"
    STALE = "stale", "12か月以上未確認"


def freshness(last_confirmed_on: date | None, today: date) -> Freshness:
    return freshness_on(today)(last_confirmed_on)


def freshness_on(today: date) -> Callable[[date | None], Freshness]:
    """``freshness(·, today)`` with today's two boundaries worked out once, for a page of contacts."""
    stale_line, april = twelve_months_ago(today), fiscal_year_start(today)

    def of(last_confirmed_on: date | None) -> Freshness:
        if last_confirmed_on is None or last_confirmed_on <= stale_line:
            return Freshness.STALE
        if last_confirmed_on < april:
            return Freshness.DUE
        return Freshness.CURRENT

    return of

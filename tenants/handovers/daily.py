"""Handovers counted per municipality and day: what the prefecture dashboard sums.

The dashboard shows, for every municipality, how many handovers were sent in
the last 12 months and how many were answered on time. Counting them from the
handovers table reads every handover of the prefecture on each request
(≈160,000 at prefecture scale, bench/bench_dashboard.py); this table keeps one
row per municipality and day (at most 365 × 63 for a year of 埼玉県), written in
the same transaction as the handover that changes it:

* ``count_sent(h)`` when a handover is sent,
* ``count_first_response(h)`` when it is first accepted or declined (once:
  both transitions leave ``sent``, which a handover is only ever in once).

``rebuild()`` recomputes the whole table from the handovers (the migration
that created it, synthetic data, repair: ``flask --app wsgi handovers
rebuild-daily``). Only numbers live here, never anything about a family.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import Date, case, delete, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from portal.extensions import db
from portal.timeutil import jst_midnight_utc, to_jst, twelve_months_ago
from tenants.handovers.models import Handover, HandoverDay

COUNTS = ("sent", "answered", "on_time")  # the columns of HandoverDay that add up


class jst_day(FunctionElement):
    """The JST calendar day of a naive-UTC timestamp column, in SQL."""

    type = Date()
    inherit_cache = True


@compiles(jst_day, "postgresql")
def _jst_day_postgresql(element, compiler, **kw):
    return f"CAST(({compiler.process(element.clauses, **kw)} + INTERVAL '9 hours') AS DATE)"


@compiles(jst_day, "sqlite")
def _jst_day_sqlite(element, compiler, **kw):
    return f"date({compiler.process(element.clauses, **kw)}, '+9 hours')"


def sent_day(sent_at: datetime) -> date:
    return to_jst(sent_at).date()


def window_start(today: date) -> date:
    """First day of "the last 12 months": the day after ``twelve_months_ago``, as for contacts and activities."""
    return twelve_months_ago(today) + timedelta(days=1)


def window_start_utc(today: date) -> datetime:
    """The same start as a naive-UTC timestamp (JST midnight), for the handovers table."""
    return jst_midnight_utc(window_start(today))


def _add(municipality_id: int, day: date, **counts: int) -> None:
    """Add to one day's counts; one statement, so concurrent requests never lose a count."""
    table = HandoverDay.__table__
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    values = {name: counts.get(name, 0) for name in COUNTS}
    stmt = dialect.insert(table).values(municipality_id=municipality_id, day=day, **values)
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c.municipality_id, table.c.day],
        set_={name: table.c[name] + stmt.excluded[name] for name in COUNTS},
    )
    db.session.execute(stmt)


def count_sent(h: Handover) -> None:
    _add(h.municipality_id, sent_day(h.sent_at), sent=1)


def count_first_response(h: Handover) -> None:
    on_time = h.first_response_at is not None and h.first_response_at <= h.response_due_at
    _add(h.municipality_id, sent_day(h.sent_at), answered=1, on_time=int(on_time))


def rebuild() -> int:
    """Recompute every row from the handovers (needs the EVERYTHING scope). Returns the rows written."""
    answered = Handover.first_response_at.is_not(None)
    day = jst_day(Handover.sent_at)
    source = (
        select(
            Handover.municipality_id,
            day.label("day"),
            func.count(Handover.id),
            func.count(Handover.first_response_at),
            func.sum(case((answered & (Handover.first_response_at <= Handover.response_due_at), 1), else_=0)),
        )
        .group_by(Handover.municipality_id, day)
    )
    db.session.execute(delete(HandoverDay))
    db.session.execute(insert(HandoverDay.__table__).from_select(["municipality_id", "day", *COUNTS], source))
    # (rowcount of INSERT … SELECT is not reported by every driver)
    return db.session.scalar(select(func.count()).select_from(HandoverDay)) or 0

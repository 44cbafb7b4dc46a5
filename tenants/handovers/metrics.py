"""Figures about handovers: aggregates only, never a consultation's content.

For one municipality (the current scope) and per recipient organisation
(the prefecture's dashboard counts handovers from ``daily`` instead):

* time to first response (accept or decline), wall-clock hours: median and
  90th percentile (continuous percentiles, as PostgreSQL's percentile_cont),
  from ``Handover.response_seconds`` (stored with the first response);
* share answered on time: first responses at or before the deadline, out of
  the handovers whose deadline has passed or that were answered;
* share resolved: handovers resolved, out of those received (withdrawn ones
  do not count anywhere);
* bounce distribution (たらい回し指数): consultations by ``hop_count``
  (1, 2, 3, 4 or more handovers), and the mean.

PostgreSQL computes everything in SQL (one statement per figure set).
SQLite has no percentile aggregate: for one municipality it reads the one or
two ranks around each percentile by walking the index on response_seconds
(LIMIT/OFFSET); grouped figures read the times in one ordered query and
Python interpolates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import Float, and_, case, cast, func, select

from portal.extensions import db
from portal.timeutil import fiscal_year_start, jst_midnight_utc, utcnow
from tenants.handovers.models import Consultation, Handover, HandoverStatus
from tenants.handovers.parties import DESK_NAME

PERIODS = {"all": "全期間", "fy": "今年度", "90d": "直近90日"}
BOUNCE_BUCKETS = ("1", "2", "3", "4+")


def period_start(period: str, today: date) -> datetime | None:
    """Naive UTC start (JST midnight) of a period named in PERIODS (None = everything)."""
    if period == "fy":
        return jst_midnight_utc(fiscal_year_start(today))
    if period == "90d":
        return jst_midnight_utc(today - timedelta(days=90))
    return None


@dataclass
class Stats:
    handovers: int = 0  # received, withdrawn ones excluded
    responded: int = 0
    due_or_answered: int = 0
    on_time: int = 0
    resolved: int = 0
    declined: int = 0
    overdue_open: int = 0
    median_hours: float | None = None
    p90_hours: float | None = None

    @property
    def on_time_share(self) -> float | None:
        return self.on_time / self.due_or_answered if self.due_or_answered else None

    @property
    def resolved_share(self) -> float | None:
        return self.resolved / self.handovers if self.handovers else None


@dataclass
class Summary(Stats):
    consultations: int = 0  # with at least one handover
    bounce: dict[str, int] = field(default_factory=lambda: dict.fromkeys(BOUNCE_BUCKETS, 0))
    mean_hops: float | None = None
    multi_hop_share: float | None = None  # consultations that needed 2 or more handovers


def _percentile(sorted_values: list[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (= percentile_cont)."""
    if not sorted_values:
        return None
    position = (len(sorted_values) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


def _percentile_by_offset(where: list, n: int, q: float) -> float | None:
    """percentile_cont for SQLite: the one or two ranks around it, read by an ordered index walk."""
    if n == 0:
        return None
    position = (n - 1) * q
    low = math.floor(position)
    values = list(db.session.scalars(
        # Withdrawn handovers never have a response time: no status test, so the index alone answers.
        select(Handover.response_seconds).where(*where, Handover.response_seconds.is_not(None))
        .order_by(Handover.response_seconds).limit(2).offset(low)
    ))
    if len(values) == 1 or position == low:
        return float(values[0])
    return values[0] + (values[1] - values[0]) * (position - low)


def _aggregate(group, since: datetime | None, now: datetime) -> dict:
    """{group value: Stats}; ``group`` is a column or None (one row for everything)."""
    h = Handover
    responded = h.first_response_at.is_not(None)
    seconds = h.response_seconds
    cols = [
        func.count(),
        func.count(h.first_response_at),
        func.count(case((or_due(now), 1))),
        func.count(case((and_(responded, h.first_response_at <= h.response_due_at), 1))),
        func.count(case((h.status == HandoverStatus.RESOLVED.value, 1))),
        func.count(case((h.status == HandoverStatus.DECLINED.value, 1))),
        func.count(case((and_(h.status == HandoverStatus.SENT.value, h.response_due_at < now), 1))),
    ]
    postgres = db.engine.dialect.name == "postgresql"
    if postgres:
        cols += [
            func.percentile_cont(0.5).within_group(cast(seconds, Float)),
            func.percentile_cont(0.9).within_group(cast(seconds, Float)),
        ]
    where = [h.status != HandoverStatus.WITHDRAWN.value]
    if since is not None:
        where.append(h.sent_at >= since)
    stmt = select(*([group] if group is not None else []), *cols).where(*where)
    if group is not None:
        stmt = stmt.group_by(group)
    out: dict = {}
    for row in db.session.execute(stmt):
        key = row[0] if group is not None else None
        values = row[1:] if group is not None else row
        stats = Stats(*values[:7])
        if postgres:
            stats.median_hours = values[7] / 3600 if values[7] is not None else None
            stats.p90_hours = values[8] / 3600 if values[8] is not None else None
        out[key] = stats
    if postgres or not out:
        return out
    if group is None:
        # Two short index walks instead of reading every response time.
        stats = out[None]
        for attr, q in (("median_hours", 0.5), ("p90_hours", 0.9)):
            value = _percentile_by_offset(where[1:], stats.responded, q)
            setattr(stats, attr, value / 3600 if value is not None else None)
        return out
    durations: dict = {}
    stmt = select(group, seconds).where(*where, seconds.is_not(None)).order_by(group, seconds)
    for key, value in db.session.execute(stmt):
        durations.setdefault(key, []).append(value)
    for key, values in durations.items():
        out[key].median_hours = _percentile(values, 0.5) / 3600
        out[key].p90_hours = _percentile(values, 0.9) / 3600
    return out


def or_due(now: datetime):
    """Handovers that count for 'on time': answered, or past the deadline."""
    from sqlalchemy import or_

    return or_(Handover.first_response_at.is_not(None), Handover.response_due_at < now)


def _bounce(since: datetime | None) -> dict[str, int] | None:
    """Consultations by bucket of hop_count; None when there are none."""
    c = Consultation
    bucket = case((c.hop_count >= 4, 4), else_=c.hop_count)
    where = [c.hop_count >= 1]
    if since is not None:
        where.append(c.created_at >= since)
    out: dict[str, int] | None = None
    for b, n in db.session.execute(select(bucket, func.count()).where(*where).group_by(bucket)):
        out = out or dict.fromkeys(BOUNCE_BUCKETS, 0)
        out["4+" if b >= 4 else str(b)] += n
    return out


def _summary(stats: Stats | None, bounce: dict[str, int] | None) -> Summary:
    s = Summary(**(vars(stats) if stats is not None else {}))
    if bounce:
        s.bounce = bounce
    s.consultations = sum(s.bounce.values())
    if s.consultations:
        # The 4+ bucket counts as 4: a lower bound of the mean.
        s.mean_hops = sum((4 if k == "4+" else int(k)) * n for k, n in s.bounce.items()) / s.consultations
        s.multi_hop_share = (s.consultations - s.bounce["1"]) / s.consultations
    return s


def municipality_summary(since: datetime | None = None, now: datetime | None = None) -> Summary:
    """The current municipality's figures (use under a one-municipality scope). 2–3 queries."""
    now = now or utcnow()
    stats = _aggregate(None, since, now).get(None)
    bounce = _bounce(since)
    return _summary(stats, bounce)


@dataclass
class OrganizationStats:
    organization_id: int | None  # None = the desk
    name: str
    stats: Stats


def by_organization(since: datetime | None = None, now: datetime | None = None) -> list[OrganizationStats]:
    """Per recipient (the desk first, then organisations by name), for the desk's page."""
    from tenants.members.models import MemberOrganization

    now = now or utcnow()
    stats = _aggregate(Handover.recipient_organization_id, since, now)
    ids = [k for k in stats if k is not None]
    names = dict(db.session.execute(
        select(MemberOrganization.id, MemberOrganization.name).where(MemberOrganization.id.in_(ids))
    ).all()) if ids else {}
    rows = [OrganizationStats(k, names.get(k, "（削除された団体）") if k else DESK_NAME, v) for k, v in stats.items()]
    return sorted(rows, key=lambda r: (r.organization_id is not None, r.name))

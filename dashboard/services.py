"""Aggregates across the prefecture's municipalities. Plain data out, no personal data.

Everything the dashboard shows about every municipality comes from ONE
SELECT (``municipality_rows``): the municipality, its network record, its
latest status declaration, its 応援タウン checklist, its activities, and the
figures of its members, contacts and handovers that ``dashboard.summary``
keeps per municipality. The number of statements therefore does not grow
with the number of municipalities, no step reads every member, contact or
day of the prefecture, and no row of a person ever leaves the database —
only counts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache, cached_property, lru_cache
from typing import Any

from markupsafe import Markup
from sqlalchemy import Date, DateTime, Integer, Select, String, and_, bindparam, func, select, true

from dashboard import summary
from dashboard.models import ConfirmationStep, HandoverMonth, MemberTotals
from portal.extensions import db
from portal.japanese import fold
from portal.search import bounded_query
from portal.timeutil import today_jst, twelve_months_ago, utcnow, wareki
from tenants.activities.models import NetworkActivity
from tenants.handovers import daily
from tenants.handovers.models import Handover, HandoverDay, HandoverStatus
from tenants.members.categories import CORE, COVERAGE_CATEGORIES
from tenants.models import Municipality
from tenants.network.models import Desk, Network
from tenants.rollout.models import NetworkStatus, NetworkStatusDeclaration, TownCertification

# PREFECTURE_CODE=00: a national view of every municipality (used by the national benchmark).
NATIONAL = "00"

COVERAGE_CODES = tuple(c.code for c in COVERAGE_CATEGORIES)
CORE_CODES = tuple(c.code for c in COVERAGE_CATEGORIES if c.group == CORE)
COVERAGE_REQUIRED = len(COVERAGE_CODES)
CORE_REQUIRED = len(CORE_CODES)


def _share(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


# Not frozen: 1,741 rows in the national view, and a frozen dataclass's __init__ costs
# three times as much (object.__setattr__ per field). Nothing changes a row once built.
@dataclass
class MunicipalityRow:
    id: int
    code: str
    name: str
    kana: str
    kind: str
    kind_label: str
    is_city: bool
    latitude: float
    longitude: float
    network_name: str | None
    established_on: date | None
    declared_status: str | None
    declared_on: date | None
    has_desk: bool = False
    town_desk: bool = False
    town_hubs: bool = False
    town_network: bool = False
    certified_on: date | None = None
    active_members: int = 0
    covered: int = 0
    core_covered: int = 0
    contacts: int = 0
    contacts_confirmed: int = 0
    activities_12m: int = 0
    last_activity_on: date | None = None
    handovers_12m: int | None = None
    handovers_decided: int = 0
    handovers_on_time: int = 0
    flags: tuple[str, ...] = field(default=())

    # --- declared status -------------------------------------------------
    @property
    def status(self) -> str:
        """The declared status; a municipality that never declared counts as 未着手."""
        return self.declared_status or NetworkStatus.NOT_STARTED.value

    @property
    def status_label(self) -> str:
        return NetworkStatus(self.status).label

    @property
    def is_established(self) -> bool:
        return self.status == NetworkStatus.ESTABLISHED

    # --- evidence --------------------------------------------------------
    @property
    def has_network(self) -> bool:
        return self.network_name is not None

    @property
    def contacts_share(self) -> float | None:
        return _share(self.contacts_confirmed, self.contacts)

    @property
    def on_time_share(self) -> float | None:
        return _share(self.handovers_on_time, self.handovers_decided)

    @property
    def town_met(self) -> int:
        return sum((self.town_desk, self.town_hubs, self.town_network))

    @property
    def flagged(self) -> bool:
        return bool(self.flags)

    # --- as the table shows them (computed once per row: 1,741 rows in the national view)
    @cached_property
    def flags_text(self) -> str:
        return "／".join(self.flags)

    @cached_property
    def declared_on_label(self) -> str:
        return wareki(self.declared_on) if self.declared_on else ""

    @cached_property
    def certified_on_label(self) -> str:
        return wareki(self.certified_on) if self.certified_on else ""

    @cached_property
    def contacts_share_cell(self) -> Markup:
        return percent_cell(self.contacts_share)

    @cached_property
    def on_time_share_cell(self) -> Markup:
        return percent_cell(self.on_time_share)


_NO_DATA = Markup('<span class="muted" title="データなし">—</span>')


@lru_cache(maxsize=2048)  # shares have one decimal: at most 1,001 values
def percent_cell(value: float | None) -> Markup:
    """A share as the tables show it (the percent macro of templates/dashboard/_macros.html)."""
    return _NO_DATA if value is None else Markup(f"{value:.0f}%")


def disagreements(row: MunicipalityRow) -> tuple[str, ...]:
    """Where the declaration and the evidence in the data disagree (the 要確認 flag)."""
    out: list[str] = []
    if row.status == NetworkStatus.ESTABLISHED:
        if not row.has_network:
            out.append("設置済と申告されていますが、ネットワークの記録がありません")
        if row.active_members == 0:
            out.append("設置済と申告されていますが、活動中の構成員がいません")
        elif row.activities_12m == 0 and row.contacts_confirmed == 0:
            out.append("設置済と申告されていますが、12か月間、活動の記録も担当者の確認もありません")
    elif row.status == NetworkStatus.NOT_STARTED and row.has_network and row.active_members > 0:
        if row.declared_status is None:
            out.append("ネットワークの記録と構成員がありますが、設置状況が申告されていません")
        else:
            out.append("ネットワークの記録と構成員がありますが、未着手と申告されています")
    return tuple(out)


# --- the one aggregate query ----------------------------------------------------

# Bound per execution (``_parameters``): the statement itself is built once per shape.
# The days, the prefecture and the municipality are written into the SQL as literals when it is sent
# (literal_execute: the compiled form is still cached), so PostgreSQL plans for the actual
# ranges; as parameters, the generic plan of a prepared statement (psycopg prepares after
# five executions) guessed their selectivity and took twice as long at prefecture scale.
# They change once a day; ``now`` changes on every request and stays a parameter.
_STALE = bindparam("stale", type_=Date, literal_execute=True)  # twelve_months_ago(today): "within 12 months" is after it
_TODAY = bindparam("today", type_=Date, literal_execute=True)
_WINDOW = bindparam("window_start", type_=Date, literal_execute=True)  # the first day of the handovers' 12 months
_MONTHS_FROM = bindparam("months_from", type_=Date, literal_execute=True)  # ... and of the first whole month in them
_WINDOW_UTC = bindparam("window_start_utc", type_=DateTime, literal_execute=True)
_NOW = bindparam("now", type_=DateTime)
_PREFECTURE = bindparam("prefecture_code", type_=String, literal_execute=True)
_MUNICIPALITY = bindparam("municipality_id", type_=Integer, literal_execute=True)


@cache
def rows_statement(national: bool = False, one: bool = False, lateral: bool = False) -> Select:
    """The dashboard's one SELECT: every municipality of a prefecture (or the country), or one.

    Built once per shape and reused with new parameters (``_parameters``);
    nothing in it depends on the request. Members and contacts come from the
    per-municipality figures that ``dashboard.summary`` keeps (the rule of
    ``tenants.network.services.coverage``: tests/test_coverage_rule.py compares
    them), so no step reads every member organisation or contact.
    """

    def only(stmt: Select, column: Any) -> Select:
        # One municipality (the drill-down): filter inside each derived table too, so no
        # database aggregates the whole prefecture first (SQLite does not push it down).
        return stmt.where(column == _MUNICIPALITY) if one else stmt

    # Latest declaration per municipality (by the day it took effect, then entry order).
    ranked: Any = select(
        NetworkStatusDeclaration.municipality_id.label("mid"),
        NetworkStatusDeclaration.status.label("status"),
        NetworkStatusDeclaration.declared_on.label("declared_on"),
        func.row_number().over(
            partition_by=NetworkStatusDeclaration.municipality_id,
            order_by=(NetworkStatusDeclaration.declared_on.desc(), NetworkStatusDeclaration.id.desc()),
        ).label("rn"),
    )
    ranked = only(ranked, NetworkStatusDeclaration.municipality_id).subquery("ranked")
    latest = select(ranked.c.mid, ranked.c.status, ranked.c.declared_on).where(ranked.c.rn == 1).subquery("latest")

    # The confirmation figures that apply today: the step with the latest start not after
    # "12 months ago" (dashboard/models.py), one index lookup per municipality. PostgreSQL
    # gets it as a LATERAL join (joined on the correlated day, it hashes every step instead);
    # SQLite, which has no LATERAL, joins on that day (its nested loops look it up anyway).
    # (The same entity, not an alias, so the tenant scope filters it: correlated to the
    # municipality only, it is a FROM of its own.)
    step_now = (
        select(ConfirmationStep.contacts_confirmed, ConfirmationStep.covered, ConfirmationStep.core_covered)
        .where(ConfirmationStep.municipality_id == Municipality.id, ConfirmationStep.from_day <= _STALE)
        .order_by(ConfirmationStep.from_day.desc())
        .limit(1)
        .correlate(Municipality)
    )
    if lateral:
        step: Any = step_now.lateral("step")
        step_join: Any = true()
    else:
        step = ConfirmationStep
        step_join = and_(ConfirmationStep.municipality_id == Municipality.id,
                         ConfirmationStep.from_day == step_now.with_only_columns(ConfirmationStep.from_day)
                         .scalar_subquery())

    activities: Any = (
        select(
            NetworkActivity.municipality_id.label("mid"),
            func.count(NetworkActivity.id).label("n"),
            func.max(NetworkActivity.held_on).label("last_on"),
        )
        .where(NetworkActivity.held_on > _STALE, NetworkActivity.held_on <= _TODAY)
        .group_by(NetworkActivity.municipality_id)
    )
    activities = only(activities, NetworkActivity.municipality_id).subquery("activities")

    # Handovers sent in the last 12 months: the months wholly inside them, summed per month
    # (dashboard/summary.py), and the days of the partial month they start in, from the
    # daily counts (one row per municipality and day, kept by tenants/handovers/daily.py).
    # On time: first response (accept or decline) by the due time. The share counts those
    # answered or past due: the answered ones, plus those still waiting past their due time.
    # Each part grouped per municipality from a LEFT JOIN of the municipalities (which SQLite
    # never reorders: it looks up each municipality's months and days by index; PostgreSQL
    # hashes them, which at the country's 1,741 municipalities beats a lookup per municipality).
    def per_municipality(model: Any, name: str, *where: Any) -> tuple[Any, Any]:
        part = (
            select(Municipality.id.label("mid"), func.sum(model.sent).label("sent"),
                   func.sum(model.answered).label("answered"), func.sum(model.on_time).label("on_time"))
            .select_from(Municipality)
            .outerjoin(model, and_(model.municipality_id == Municipality.id, *where))
            .group_by(Municipality.id)
        )
        if not national:
            part = part.where(Municipality.prefecture_code == _PREFECTURE)
        subquery = only(part, Municipality.id).subquery(name)
        return subquery, subquery.c.mid == Municipality.id

    months, months_join = per_municipality(HandoverMonth, "months", HandoverMonth.month >= _MONTHS_FROM)
    days, days_join = per_municipality(HandoverDay, "days", HandoverDay.day >= _WINDOW, HandoverDay.day < _MONTHS_FROM)

    def handovers(column: str) -> Any:
        return func.coalesce(months.c[column], 0) + func.coalesce(days.c[column], 0)

    # Per municipality, through the index of its handovers by status and due time (counting
    # a column of that index, not the id, so the index alone can answer).
    waiting = (
        select(func.count(Handover.municipality_id))
        .where(Handover.municipality_id == Municipality.id, Handover.status == HandoverStatus.SENT.value,
               Handover.response_due_at < _NOW, Handover.sent_at >= _WINDOW_UTC)
        .correlate(Municipality)
        .scalar_subquery()
    )

    stmt = (
        select(
            Municipality.id, Municipality.code, Municipality.name, Municipality.kana, Municipality.kind,
            Municipality.designated_city, Municipality.latitude, Municipality.longitude,
            Network.name.label("network_name"), Network.established_on,
            latest.c.status.label("declared_status"), latest.c.declared_on,
            (Desk.id.is_not(None)).label("has_desk"),
            TownCertification.one_stop_desk, TownCertification.support_hubs,
            TownCertification.network.label("town_network"), TownCertification.certified_on,
            MemberTotals.active_members, MemberTotals.contacts,
            (step.c if lateral else ConfirmationStep).contacts_confirmed,
            (step.c if lateral else ConfirmationStep).covered,
            (step.c if lateral else ConfirmationStep).core_covered,
            activities.c.n.label("activities_12m"), activities.c.last_on.label("last_activity_on"),
            handovers("sent").label("handovers_12m"),
            (handovers("answered") + waiting).label("handovers_decided"),
            handovers("on_time").label("handovers_on_time"),
        )
        .select_from(Municipality)
        .outerjoin(Network, Network.municipality_id == Municipality.id)
        .outerjoin(Desk, Desk.municipality_id == Municipality.id)
        .outerjoin(latest, latest.c.mid == Municipality.id)
        .outerjoin(TownCertification, TownCertification.municipality_id == Municipality.id)
        .outerjoin(MemberTotals, MemberTotals.municipality_id == Municipality.id)
        .outerjoin(step, step_join)
        .outerjoin(activities, activities.c.mid == Municipality.id)
        .outerjoin(months, months_join)
        .outerjoin(days, days_join)
    )
    if not national:
        stmt = stmt.where(Municipality.prefecture_code == _PREFECTURE)
    if one:
        stmt = stmt.where(Municipality.id == _MUNICIPALITY)
    return stmt.order_by(Municipality.code)


def first_of_next_month(day: date) -> date:
    return date(day.year + 1, 1, 1) if day.month == 12 else date(day.year, day.month + 1, 1)


def _parameters(prefecture_code: str, today: date, now: datetime, municipality_id: int | None) -> dict[str, Any]:
    start = daily.window_start(today)
    values: dict[str, Any] = {
        "stale": twelve_months_ago(today), "today": today, "now": now,
        "window_start": start, "months_from": start if start.day == 1 else first_of_next_month(start),
        "window_start_utc": daily.window_start_utc(today),
    }
    if prefecture_code != NATIONAL:
        values["prefecture_code"] = prefecture_code
    if municipality_id is not None:
        values["municipality_id"] = municipality_id
    return values


def _row(m: Any) -> MunicipalityRow:
    kind = m["kind"]
    row = MunicipalityRow(
        id=m["id"], code=m["code"], name=m["name"], kana=m["kana"], kind=kind,
        kind_label="政令指定都市" if m["designated_city"] else kind,
        is_city=kind in ("市", "特別区"),
        latitude=m["latitude"], longitude=m["longitude"],
        network_name=m["network_name"], established_on=m["established_on"],
        declared_status=m["declared_status"], declared_on=m["declared_on"],
        has_desk=bool(m["has_desk"]),
        town_desk=bool(m["one_stop_desk"]), town_hubs=bool(m["support_hubs"]), town_network=bool(m["town_network"]),
        certified_on=m["certified_on"],
        active_members=m["active_members"] or 0, covered=m["covered"] or 0, core_covered=m["core_covered"] or 0,
        contacts=m["contacts"] or 0, contacts_confirmed=m["contacts_confirmed"] or 0,
        activities_12m=m["activities_12m"] or 0, last_activity_on=m["last_activity_on"],
        # int(): PostgreSQL's sum() of integers is bigint, of bigints numeric (Decimal).
        handovers_12m=int(m["handovers_12m"]),
        handovers_decided=int(m["handovers_decided"] or 0),
        handovers_on_time=int(m["handovers_on_time"] or 0),
    )
    row.flags = disagreements(row)
    return row


def municipality_rows(prefecture_code: str, today: date | None = None, now: datetime | None = None,
                      municipality_id: int | None = None) -> list[MunicipalityRow]:
    """Every municipality of the prefecture with its status and evidence. One statement."""
    today = today or today_jst()
    now = now or utcnow()
    summary.catch_up(db.session)  # this transaction's own member changes, if any (none in a GET)
    lateral = db.session.get_bind().dialect.name == "postgresql"
    stmt = rows_statement(prefecture_code == NATIONAL, municipality_id is not None, lateral)
    result = db.session.execute(stmt, _parameters(prefecture_code, today, now, municipality_id))
    return [_row(m) for m in result.mappings()]


# --- headline -------------------------------------------------------------------


@dataclass(frozen=True)
class Headline:
    total: int
    established: int
    preparing: int
    not_started: int
    cities_total: int
    cities_established: int
    towns_total: int
    towns_established: int
    flagged: int
    certified: int
    target_year: int

    @property
    def target(self) -> int:
        """The prefecture's target: a network in every municipality."""
        return self.total

    @property
    def percent(self) -> int:
        return round(100 * self.established / self.total) if self.total else 0

    @property
    def cities_percent(self) -> int:
        return round(100 * self.cities_established / self.cities_total) if self.cities_total else 0

    @property
    def towns_percent(self) -> int:
        return round(100 * self.towns_established / self.towns_total) if self.towns_total else 0

    @property
    def target_date(self) -> date:
        """End of the target fiscal year (年度末)."""
        return date(self.target_year + 1, 3, 31)

    @property
    def remaining(self) -> int:
        return self.total - self.established


def headline(rows: list[MunicipalityRow], target_year: int) -> Headline:
    """``target_year``: the 年度 by whose end every municipality should have a network (config DASHBOARD_TARGET_YEAR)."""
    cities = [r for r in rows if r.is_city]
    towns = [r for r in rows if not r.is_city]
    return Headline(
        total=len(rows),
        established=sum(r.is_established for r in rows),
        preparing=sum(r.status == NetworkStatus.PREPARING for r in rows),
        not_started=sum(r.status == NetworkStatus.NOT_STARTED for r in rows),
        cities_total=len(cities),
        cities_established=sum(r.is_established for r in cities),
        towns_total=len(towns),
        towns_established=sum(r.is_established for r in towns),
        flagged=sum(r.flagged for r in rows),
        certified=sum(r.certified_on is not None for r in rows),
        target_year=target_year,
    )


def cumulative(rows: list[MunicipalityRow]) -> list[tuple[date, int, str]]:
    """(date, established so far, who) for every municipality now declared 設置済, in date order."""
    points = sorted((r.declared_on, r.code, r.name) for r in rows if r.is_established and r.declared_on)
    return [(d, i, name) for i, (d, _code, name) in enumerate(points, start=1)]


# --- the table: filter, sort, columns --------------------------------------------


@dataclass(frozen=True)
class Filters:
    status: str = ""
    kind: str = ""  # "city" | "town"
    flagged: bool = False
    q: str = ""
    sort: str = "code"
    order: str = "asc"

    @classmethod
    def from_args(cls, args: Any) -> Filters:
        status = args.get("status", "")
        kind = args.get("kind", "")
        sort = args.get("sort", "code")
        return cls(
            status=status if status in {s.value for s in NetworkStatus} else "",
            kind=kind if kind in ("city", "town") else "",
            flagged=args.get("flagged") in ("1", "on", "true"),
            q=bounded_query(args.get("q")),
            sort=sort if sort in SORT_KEYS else "code",
            order="desc" if args.get("order") == "desc" else "asc",
        )

    @property
    def active(self) -> bool:
        return bool(self.status or self.kind or self.flagged or self.q)

    def args(self, **changes: Any) -> dict[str, Any]:
        """Query arguments for links (only what differs from the defaults)."""
        values = {"status": self.status, "kind": self.kind, "flagged": "1" if self.flagged else "",
                  "q": self.q, "sort": self.sort, "order": self.order, **changes}
        defaults = {"sort": "code", "order": "asc"}
        return {k: v for k, v in values.items() if v and defaults.get(k) != v}


def _none_last(value: Any, missing: Any) -> Any:
    return (value is None, value if value is not None else missing)


_STATUS_ORDER = {NetworkStatus.ESTABLISHED.value: 0, NetworkStatus.PREPARING.value: 1, NetworkStatus.NOT_STARTED.value: 2}

SORT_KEYS: dict[str, tuple[str, Callable[[MunicipalityRow], Any]]] = {
    "code": ("団体コード", lambda r: r.code),
    "name": ("市町村", lambda r: (fold(r.kana), r.code)),
    "kind": ("区分", lambda r: (not r.is_city, r.code)),
    "status": ("申告", lambda r: (_STATUS_ORDER[r.status], r.declared_on or date.min, r.code)),
    "network": ("ネットワーク記録", lambda r: (not r.has_network, r.code)),
    "members": ("活動中の構成員", lambda r: (r.active_members, r.code)),
    "coverage": ("充足区分", lambda r: (r.covered, r.code)),
    "contacts": ("担当者確認率", lambda r: (_none_last(r.contacts_share, 0.0), r.code)),
    "activities": ("活動（12か月）", lambda r: (r.activities_12m, r.code)),
    "handovers": ("引継ぎ（12か月）", lambda r: (r.handovers_12m or 0, r.code)),
    "on_time": ("期限内回答率", lambda r: (_none_last(r.on_time_share, 0.0), r.code)),
    "town": ("応援タウン", lambda r: (r.certified_on is not None, r.town_met, r.code)),
    "flags": ("要確認", lambda r: (len(r.flags), r.code)),
}


def apply(rows: list[MunicipalityRow], f: Filters) -> list[MunicipalityRow]:
    out = rows
    if f.status:
        out = [r for r in out if r.status == f.status]
    if f.kind:
        out = [r for r in out if r.is_city == (f.kind == "city")]
    if f.flagged:
        out = [r for r in out if r.flagged]
    if f.q:
        needle = fold(f.q)
        out = [r for r in out if needle in fold(r.name) or needle in fold(r.kana) or f.q in r.code]
    key = SORT_KEYS[f.sort][1]
    if f.sort in ("members", "coverage", "contacts", "activities", "handovers", "on_time"):
        # Numbers: "no data" stays at the end whichever way the column is sorted.
        present = [r for r in out if _sort_value(f.sort, r) is not None]
        missing = [r for r in out if _sort_value(f.sort, r) is None]
        return sorted(present, key=key, reverse=f.order == "desc") + sorted(missing, key=lambda r: r.code)
    return sorted(out, key=key, reverse=f.order == "desc")


def _sort_value(sort: str, r: MunicipalityRow) -> Any:
    return {"contacts": r.contacts_share, "on_time": r.on_time_share, "handovers": r.handovers_12m}.get(sort, 0)


def _percent_cell(value: float | None) -> float | str:
    return "" if value is None else value


# The export's columns, the same figures as the table.
EXPORT_COLUMNS: tuple[tuple[str, int, Callable[[MunicipalityRow], Any]], ...] = (
    ("団体コード", 10, lambda r: r.code),
    ("市町村", 14, lambda r: r.name),
    ("ふりがな", 18, lambda r: r.kana),
    ("区分", 12, lambda r: r.kind_label),
    ("市/町村", 8, lambda r: "市" if r.is_city else "町村"),
    ("申告状況", 10, lambda r: r.status_label),
    ("申告日", 12, lambda r: r.declared_on),
    ("ネットワーク記録", 10, lambda r: "あり" if r.has_network else "なし"),
    ("ネットワーク名称", 30, lambda r: r.network_name or ""),
    ("設置日（記録）", 12, lambda r: r.established_on),
    ("活動中の構成員", 10, lambda r: r.active_members),
    (f"充足区分（/{COVERAGE_REQUIRED}）", 10, lambda r: r.covered),
    (f"中核機関の充足（/{CORE_REQUIRED}）", 10, lambda r: r.core_covered),
    ("担当者数", 8, lambda r: r.contacts),
    ("12か月以内に確認した担当者", 10, lambda r: r.contacts_confirmed),
    ("担当者確認率（%）", 10, lambda r: _percent_cell(r.contacts_share)),
    ("活動（12か月）", 10, lambda r: r.activities_12m),
    ("最後の活動日", 12, lambda r: r.last_activity_on),
    ("引継ぎ（12か月）", 10, lambda r: "" if r.handovers_12m is None else r.handovers_12m),
    ("期限内回答率（%）", 10, lambda r: _percent_cell(r.on_time_share)),
    ("応援タウン要件（/3）", 10, lambda r: r.town_met),
    ("応援タウン認定日", 12, lambda r: r.certified_on),
    ("要確認", 40, lambda r: "／".join(r.flags)),
)


def export_table(rows: list[MunicipalityRow]) -> tuple[list[str], list[list[Any]], list[int]]:
    header = [c[0] for c in EXPORT_COLUMNS]
    widths = [c[1] for c in EXPORT_COLUMNS]
    return header, [[c[2](r) for c in EXPORT_COLUMNS] for r in rows], widths


# --- one municipality (drill-down): aggregates only ---------------------------------


def activity_counts_by_kind(municipality_id: int, today: date) -> dict[str, int]:
    stale = twelve_months_ago(today)
    return dict(db.session.execute(
        select(NetworkActivity.kind, func.count(NetworkActivity.id))
        .where(NetworkActivity.municipality_id == municipality_id,
               NetworkActivity.held_on > stale, NetworkActivity.held_on <= today)
        .group_by(NetworkActivity.kind)
    ).all())


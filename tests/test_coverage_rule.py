"""One rule, two implementations: the coverage of member categories.

The network page's matrix (``tenants.network.services.coverage``, ORM per
municipality) and the dashboard's table (``dashboard.services.rows_statement``,
one aggregate SELECT for the prefecture) must count the same thing: a core or
related category is covered when an active member organisation of it has a
contact confirmed within 12 months. This builds varied data and compares them
for every municipality, on several days.
"""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import select

from dashboard import services as dashboard
from portal.extensions import db
from portal.timeutil import today_jst, twelve_months_ago
from tenants import municipalities
from tenants.members.categories import CATEGORIES
from tenants.members.models import MemberStatus
from tenants.models import Municipality
from tenants.network import services as network
from tenants.network.models import Desk
from tenants.scoping import Scope, scoped
from tests import factories as f
from tests.conftest import arranged

# Several municipalities of 埼玉県; the other 57 stay empty (nothing covered on either side).
CODES = ("112305", "111007", "112011", "113247", "112089", "112143")
EDGES = "113263"  # 毛呂山町: hand-picked cases only
STATUSES = [s.value for s in MemberStatus]


def _confirmations(today):
    """Last-confirmed dates around every line the rule draws (None = never confirmed)."""
    year_ago = twelve_months_ago(today)
    return [None, today, today - timedelta(days=30), year_ago, year_ago + timedelta(days=1),
            year_ago - timedelta(days=1), today - timedelta(days=400), today + timedelta(days=3)]


def _build(rng: random.Random, today) -> None:
    municipalities.load("11")
    for i, code in enumerate(CODES):
        m = f.municipality(code)
        if i % 3 != 2:
            f.network(m)
        if i % 2 == 0:  # a desk, with or without a network record
            db.session.add(Desk(municipality_id=m.id, name=f"{m.name}子育て総合支援窓口"))
            db.session.flush()
        for n in range(rng.randint(4, 14)):
            category = rng.choice(CATEGORIES).code
            status = rng.choices(STATUSES, weights=(1, 6, 1, 1))[0]
            org = f.organization(m, f"{m.name}見本団体{n}", category, status=status)
            for _ in range(rng.choice((0, 1, 1, 2, 3))):
                f.contact(org, confirmed=rng.choice(_confirmations(today)))
    # Hand-picked edges in one more municipality: a category is covered by an active
    # organisation with a fresh contact; never by one that left, pauses or applies.
    m = f.municipality(EDGES)
    f.contact(f.organization(m, "退会した保育園", "hoikusho", status="left"), confirmed=today)
    f.contact(f.organization(m, "休止中のセンター", "shien_center", status="suspended"), confirmed=today)
    f.organization(m, "申請中の幼稚園", "yochien", status="applying")
    stale_and_fresh = f.organization(m, "見本小学校", "shogakko")
    f.contact(stale_and_fresh, confirmed=twelve_months_ago(today))
    f.contact(stale_and_fresh, confirmed=None)
    f.contact(f.organization(m, "二つ目の小学校", "shogakko"), confirmed=today)


def _python_rule(municipality_id: int, day) -> tuple[int, int, int]:
    with scoped(db.session, Scope(municipality_id=municipality_id)):
        cov = network.coverage(day)
    core = sum(c.state == "present" for c in cov.core)
    members = sum(c.members for c in cov.core + cov.related + cov.others)
    return cov.present_count, core, members


def _sql_rule(row: dashboard.MunicipalityRow) -> tuple[int, int, int]:
    return row.covered, row.core_covered, row.active_members


def test_the_network_page_and_the_dashboard_count_coverage_alike(app):
    today = today_jst()
    rng = random.Random(13)
    with arranged(app):
        _build(rng, today)
    days = [today, today + timedelta(days=1), today + timedelta(days=4), today - timedelta(days=1),
            twelve_months_ago(today) + timedelta(days=365), today + timedelta(days=366)]
    with arranged(app):
        ids = dict(db.session.execute(select(Municipality.code, Municipality.id)
                                      .where(Municipality.prefecture_code == "11")).all())
        for day in days:
            with scoped(db.session, Scope(prefecture_code="11")):
                rows = dashboard.municipality_rows("11", today=day)
            assert len(rows) == len(ids) == 63
            for row in rows:
                assert _sql_rule(row) == _python_rule(row.id, day), (row.code, day)
            # The drill-down filters inside each derived table: the same answer for one municipality.
            for code in (*CODES, EDGES):
                with scoped(db.session, Scope(prefecture_code="11")):
                    (one,) = dashboard.municipality_rows("11", today=day, municipality_id=ids[code])
                assert _sql_rule(one) == _python_rule(ids[code], day), (code, day)
        # The data is varied enough to mean something: covered, weak and missing all occur.
        states = set()
        for code in CODES:
            with scoped(db.session, Scope(municipality_id=ids[code])):
                states |= {c.state for c in network.coverage(today).core + network.coverage(today).related}
        assert states == {"present", "weak", "missing"}
        with scoped(db.session, Scope(municipality_id=ids[EDGES])):
            edges = {c.category.code: c.state for c in network.coverage(today).core + network.coverage(today).related}
    assert (edges["hoikusho"], edges["shien_center"], edges["yochien"], edges["shogakko"]) == (
        "missing", "missing", "missing", "present")

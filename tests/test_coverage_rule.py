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

from sqlalchemy import delete, func, select, update

from dashboard import services as dashboard
from dashboard import summary
from dashboard.models import ConfirmationStep, HandoverMonth, MemberTotals
from portal.extensions import db
from portal.timeutil import today_jst, twelve_months_ago, utcnow
from tenants import municipalities
from tenants.handovers import daily
from tenants.handovers.models import Handover, HandoverDay, HandoverStatus
from tenants.members import services as members
from tenants.members.categories import CATEGORIES
from tenants.members.models import Contact, MemberOrganization, MemberStatus
from tenants.models import Municipality
from tenants.network import services as network
from tenants.network.models import Desk
from tenants.reconfirmation import services as reconfirmation
from tenants.scoping import EVERYTHING, Scope, scoped, set_scope
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


# --- the dashboard's kept figures equal a full recomputation ---------------------------
#
# dashboard/summary.py keeps per-municipality figures in the transaction of every write
# (members and contacts, confirmation steps, handovers per month). After each kind of
# write, and as days pass without any, they must equal both a rebuild from scratch and
# the figures counted directly from the rows.

SUMMARY_MODELS = (MemberTotals, ConfirmationStep, HandoverMonth)


def _kept() -> dict[str, set]:
    """The summary tables as sets of rows (ids aside)."""
    out = {}
    for model in SUMMARY_MODELS:
        columns = [getattr(model, c.name) for c in model.__table__.c if c.name != "id"]
        out[model.__tablename__] = set(db.session.execute(select(*columns)).all())
    return out


def assert_kept_equals_rebuilt(app, label: str = "") -> None:
    """Inside nothing: the committed summaries equal what a rebuild computes (which it then leaves)."""
    with arranged(app):
        kept = _kept()
        summary.rebuild(db.session)
        rebuilt = _kept()
    for name in kept:
        assert kept[name] == rebuilt[name], (label, name, kept[name] ^ rebuilt[name])


def _counted(municipality_id: int, day, now) -> tuple:
    """Every figure the dashboard shows from summaries, counted from the rows themselves."""
    stale = twelve_months_ago(day)
    with scoped(db.session, Scope(municipality_id=municipality_id)):
        active = select(MemberOrganization.id).where(MemberOrganization.status == MemberStatus.ACTIVE.value)
        contacts = select(Contact.id).where(Contact.organization_id.in_(active))

        def count(stmt) -> int:
            return db.session.scalar(select(func.count()).select_from(stmt.subquery()))

        sent, answered, on_time = db.session.execute(
            select(func.coalesce(func.sum(HandoverDay.sent), 0), func.coalesce(func.sum(HandoverDay.answered), 0),
                   func.coalesce(func.sum(HandoverDay.on_time), 0))
            .where(HandoverDay.day >= daily.window_start(day))).one()
        waiting = count(select(Handover.id).where(
            Handover.status == HandoverStatus.SENT.value, Handover.response_due_at < now,
            Handover.sent_at >= daily.window_start_utc(day)))
        figures = (count(active), count(contacts), count(contacts.where(Contact.last_confirmed_on > stale)),
                   int(sent), int(answered) + waiting, int(on_time))
    return (*_python_rule(municipality_id, day)[:2], *figures)


def _shown(row: dashboard.MunicipalityRow) -> tuple:
    return (row.covered, row.core_covered, row.active_members, row.contacts, row.contacts_confirmed,
            row.handovers_12m, row.handovers_decided, row.handovers_on_time)


def assert_rows_equal_counted(app, days, label: str = "") -> None:
    now = utcnow()
    with arranged(app):
        ids = dict(db.session.execute(select(Municipality.code, Municipality.id)
                                      .where(Municipality.prefecture_code == "11")).all())
        busy = {ids[code] for code in (*CODES, EDGES)}
        for day in days:
            with scoped(db.session, Scope(prefecture_code="11")):
                rows = dashboard.municipality_rows("11", today=day, now=now)
            for row in rows:
                expected = _counted(row.id, day, now) if row.id in busy else (0,) * 8
                assert _shown(row) == expected, (label, row.code, day)


def _org(code: str, name: str):
    m = f.municipality(code)
    return m, db.session.scalar(select(MemberOrganization).where(MemberOrganization.name == name))


def _in(m):
    return scoped(db.session, Scope(municipality_id=m.id))


def test_the_kept_figures_equal_a_full_recomputation_after_every_kind_of_write(app):
    from tests.test_dashboard import _handover

    today = today_jst()
    with arranged(app):
        _build(random.Random(14), today)
        niiza = f.municipality(CODES[0])
        for days_ago, answered in ((3, 1), (40, None), (200, 2), (380, 1)):  # handovers, some past due
            _handover(niiza, sent_days_ago=days_ago, answered_after_days=answered,
                      status="accepted" if answered else "sent")
    assert_kept_equals_rebuilt(app, "built")
    assert_rows_equal_counted(app, [today], "built")

    m0, m1 = CODES[0], CODES[1]
    year_ago = twelve_months_ago(today)

    def add_member():
        m = f.municipality(m0)
        with _in(m):
            org = members.create_organization({"name": "新しく加わった保育園", "category": "hoikusho"})
            members.create_contact(org, {"name": "新任 一郎", "last_confirmed_on": today})
            members.create_contact(org, {"name": "新任 二郎", "last_confirmed_on": year_ago + timedelta(days=1)})

    def member_left():
        m, org = _org(m0, "新しく加わった保育園")
        with _in(m):
            members.update_organization(org, {"status": "left"})

    def member_back_and_recategorised():
        m, org = _org(m0, "新しく加わった保育園")
        with _in(m):
            members.update_organization(org, {"status": "active"})
            members.update_organization(org, {"category": "shien_center"})

    def contacts_added():
        m = f.municipality(m1)
        with _in(m):
            org = db.session.scalars(select(MemberOrganization).where(
                MemberOrganization.status == MemberStatus.ACTIVE.value).order_by(MemberOrganization.id)).first()
            members.create_contact(org, {"name": "未確認 三郎", "last_confirmed_on": None})
            members.create_contact(org, {"name": "確認済 四郎", "last_confirmed_on": today})

    def contact_confirmed_and_edited():
        m = f.municipality(m1)
        with _in(m):
            members.confirm_contact(db.session.scalar(select(Contact).where(Contact.name == "未確認 三郎")), today)
            members.update_contact(db.session.scalar(select(Contact).where(Contact.name == "確認済 四郎")),
                                   {"last_confirmed_on": today - timedelta(days=400)})

    def contact_removed():
        m, org = _org(m0, "新しく加わった保育園")
        with _in(m):
            members.delete_contact(org.contacts[0])

    def organisation_deleted():
        m, org = _org(m0, "新しく加わった保育園")
        with _in(m):
            members.delete_organization(org)

    def network_desk_and_declaration():
        m = f.municipality(CODES[2])  # no network record in _build
        with _in(m):
            network.save_network({"name": "見本ネットワーク", "formation": "new"})
            network.save_desk({"name": "見本窓口"})
        f.declaration(m, "established", today)

    def reconfirmation_round():
        m = f.municipality(m1)
        with _in(m):
            round_ = reconfirmation.start_round(today, None)
            task = next(t for t in round_.tasks if t.organization.contacts)
            reconfirmation.complete_task(task, today)

    def bulk_update():
        m = f.municipality(CODES[3])
        with _in(m):
            db.session.execute(update(Contact).where(Contact.last_confirmed_on.is_(None))
                               .values(last_confirmed_on=today - timedelta(days=100)))

    def handovers_sent_and_answered():
        m = f.municipality(CODES[4])
        with _in(m):
            _handover(m, sent_days_ago=1, answered_after_days=None, status="sent")
            _handover(m, sent_days_ago=330, answered_after_days=4)

    def daily_counts_rebuilt():
        daily.rebuild()

    writes = [add_member, member_left, member_back_and_recategorised, contacts_added, contact_confirmed_and_edited,
              contact_removed, organisation_deleted, network_desk_and_declaration, reconfirmation_round,
              bulk_update, handovers_sent_and_answered, daily_counts_rebuilt]
    for write in writes:
        with arranged(app):
            write()
        assert_kept_equals_rebuilt(app, write.__name__)
        assert_rows_equal_counted(app, [today], write.__name__)

    # A write that is rolled back leaves the figures as they were.
    with arranged(app):
        before = _kept()
        m = f.municipality(m0)
        with _in(m):
            members.create_organization({"name": "取り消される団体", "category": "npo"})
        db.session.rollback()
        set_scope(db.session, EVERYTHING)
        assert _kept() == before
    assert_kept_equals_rebuilt(app, "rolled back")

    # Days pass without any write: the same rows, read on later (and earlier) days.
    assert_rows_equal_counted(app, [today - timedelta(days=1), today + timedelta(days=1), today + timedelta(days=31),
                                    today + timedelta(days=200), today + timedelta(days=365),
                                    today + timedelta(days=366), today + timedelta(days=800)], "days pass")


def test_a_transaction_reads_its_own_changes(app):
    today = today_jst()
    with arranged(app):
        m = f.municipality(CODES[0])
        org = f.organization(m, "見本の会", "npo")
        f.contact(org, confirmed=today)
        # Not committed yet: municipality_rows brings the figures up to date first.
        (row,) = dashboard.municipality_rows("11", today=today, municipality_id=m.id)
        assert (row.active_members, row.contacts, row.contacts_confirmed) == (1, 1, 1)


def test_the_rebuild_command_repairs_the_kept_figures(app, runner):
    from tests.test_dashboard import _handover

    today = today_jst()
    with arranged(app):
        _build(random.Random(15), today)
        _handover(f.municipality(CODES[0]), sent_days_ago=45)
    with arranged(app):
        expected = _kept()
        assert all(expected.values())
        for model in SUMMARY_MODELS:  # lost, or loaded around the application
            db.session.execute(delete(model).execution_options(synchronize_session=False))
    result = runner.invoke(args=["dashboard", "rebuild-summaries"])
    assert result.exit_code == 0, result.output
    assert "県ダッシュボードの集計" in result.output and "行を作り直しました" in result.output
    with arranged(app):
        assert _kept() == expected

"""担当者の再確認: rounds, tasks, progress, the desk's and the members' pages."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from portal.accounts.models import Role
from portal.extensions import db
from portal.timeutil import fiscal_year_label, fiscal_year_start, today_jst, twelve_months_ago, wareki
from tenants.core.audit import AuditEntry
from tenants.members.freshness import Freshness, freshness
from tenants.members.models import Contact
from tenants.models import Municipality
from tenants.reconfirmation import services
from tenants.reconfirmation.models import ReconfirmationRound, ReconfirmationTask
from tenants.scoping import TenantScopeError
from tests import factories as f
from tests.conftest import arranged, count_queries, csrf_token, form_fields, in_municipality, logged_in
from tests.support.clock import frozen_clock

DESK_INDEX = f"/m/{f.NIIZA}/reconfirmation"
MINE = f"/m/{f.NIIZA}/my/contacts"


# ---------------------------------------------------------------------------
# The 1 April rule (no database)


@pytest.mark.parametrize(
    "confirmed,today,expected",
    [
        (date(2026, 3, 31), date(2026, 3, 31), Freshness.CURRENT),
        (date(2026, 3, 31), date(2026, 4, 1), Freshness.DUE),  # 人事異動
        (date(2026, 4, 1), date(2026, 4, 1), Freshness.CURRENT),
        # Across the calendar year: the fiscal year runs April to March.
        (date(2025, 12, 15), date(2026, 1, 10), Freshness.CURRENT),
        (date(2025, 12, 15), date(2026, 3, 31), Freshness.CURRENT),
        (date(2025, 12, 15), date(2026, 4, 1), Freshness.DUE),
        (date(2025, 3, 31), date(2026, 1, 10), Freshness.DUE),
        # Twelve months, to the day.
        (date(2025, 11, 24), date(2026, 11, 23), Freshness.DUE),
        (date(2025, 11, 24), date(2026, 11, 24), Freshness.STALE),
        (date(2025, 4, 2), date(2026, 3, 31), Freshness.CURRENT),
        (date(2025, 4, 2), date(2026, 4, 2), Freshness.STALE),
        (None, date(2026, 11, 24), Freshness.STALE),
    ],
)
def test_freshness_follows_the_1_april_and_12_month_rules(confirmed, today, expected):
    assert freshness(confirmed, today) is expected


def test_freshness_dates_on_a_leap_day():
    assert twelve_months_ago(date(2028, 2, 29)) == date(2027, 2, 28)
    assert fiscal_year_start(date(2028, 2, 29)) == date(2027, 4, 1)
    assert freshness(date(2027, 2, 28), date(2028, 2, 29)) is Freshness.STALE
    assert freshness(date(2027, 3, 1), date(2028, 2, 29)) is Freshness.DUE


@pytest.mark.parametrize("now_utc,today", [
    (datetime(2026, 3, 31, 14, 59), date(2026, 3, 31)),  # 23:59 in Japan
    (datetime(2026, 3, 31, 15, 0), date(2026, 4, 1)),  # midnight in Japan, still 31 March in UTC: 人事異動 day
    (datetime(2026, 12, 31, 15, 30), date(2027, 1, 1)),
])
def test_today_is_the_date_in_japan(now_utc, today):
    with frozen_clock(now_utc):
        assert today_jst() == today


# ---------------------------------------------------------------------------
# Data


@pytest.fixture
def world(app):
    today = today_jst()
    old = today - timedelta(days=400)  # stale whatever today is
    with arranged(app):
        niiza, kawagoe = f.municipality(f.NIIZA), f.municipality(f.KAWAGOE)
        f.network(niiza)
        f.network(kawagoe)
        hoken = f.organization(niiza, "新座市保健センター", "hoken_center")
        hoiku = f.organization(niiza, "新座市立第一保育園", "hoikusho", status="suspended")
        circle = f.organization(niiza, "子育てサークルひよこ", "circle")  # no contact yet
        applying = f.organization(niiza, "申請中のNPO", "npo", status="applying")
        left = f.organization(niiza, "退会したNPO", "npo", status="left")
        other = f.organization(kawagoe, "川越市保健センター", "hoken_center")
        yamada = f.contact(hoken, "山田 花子", confirmed=old, title="母子保健係", phone="048-477-1111")
        sato = f.contact(hoken, "佐藤 一郎", confirmed=old)
        suzuki = f.contact(hoiku, "鈴木 次郎", confirmed=old)
        f.contact(applying, "申請 担当", confirmed=old)
        f.contact(left, "退会 担当", confirmed=old)
        kawagoe_contact = f.contact(other, "川越 太郎", confirmed=old)
        w = SimpleNamespace(
            today=today, old=old,
            niiza_id=niiza.id, kawagoe_id=kawagoe.id,
            hoken=hoken.id, hoiku=hoiku.id, circle=circle.id, applying=applying.id, left=left.id, other=other.id,
            yamada=yamada.id, sato=sato.id, suzuki=suzuki.id, kawagoe_contact=kawagoe_contact.id,
            desk=f.user(Role.DESK, niiza).email,
            admin=f.user(Role.ADMIN).email,
            prefecture=f.user(Role.PREFECTURE).email,
            member_hoken=f.user(Role.MEMBER, niiza, organization_=hoken).email,
            member_hoiku=f.user(Role.MEMBER, niiza, organization_=hoiku).email,
            member_circle=f.user(Role.MEMBER, niiza, organization_=circle).email,
            member_without_org=f.user(Role.MEMBER, niiza).email,
            member_kawagoe=f.user(Role.MEMBER, kawagoe, organization_=other).email,
            desk_kawagoe=f.user(Role.DESK, kawagoe).email,
        )
    return w


def desk_post(client, path, data=None):
    return client.post(path, data={"csrf_token": csrf_token(client), **(data or {})})


def member_post(client, path, data=None):
    # An edit form also carries the version it was loaded with.
    fields = form_fields(client, path) if path.endswith("/edit") else {"csrf_token": csrf_token(client)}
    return client.post(path, data={**fields, **(data or {})})


def start_round(app, w):
    client = logged_in(app, w.desk)
    response = desk_post(client, f"{DESK_INDEX}/start")
    assert response.status_code == 302
    return client


def text(html):
    """What people read: the page without its tags."""
    return re.sub(r"<[^>]+>", "", html)


def stat(html, name):
    match = re.search(rf'data-testid="{name}">(\d+)(?: <span class="stat__unit">/ (\d+))?', html)
    assert match, name
    return tuple(int(g) for g in match.groups() if g is not None)


def contact_row(app, contact_id):
    with arranged(app):
        c = db.session.get(Contact, contact_id)
        return SimpleNamespace(**{k: getattr(c, k) for k in ("name", "title", "phone", "last_confirmed_on")})


def audit_entries(app, **where):
    with arranged(app):
        q = select(AuditEntry).order_by(AuditEntry.id)
        for k, v in where.items():
            q = q.where(getattr(AuditEntry, k) == v)
        return [SimpleNamespace(action=e.action, entity=e.entity, entity_id=e.entity_id, changes=e.changes,
                                user_id=e.user_id, municipality_id=e.municipality_id)
                for e in db.session.scalars(q)]


# ---------------------------------------------------------------------------
# Rounds


def test_starting_a_round_creates_tasks_for_active_and_suspended_organisations_only(app, world):
    client = start_round(app, world)
    with arranged(app):
        rounds = db.session.scalars(select(ReconfirmationRound)).all()
        assert len(rounds) == 1
        assert rounds[0].started_on == world.today and rounds[0].closed_at is None
        assert rounds[0].municipality_id == world.niiza_id
        org_ids = set(db.session.scalars(select(ReconfirmationTask.organization_id)))
    assert org_ids == {world.hoken, world.hoiku, world.circle}
    [entry] = audit_entries(app, entity="reconfirmation_round")
    assert entry.action == "start" and entry.changes["tasks"] == 3 and entry.user_id is not None
    html = client.get(DESK_INDEX).get_data(as_text=True)
    assert "担当者の再確認を始めました。3団体に確認をお願いしています。" in html
    assert "0 / 3 団体が確認済み" in html


def test_a_second_round_is_refused_while_one_is_open(app, world):
    client = start_round(app, world)
    response = desk_post(client, f"{DESK_INDEX}/start")
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "再確認がまだ終わっていません" in html and "先にそのラウンドを終了してください" in html
    with arranged(app):
        assert db.session.scalar(select(func.count(ReconfirmationRound.id))) == 1
        assert db.session.scalar(select(func.count(ReconfirmationTask.id))) == 3


def test_the_service_refuses_a_second_round_and_needs_a_municipality(app, world):
    with in_municipality(app):
        services.start_round(world.today, None)
    with in_municipality(app), pytest.raises(services.ReconfirmationError, match="まだ終わっていません"):
        services.start_round(world.today, None)
    # Another municipality's open round does not block this one.
    with in_municipality(app, f.KAWAGOE):
        kawagoe_round = services.start_round(world.today, None)
        assert [t.organization_id for t in kawagoe_round.tasks] == [world.other]
    # everything-scope: which municipality would it be?
    with arranged(app), pytest.raises(TenantScopeError):
        services.start_round(world.today, None)


def test_a_round_is_started_by_the_desk_with_the_1_april_rule_explained(app, world):
    client = logged_in(app, world.desk)
    html = client.get(DESK_INDEX).get_data(as_text=True)
    assert "毎年4月1日に、すべての担当者の確認が必要になります" in html
    assert "再確認を始める" in html
    # Five contacts of active/suspended organisations? No: three (applying and left do not count).
    assert stat(html, "count-stale") == (3,)
    assert stat(html, "count-due") == (0,)
    assert stat(html, "count-current") == (0, 3)


def test_freshness_counts_in_sql_agree_with_the_rule(app, world):
    confirmed_dates = [None, date(2025, 3, 31), date(2025, 4, 1), date(2025, 11, 24), date(2025, 11, 25),
                       date(2026, 3, 31), date(2026, 4, 1), date(2026, 11, 24)]
    with arranged(app):
        org = f.organization(db.session.get(Municipality, world.niiza_id), "日付の団体", "npo")
        for i, d in enumerate(confirmed_dates):
            f.contact(org, f"日付 {i}号", confirmed=d)
    # The world's three old contacts of taking-part organisations count too.
    all_dates = confirmed_dates + [world.old] * 3
    for today in (date(2026, 3, 31), date(2026, 4, 1), date(2026, 11, 24), date(2027, 1, 5), world.today):
        with in_municipality(app):
            counts = services.freshness_counts(today)
        expected = Counter(freshness(d, today).value for d in all_dates)
        assert (counts.stale, counts.due, counts.current, counts.total) == (
            expected["stale"], expected["due"], expected["current"], len(all_dates)
        ), today


# ---------------------------------------------------------------------------
# Progress


def test_progress_counts_change_as_contacts_are_confirmed_by_desk_and_member(app, world):
    desk = start_round(app, world)
    html = desk.get(DESK_INDEX).get_data(as_text=True)
    assert stat(html, "stat-completed") == (0, 3)
    assert stat(html, "stat-contacts") == (0, 3)
    assert '<progress class="rc-progress__bar" max="3" value="0"' in html

    # The desk phones the nursery and confirms its only contact.
    assert desk_post(desk, f"{DESK_INDEX}/contacts/{world.suzuki}/confirm").status_code == 302
    assert contact_row(app, world.suzuki).last_confirmed_on == world.today
    html = desk.get(DESK_INDEX).get_data(as_text=True)
    assert "1 / 3 団体が確認済み（33%）" in html
    assert stat(html, "stat-contacts") == (1, 3)

    # The health centre's member confirms one of its two contacts: not complete yet.
    member = logged_in(app, world.member_hoken)
    assert member_post(member, f"{MINE}/{world.yamada}/confirm").status_code == 302
    html = desk.get(DESK_INDEX).get_data(as_text=True)
    assert stat(html, "stat-completed") == (1, 3)
    assert stat(html, "stat-contacts") == (2, 3)
    # ... then the second one.
    member_post(member, f"{MINE}/{world.sato}/confirm")
    html = desk.get(DESK_INDEX).get_data(as_text=True)
    assert "2 / 3 団体が確認済み（66%）" in html
    assert stat(html, "stat-remaining") == (1,)

    # Only unfinished: the circle without contacts is the one left.
    html = desk.get(f"{DESK_INDEX}?show=unfinished").get_data(as_text=True)
    table = html.split('data-testid="progress-table"')[1]
    assert "子育てサークルひよこ" in table
    assert "新座市保健センター" not in table and "新座市立第一保育園" not in table
    assert "0 / 0人<span class=\"rc-table__sub\">未登録</span>" in table


def test_task_state_follows_the_contacts(app, world):
    with in_municipality(app):
        round_ = services.start_round(world.today, None)
        tasks = {t.organization_id: t for t in round_.tasks}
        assert services.task_state(tasks[world.hoken]) == services.TaskState(confirmed=0, total=2, complete=False)
        assert services.task_state(tasks[world.circle]).complete is False  # nobody to confirm is not "done"
        from tenants.members import services as members

        members.confirm_contact(db.session.get(Contact, world.yamada), world.today)
        members.confirm_contact(db.session.get(Contact, world.sato), world.today)
        assert services.task_state(tasks[world.hoken]) == services.TaskState(confirmed=2, total=2, complete=True)
        assert services.open_task_for(tasks[world.hoken].organization) is tasks[world.hoken]


def test_desk_sees_an_organisations_contacts_and_can_confirm_them(app, world):
    desk = start_round(app, world)
    with arranged(app):
        task_id = db.session.scalar(select(ReconfirmationTask.id).where(ReconfirmationTask.organization_id == world.hoken))
    html = desk.get(f"{DESK_INDEX}/tasks/{task_id}").get_data(as_text=True)
    assert "山田 花子" in html and "048-477-1111" in html and "12か月以上未確認" in html
    response = desk_post(desk, f"{DESK_INDEX}/contacts/{world.yamada}/confirm")
    assert response.headers["Location"].endswith(f"/reconfirmation/tasks/{task_id}")
    html = desk.get(f"{DESK_INDEX}/tasks/{task_id}").get_data(as_text=True)
    assert "この再確認で確認済み" in html and "1 / 2人" in html
    [entry] = audit_entries(app, entity="contact", action="confirm")
    assert entry.entity_id == world.yamada
    assert entry.changes == {"last_confirmed_on": [world.old.isoformat(), world.today.isoformat()]}


def test_desk_cannot_confirm_or_see_another_municipalitys_contact_or_task(app, world):
    with in_municipality(app, f.KAWAGOE):
        kawagoe_task = services.start_round(world.today, None).tasks[0].id
    desk = logged_in(app, world.desk)
    assert desk_post(desk, f"{DESK_INDEX}/contacts/{world.kawagoe_contact}/confirm").status_code == 404
    assert desk.get(f"{DESK_INDEX}/tasks/{kawagoe_task}").status_code == 404
    assert desk_post(desk, f"/m/{f.KAWAGOE}/reconfirmation/contacts/{world.kawagoe_contact}/confirm").status_code == 404
    assert contact_row(app, world.kawagoe_contact).last_confirmed_on == world.old


def test_the_progress_page_uses_the_same_number_of_queries_for_3_and_30_organisations(app, world):
    desk = start_round(app, world)
    desk.get(DESK_INDEX)
    with count_queries(app) as few:
        html = desk.get(DESK_INDEX).get_data(as_text=True)
    assert "0 / 3 団体が確認済み" in html
    with arranged(app):
        niiza = db.session.get(Municipality, world.niiza_id)
        round_id = db.session.scalar(select(ReconfirmationRound.id))
        for i in range(27):
            org = f.organization(niiza, f"追加の団体{i}", "npo")
            f.contact(org, f"担当 甲{i}", confirmed=world.old)
            f.contact(org, f"担当 乙{i}", confirmed=world.today)
            db.session.add(ReconfirmationTask(round_id=round_id, organization_id=org.id, municipality_id=niiza.id))
    with count_queries(app) as more:
        html = desk.get(DESK_INDEX).get_data(as_text=True)
    assert "0 / 30 団体が確認済み" in html
    assert stat(html, "stat-contacts") == (27, 57)
    assert len(more) == len(few)
    with count_queries(app) as filtered:
        desk.get(f"{DESK_INDEX}?show=unfinished")
    assert len(filtered) == len(few)
    assert len(few) <= 8


def test_round_progress_is_one_query(app, world):
    with in_municipality(app):
        round_ = services.start_round(world.today, None)
        db.session.flush()
        with count_queries(app) as statements:
            progress = services.round_progress(round_)
        assert len(statements) == 1
        assert (progress.tasks, progress.completed, progress.contacts_confirmed, progress.contacts_total) == (3, 0, 0, 3)
        assert {r.name: (r.confirmed, r.total, r.complete) for r in progress.rows} == {
            "新座市保健センター": (0, 2, False), "新座市立第一保育園": (0, 1, False), "子育てサークルひよこ": (0, 0, False),
        }


# ---------------------------------------------------------------------------
# Closing


def test_closing_a_round_freezes_its_numbers_and_lists_it_with_wareki_dates(app, world):
    desk = start_round(app, world)
    desk_post(desk, f"{DESK_INDEX}/contacts/{world.suzuki}/confirm")
    with arranged(app):
        round_id = db.session.scalar(select(ReconfirmationRound.id))
    response = desk_post(desk, f"{DESK_INDEX}/{round_id}/close")
    assert response.status_code == 302
    html = desk.get(DESK_INDEX).get_data(as_text=True)
    assert "再確認を終了しました（1 / 3 団体が確認済み）。" in html
    past = html.split('data-testid="past-rounds"')[1]
    assert fiscal_year_label(world.today) in past
    assert wareki(world.today) in past
    assert "1 / 3 団体" in past
    # The intro is back: a new round may start.
    assert "再確認を始める" in html

    # Later confirmations do not change a closed round.
    member = logged_in(app, world.member_hoken)
    member_post(member, f"{MINE}/{world.yamada}/confirm")
    member_post(member, f"{MINE}/{world.sato}/confirm")
    past = desk.get(DESK_INDEX).get_data(as_text=True).split('data-testid="past-rounds"')[1]
    assert "1 / 3 団体" in past
    # ... and the member no longer sees a request.
    assert 'data-testid="task-banner"' not in member.get(MINE).get_data(as_text=True)

    [start, close] = audit_entries(app, entity="reconfirmation_round")
    assert (start.action, close.action) == ("start", "close")
    assert close.changes["completed"] == 1 and close.changes["tasks"] == 3

    # Closing twice is refused; a new round can start.
    response = desk_post(desk, f"{DESK_INDEX}/{round_id}/close")
    assert response.status_code == 409 and "既に終了しています" in response.get_data(as_text=True)
    assert desk_post(desk, f"{DESK_INDEX}/start").status_code == 302


def test_closing_another_municipalitys_round_is_404(app, world):
    with in_municipality(app, f.KAWAGOE):
        kawagoe_round = services.start_round(world.today, None).id
    desk = logged_in(app, world.desk)
    assert desk_post(desk, f"{DESK_INDEX}/{kawagoe_round}/close").status_code == 404
    with arranged(app):
        assert db.session.get(ReconfirmationRound, kawagoe_round).closed_at is None


# ---------------------------------------------------------------------------
# Members


def test_member_page_shows_only_the_members_own_organisation(app, world):
    member = logged_in(app, world.member_hoken)
    html = member.get(MINE).get_data(as_text=True)
    assert "新座市保健センター" in html
    assert "山田 花子" in html and "佐藤 一郎" in html
    assert "鈴木 次郎" not in html and "川越 太郎" not in html and "申請 担当" not in html
    assert "12か月以上未確認" in html
    assert 'data-testid="task-banner"' not in html  # no round yet
    assert 'aria-current="page">担当者の確認' in html


def test_member_sees_the_task_and_completes_it_in_one_go(app, world):
    start_round(app, world)
    member = logged_in(app, world.member_hoken)
    html = member.get(MINE).get_data(as_text=True)
    assert f"再確認のお願い（{fiscal_year_label(world.today)}）: 担当者の情報を確認してください" in text(html)
    assert "確認済み 0 / 2人" in html
    response = member_post(member, f"{MINE}/complete", {"contact_id": [world.yamada, world.sato]})
    assert response.status_code == 302
    assert contact_row(app, world.yamada).last_confirmed_on == world.today
    assert contact_row(app, world.sato).last_confirmed_on == world.today
    with arranged(app):
        task = db.session.scalar(select(ReconfirmationTask).where(ReconfirmationTask.organization_id == world.hoken))
        assert task.completed_at is not None and task.completed_by_id is not None
    html = member.get(MINE).get_data(as_text=True)
    assert "ご確認ありがとうございました" in html
    assert [e.action for e in audit_entries(app, entity="contact", action="confirm")] == ["confirm", "confirm"]
    assert len(audit_entries(app, entity="reconfirmation_task", action="complete")) == 1
    desk = logged_in(app, world.desk)
    assert "1 / 3 団体が確認済み" in desk.get(DESK_INDEX).get_data(as_text=True)


def test_an_organisation_without_contacts_cannot_complete(app, world):
    start_round(app, world)
    member = logged_in(app, world.member_circle)
    html = member.get(MINE).get_data(as_text=True)
    assert "担当者を1人以上登録してください。" in html
    response = member_post(member, f"{MINE}/complete")
    assert response.status_code == 409
    assert "担当者を1人以上登録してください。" in response.get_data(as_text=True)
    with arranged(app):
        task = db.session.scalar(select(ReconfirmationTask).where(ReconfirmationTask.organization_id == world.circle))
        assert task.completed_at is None
    # After adding a contact it can.
    response = member_post(member, f"{MINE}/new", {"name": "新井 さくら", "phone": "048-481-2211"})
    assert response.status_code == 302
    with arranged(app):
        new_id = db.session.scalar(select(Contact.id).where(Contact.organization_id == world.circle))
    assert contact_row(app, new_id).last_confirmed_on == world.today
    assert member_post(member, f"{MINE}/complete", {"contact_id": [new_id]}).status_code == 302


def test_completing_with_an_outdated_list_confirms_nothing(app, world):
    start_round(app, world)
    member = logged_in(app, world.member_hoken)
    response = member_post(member, f"{MINE}/complete", {"contact_id": [world.yamada]})  # sato not seen
    assert response.status_code == 409
    assert "担当者の一覧が変わりました" in response.get_data(as_text=True)
    assert contact_row(app, world.yamada).last_confirmed_on == world.old
    assert contact_row(app, world.sato).last_confirmed_on == world.old


def test_complete_task_service_refuses_without_contacts_and_in_closed_rounds(app, world):
    with in_municipality(app):
        round_ = services.start_round(world.today, None)
        tasks = {t.organization_id: t for t in round_.tasks}
        with pytest.raises(services.ReconfirmationError, match="担当者を1人以上登録してください。"):
            services.complete_task(tasks[world.circle], world.today)
        services.complete_task(tasks[world.hoken], world.today)
        assert all(c.last_confirmed_on == world.today for c in tasks[world.hoken].organization.contacts)
        services.close_round(round_)
        with pytest.raises(services.ReconfirmationError, match="既に終了"):
            services.complete_task(tasks[world.hoiku], world.today)


def test_member_cannot_reach_another_organisations_contact(app, world):
    member = logged_in(app, world.member_hoken)
    # Same municipality, another organisation.
    assert member_post(member, f"{MINE}/{world.suzuki}/confirm").status_code == 404
    assert member.get(f"{MINE}/{world.suzuki}/edit").status_code == 404
    assert member_post(member, f"{MINE}/{world.suzuki}/edit", {"name": "乗っ取り", "phone": ""}).status_code == 404
    assert member_post(member, f"{MINE}/{world.suzuki}/delete").status_code == 404
    # Another municipality's contact, through this municipality's URL and through its own.
    assert member_post(member, f"{MINE}/{world.kawagoe_contact}/confirm").status_code == 404
    assert member.get(f"{MINE}/{world.kawagoe_contact}/edit").status_code == 404
    kawagoe_mine = f"/m/{f.KAWAGOE}/my/contacts"
    assert member_post(member, f"{kawagoe_mine}/{world.kawagoe_contact}/confirm").status_code == 404
    assert member_post(member, f"{kawagoe_mine}/{world.kawagoe_contact}/edit", {"name": "乗っ取り"}).status_code == 404
    assert member.get(kawagoe_mine).status_code == 404
    assert contact_row(app, world.suzuki).name == "鈴木 次郎"
    assert contact_row(app, world.suzuki).last_confirmed_on == world.old
    assert contact_row(app, world.kawagoe_contact).last_confirmed_on == world.old
    assert audit_entries(app, action="confirm") == []


def test_member_of_another_municipality_cannot_enter(app, world):
    member = logged_in(app, world.member_kawagoe)
    assert member.get(MINE).status_code == 404
    assert member.get(f"/m/{f.KAWAGOE}/my/contacts").status_code == 200


def test_member_without_an_organisation_gets_404(app, world):
    member = logged_in(app, world.member_without_org)
    assert member.get(MINE).status_code == 404
    assert member.get(f"{MINE}/new").status_code == 404


@pytest.mark.parametrize("who", ["prefecture", "member_hoken"])
def test_desk_pages_are_403_for_prefecture_and_members(app, world, who):
    with in_municipality(app):
        round_ = services.start_round(world.today, None)
        round_id, task_id = round_.id, round_.tasks[0].id
    client = logged_in(app, getattr(world, who))
    token = csrf_token(client)
    assert client.get(DESK_INDEX).status_code == 403
    assert client.get(f"{DESK_INDEX}/tasks/{task_id}").status_code == 403
    for path in ("start", f"{round_id}/close", f"contacts/{world.yamada}/confirm"):
        assert client.post(f"{DESK_INDEX}/{path}", data={"csrf_token": token}).status_code == 403, path
    with arranged(app):
        assert db.session.get(ReconfirmationRound, round_id).closed_at is None
    assert contact_row(app, world.yamada).last_confirmed_on == world.old


@pytest.mark.parametrize("who", ["desk", "admin", "prefecture"])
def test_member_pages_are_403_for_everyone_else(app, world, who):
    client = logged_in(app, getattr(world, who))
    token = csrf_token(client)
    assert client.get(MINE).status_code == 403
    assert client.get(f"{MINE}/new").status_code == 403
    assert client.get(f"{MINE}/{world.yamada}/edit").status_code == 403
    assert client.post(f"{MINE}/{world.yamada}/confirm", data={"csrf_token": token}).status_code == 403
    assert client.post(f"{MINE}/complete", data={"csrf_token": token}).status_code == 403


def test_admin_may_use_the_desk_pages(app, world):
    admin = logged_in(app, world.admin)
    assert admin.get(DESK_INDEX).status_code == 200
    assert desk_post(admin, f"{DESK_INDEX}/start").status_code == 302


def test_the_menu_links_each_role_to_its_page(app, world):
    desk_html = logged_in(app, world.desk).get(DESK_INDEX).get_data(as_text=True)
    member_html = logged_in(app, world.member_hoken).get(MINE).get_data(as_text=True)
    assert f'<a href="{DESK_INDEX}" aria-current="page">担当者の確認</a>' in desk_html
    assert f'href="{MINE}"' not in desk_html
    assert f'<a href="{MINE}" aria-current="page">担当者の確認</a>' in member_html
    assert f'href="{DESK_INDEX}"' not in member_html


# ---------------------------------------------------------------------------
# Editing, adding, removing


def test_editing_a_contact_is_audited_and_counts_as_confirming(app, world):
    member = logged_in(app, world.member_hoken)
    assert member.get(f"{MINE}/{world.yamada}/edit").status_code == 200
    response = member_post(member, f"{MINE}/{world.yamada}/edit", {
        "name": "山田 花子", "name_kana": "ヤマダ ハナコ", "title": "子育て支援係長", "phone": "０４８－４７７－１１１１",
        "email": "", "reachable_hours": "平日 9時〜17時", "is_primary": "y",
    })
    assert response.status_code == 302
    row = contact_row(app, world.yamada)
    assert row.title == "子育て支援係長" and row.phone == "048-477-1111"
    assert row.last_confirmed_on == world.today
    [entry] = audit_entries(app, entity="contact", action="update")
    assert entry.entity_id == world.yamada and entry.user_id is not None
    assert entry.changes["title"] == ["母子保健係", "子育て支援係長"]
    assert entry.changes["name_kana"] == ["", "やまだ はなこ"]
    assert entry.changes["last_confirmed_on"] == [world.old.isoformat(), world.today.isoformat()]
    assert "phone" not in entry.changes  # the same number, only written differently


def test_an_invalid_phone_number_shows_a_japanese_message_and_changes_nothing(app, world):
    member = logged_in(app, world.member_hoken)
    response = member_post(member, f"{MINE}/{world.yamada}/edit", {
        "name": "山田 花子", "title": "書き換えようとした役職", "phone": "12345",
    })
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "電話番号「12345」" in html and "市外局番から入力してください" in html
    assert 'class="field__error" id="phone-error"' in html
    assert 'value="書き換えようとした役職"' in html  # what was typed is kept for correcting
    row = contact_row(app, world.yamada)
    assert (row.title, row.phone, row.last_confirmed_on) == ("母子保健係", "048-477-1111", world.old)
    assert audit_entries(app, entity="contact", action="update") == []


def test_an_empty_name_and_a_duplicate_name_are_refused(app, world):
    member = logged_in(app, world.member_hoken)
    response = member_post(member, f"{MINE}/{world.yamada}/edit", {"name": "  "})
    assert response.status_code == 400 and "氏名を入力してください。" in response.get_data(as_text=True)
    response = member_post(member, f"{MINE}/new", {"name": "佐藤　一郎"})  # full-width space
    assert response.status_code == 400
    assert "「佐藤 一郎」さんは既にこの団体の担当者です。" in response.get_data(as_text=True)
    with arranged(app):
        assert db.session.scalar(select(func.count(Contact.id)).where(Contact.organization_id == world.hoken)) == 2


def test_a_post_without_csrf_token_changes_nothing(app, world):
    member = logged_in(app, world.member_hoken)
    response = member.post(f"{MINE}/{world.yamada}/confirm")
    assert response.status_code == 400
    assert contact_row(app, world.yamada).last_confirmed_on == world.old


def test_member_adds_and_removes_contacts_but_never_the_last_one(app, world):
    member = logged_in(app, world.member_hoiku)
    response = member_post(member, f"{MINE}/{world.suzuki}/delete")
    assert response.status_code == 409
    assert "担当者が1人もいなくなるため削除できません" in response.get_data(as_text=True)
    assert member_post(member, f"{MINE}/new", {"name": "高橋 三郎", "is_primary": "y"}).status_code == 302
    assert member_post(member, f"{MINE}/{world.suzuki}/delete").status_code == 302
    with arranged(app):
        contacts = db.session.scalars(select(Contact).where(Contact.organization_id == world.hoiku)).all()
        assert [(c.name, c.is_primary, c.last_confirmed_on) for c in contacts] == [("高橋 三郎", True, world.today)]
    actions = [(e.action, e.entity) for e in audit_entries(app, entity="contact")]
    assert ("create", "contact") in actions and ("delete", "contact") in actions

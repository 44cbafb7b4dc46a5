"""Issue 6: the prefecture dashboard, status declarations, 応援タウン, activities."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

import openpyxl
import pytest
from sqlalchemy import func, select

from dashboard import services
from portal.accounts.models import Role
from portal.extensions import db
from portal.timeutil import today_jst, utcnow
from tenants import municipalities
from tenants.activities.models import NetworkActivity
from tenants.handovers import daily
from tenants.rollout.models import NetworkStatusDeclaration, TownCertification
from tests import factories as f
from tests.conftest import arranged, count_queries, csrf_token, form_fields, login

SECRET_CONTACT = "秘密野 花子"
SECRET_CONTACT_KANA = "ひみつの はなこ"
SECRET_EMAIL = "hanako.secret@private.example.jp"
SECRET_PHONE = "048-999-7777"
SECRET_ORG_EMAIL = "org.secret@private.example.jp"
SECRET_SUMMARY = "秘匿太郎くんの発達について母親が相談"
SECRET_MESSAGE = "至急ご連絡ください秘匿メッセージ"
SECRET_CASE = "CASE-SECRET-4711"


def _handover(municipality_, *, sent_days_ago: int = 10, due_days: int = 3, answered_after_days: float | None = 1,
              summary: str = "相談の概要", message: str = "", status: str = "accepted"):
    from tenants.handovers.models import Consultation, Handover

    sent = utcnow() - timedelta(days=sent_days_ago)
    c = Consultation(municipality_id=municipality_.id, category="development", age_band="age1_2",
                     consent="given", summary=summary, case_reference=SECRET_CASE, hop_count=1)
    db.session.add(c)
    db.session.flush()
    h = Handover(municipality_id=municipality_.id, consultation_id=c.id, status=status, message=message,
                 sent_at=sent, response_due_at=sent + timedelta(days=due_days),
                 first_response_at=None if answered_after_days is None else sent + timedelta(days=answered_after_days))
    db.session.add(h)
    db.session.flush()
    # What the services do when a handover is sent and first answered.
    daily.count_sent(h)
    if h.first_response_at is not None:
        daily.count_first_response(h)
    return h


@pytest.fixture
def saitama(app):
    with arranged(app):
        niiza, saitama_city = f.saitama(niiza_declared=date(2009, 7, 1), saitama_declared=date(2009, 4, 1))
        org = f.organization(niiza, "新座市保健センター", "hoken_center", email=SECRET_ORG_EMAIL)
        f.contact(org, SECRET_CONTACT, name_kana=SECRET_CONTACT_KANA, email=SECRET_EMAIL, phone=SECRET_PHONE)
        member_org = f.organization(niiza, "新座市立見本小学校", "shogakko")
        f.contact(member_org, "見本 次郎", confirmed=date(2020, 1, 1))
        _handover(niiza, summary=SECRET_SUMMARY, message=SECRET_MESSAGE)
        return {
            "desk": f.user(Role.DESK, niiza).email,
            "other_desk": f.user(Role.DESK, saitama_city).email,
            "member": f.user(Role.MEMBER, niiza, organization_=member_org).email,
            "prefecture": f.user(Role.PREFECTURE).email,
            "admin": f.user(Role.ADMIN).email,
        }


DASHBOARD_PAGES = ["/dashboard/", "/dashboard/m/112305", "/dashboard/export.csv", "/dashboard/export.xlsx"]


# --- who may see it ---------------------------------------------------------------


def test_anonymous_users_are_sent_to_login(client, saitama):
    for path in DASHBOARD_PAGES:
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/login?next="), path


@pytest.mark.parametrize("role", ["desk", "member"])
def test_desk_and_member_users_are_refused(client, saitama, role):
    login(client, saitama[role])
    for path in DASHBOARD_PAGES:
        assert client.get(path).status_code == 403, path
    token = csrf_token(client)
    response = client.post("/dashboard/m/112305/status",
                           data={"status": "not_started", "declared_on": "2026-01-01", "csrf_token": token})
    assert response.status_code == 403


@pytest.mark.parametrize("role", ["prefecture", "admin"])
def test_prefecture_officials_and_admins_see_it(client, saitama, role):
    login(client, saitama[role])
    for path in DASHBOARD_PAGES:
        assert client.get(path).status_code == 200, path


def test_prefecture_officials_do_not_reach_municipal_pages(client, saitama):
    login(client, saitama["prefecture"])
    for path in ("/m/112305/status", "/m/112305/activities", "/m/112305/members"):
        assert client.get(path).status_code == 403, path


def test_a_municipality_of_another_prefecture_is_404(client, saitama, app):
    with arranged(app):
        f.municipality("131016")  # 千代田区
    login(client, saitama["prefecture"])
    assert client.get("/dashboard/m/131016").status_code == 404
    assert client.get("/dashboard/m/999999").status_code == 404
    assert "千代田区" not in client.get("/dashboard/").get_data(as_text=True)


# --- no personal data ---------------------------------------------------------------


def _texts(client):
    for path in ["/dashboard/", "/dashboard/m/112305", "/dashboard/?q=にいざ", "/dashboard/?sort=contacts&order=desc",
                 "/dashboard/export.csv"]:
        yield path, client.get(path).get_data().decode("utf-8-sig")
    book = openpyxl.load_workbook(io.BytesIO(client.get("/dashboard/export.xlsx").data))
    yield "xlsx", "\n".join(str(c.value) for row in book.active.iter_rows() for c in row if c.value is not None)


def test_no_personal_data_in_any_dashboard_response(client, saitama):
    login(client, saitama["prefecture"])
    secrets = [SECRET_CONTACT, "秘密野", SECRET_CONTACT_KANA, SECRET_EMAIL, SECRET_PHONE, SECRET_ORG_EMAIL,
               SECRET_SUMMARY, "秘匿", SECRET_MESSAGE, SECRET_CASE, "見本 次郎"]
    seen = 0
    for path, text in _texts(client):
        seen += 1
        for secret in secrets:
            assert secret not in text, (path, secret)
    assert seen == 6


def test_the_figures_do_show_up(client, saitama):
    login(client, saitama["prefecture"])
    html = client.get("/dashboard/m/112305").get_data(as_text=True)
    assert "新座市子育てネットワーク推進委員会" in html
    evidence = html.split('data-testid="evidence"')[1].split("</dl>")[0]
    assert re.search(r"活動中の構成員</dt><dd>2 ", evidence)
    assert "1 / 2 人" in evidence  # one of two contacts confirmed within 12 months
    assert "1 / 1 件" in evidence  # one handover answered on time


# --- declarations -------------------------------------------------------------------


def _headline(client):
    html = client.get("/dashboard/").get_data(as_text=True)
    established = re.search(r'data-testid="headline-established">(\d+) <span class="stat__unit">/ (\d+)', html)
    return int(established.group(1)), int(established.group(2)), html


def test_prefecture_official_changes_a_status_and_the_headline_moves(client, saitama, app):
    login(client, saitama["prefecture"])
    assert _headline(client)[:2] == (2, 63)
    response = client.post("/dashboard/m/112011/status",
                           data={"status": "established", "declared_on": "2026-04-01", "note": "県が聞き取り",
                                 **form_fields(client, "/dashboard/m/112011")})
    assert response.status_code == 302
    assert response.headers["Location"] == "/dashboard/m/112011"
    established, total, html = _headline(client)
    assert (established, total) == (3, 63)
    assert '"x":["2009-04-01","2009-07-01","2026-04-01"' in html.replace("\\u003c", "<")  # the chart moved too
    page = client.get("/dashboard/m/112011").get_data(as_text=True)
    assert "県が聞き取り" in page and "設置済" in page
    # 川越市 is 設置済 without any record: flagged.
    assert "ネットワークの記録がありません" in page


def test_declarations_keep_their_history_and_the_latest_counts(client, saitama, app):
    login(client, saitama["desk"])
    token = csrf_token(client)
    for status, day in (("preparing", "2024-01-10"), ("not_started", "2025-02-01")):
        response = client.post("/m/112305/status", data={"status": status, "declared_on": day,
                                                         **form_fields(client, "/m/112305/status")})
        assert response.status_code == 302
    # A back-dated declaration is history, not the current status.
    client.post("/m/112305/status", data={"status": "preparing", "declared_on": "2008-01-01",
                                          **form_fields(client, "/m/112305/status")})
    html = client.get("/m/112305/status").get_data(as_text=True)
    history = html.split('data-testid="declaration-history"')[1]
    assert history.count("<tr>") == 5  # header + 4 declarations
    assert "未着手" in html.split('data-testid="current-status"')[1].split("</p>")[0]
    with app.app_context():
        from tenants.scoping import EVERYTHING, set_scope

        set_scope(db.session, EVERYTHING)
        row = services.municipality_rows("11", municipality_id=f.municipality(f.NIIZA).id)[0]
        assert row.status == "not_started" and row.declared_on == date(2025, 2, 1)
        # Network record and members but 未着手: flagged.
        assert row.flags == ("ネットワークの記録と構成員がありますが、未着手と申告されています",)
    client.post("/logout", data={"csrf_token": token})
    login(client, saitama["prefecture"])
    assert _headline(client)[0] == 1


def test_a_desk_declares_only_for_its_own_municipality(client, saitama, app):
    login(client, saitama["desk"])
    token = csrf_token(client)
    response = client.post("/m/111007/status", data={"status": "not_started", "declared_on": "2026-01-01",
                                                     "csrf_token": token})
    assert response.status_code == 404
    with arranged(app):
        assert db.session.scalar(select(func.count(NetworkStatusDeclaration.id))) == 2


def test_bad_declarations_are_refused_with_nothing_stored(client, saitama, app):
    login(client, saitama["prefecture"])
    fields = form_fields(client, "/dashboard/m/112011")
    future = (today_jst() + timedelta(days=3)).isoformat()
    cases = [
        ({"status": "established", "declared_on": future}, "日付に未来の日付は入力できません。"),
        ({"status": "established", "declared_on": ""}, "日付を入力してください。"),
        ({"status": "established", "declared_on": "2026-13-45"}, "日付は 2026-05-20 のように入力してください。"),
        ({"status": "done", "declared_on": "2026-01-01"}, "選択"),
    ]
    for data, message in cases:
        response = client.post("/dashboard/m/112011/status", data={**data, **fields})
        assert response.status_code == 400, data
        if message != "選択":
            assert message in response.get_data(as_text=True), data
    with arranged(app):
        assert db.session.scalar(select(func.count(NetworkStatusDeclaration.id))) == 2


# --- 応援タウン ----------------------------------------------------------------------


def test_town_checklist_is_kept_with_its_history(client, saitama, app):
    login(client, saitama["prefecture"])
    fields = form_fields(client, "/dashboard/m/112305")
    bad = client.post("/dashboard/m/112305/town", data={"one_stop_desk": "y", "certified_on": "2020-04-01",
                                                         **fields})
    assert bad.status_code == 400
    assert "3つの要件すべてにチェック" in bad.get_data(as_text=True)
    ok = client.post("/dashboard/m/112305/town", data={"one_stop_desk": "y", "support_hubs": "y", "network": "y",
                                                        "certified_on": "2020-04-01", **fields})
    assert ok.status_code == 302
    client.post("/dashboard/m/112305/town", data={"one_stop_desk": "y", "support_hubs": "y", "network": "y",
                                                  "certified_on": "2020-04-01", "note": "更新",
                                                  **form_fields(client, "/dashboard/m/112305")})
    html = client.get("/dashboard/m/112305").get_data(as_text=True)
    assert "令和2年4月1日" in html
    history = html.split('data-testid="town-history"')[1]
    assert history.count("<tr>") == 3  # header, create, update
    assert "メモ: （なし） → 更新" in history
    assert "認定" in client.get("/dashboard/?q=新座").get_data(as_text=True)
    with arranged(app):
        town = db.session.scalar(select(TownCertification))
        assert town.met_count == 3 and town.certified_on == date(2020, 4, 1)


# --- evidence and flags -------------------------------------------------------------


def _row(**kw):
    base = dict(id=1, code="112305", name="新座市", kana="にいざし", kind="市", kind_label="市", is_city=True,
                latitude=35.8, longitude=139.5, network_name="N", established_on=None, declared_status="established",
                declared_on=date(2010, 1, 1), active_members=3, contacts=3, contacts_confirmed=3, activities_12m=1)
    base.update(kw)
    return services.MunicipalityRow(**base)


@pytest.mark.parametrize("kw, expected", [
    ({}, ()),
    ({"network_name": None}, ("設置済と申告されていますが、ネットワークの記録がありません",)),
    ({"active_members": 0, "contacts": 0, "contacts_confirmed": 0},
     ("設置済と申告されていますが、活動中の構成員がいません",)),
    ({"activities_12m": 0, "contacts_confirmed": 0},
     ("設置済と申告されていますが、12か月間、活動の記録も担当者の確認もありません",)),
    ({"declared_status": "not_started"}, ("ネットワークの記録と構成員がありますが、未着手と申告されています",)),
    ({"declared_status": None, "declared_on": None},
     ("ネットワークの記録と構成員がありますが、設置状況が申告されていません",)),
    ({"declared_status": "preparing"}, ()),
    ({"declared_status": "not_started", "active_members": 0}, ()),
    ({"declared_status": "not_started", "network_name": None}, ()),
])
def test_flags_where_declaration_and_evidence_disagree(kw, expected):
    assert services.disagreements(_row(**kw)) == expected


def test_evidence_counts_only_the_last_12_months(app, saitama):
    today = today_jst()
    with arranged(app):
        niiza = f.municipality(f.NIIZA)
        f.activity(niiza, today - timedelta(days=30))
        f.activity(niiza, today - timedelta(days=400), title="昔の会")
        _handover(niiza, sent_days_ago=20, due_days=3, answered_after_days=5)  # late
        _handover(niiza, sent_days_ago=5, due_days=10, answered_after_days=None, status="sent")  # not due yet
        _handover(niiza, sent_days_ago=30, due_days=3, answered_after_days=None, status="sent")  # overdue
        _handover(niiza, sent_days_ago=500, due_days=3, answered_after_days=1)  # too old
        row = services.municipality_rows("11", municipality_id=niiza.id)[0]
    assert row.activities_12m == 1
    assert row.handovers_12m == 4
    assert (row.handovers_on_time, row.handovers_decided) == (1, 3)
    assert row.on_time_share == 33.3
    assert (row.contacts, row.contacts_confirmed, row.contacts_share) == (2, 1, 50.0)
    assert (row.active_members, row.covered, row.core_covered) == (2, 1, 1)


def test_the_12_months_are_the_days_since_the_same_day_a_year_ago(app, saitama):
    # 365 days with today (366 when they hold a 29 February; tests/test_timeutil.py pins that).
    with arranged(app):
        niiza = f.municipality(f.NIIZA)
        _handover(niiza, sent_days_ago=363, answered_after_days=1)
        _handover(niiza, sent_days_ago=366, answered_after_days=1)
        row = services.municipality_rows("11", municipality_id=niiza.id)[0]
    # The fixture's handover (10 days ago) and the one of 363 days ago; not 366 days ago.
    assert row.handovers_12m == 2
    assert (row.handovers_on_time, row.handovers_decided) == (2, 2)


def test_daily_counts_agree_with_the_handovers_after_a_rebuild(app, saitama):
    with arranged(app):
        niiza = f.municipality(f.NIIZA)
        _handover(niiza, sent_days_ago=40, due_days=1, answered_after_days=2)  # late
        _handover(niiza, sent_days_ago=40, answered_after_days=None, status="withdrawn")
        kept = services.municipality_rows("11", municipality_id=niiza.id)[0]
        assert daily.rebuild() >= 2  # one row per municipality and day
        rebuilt = services.municipality_rows("11", municipality_id=niiza.id)[0]
    assert (kept.handovers_12m, kept.handovers_on_time, kept.handovers_decided) == (3, 1, 2)
    assert (rebuilt.handovers_12m, rebuilt.handovers_on_time, rebuilt.handovers_decided) == (3, 1, 2)


def test_headline_splits_cities_and_towns(client, saitama, app):
    with arranged(app):
        f.declaration(f.municipality("113247"), "established", date(2020, 1, 1))  # 三芳町
        f.declaration(f.municipality("112011"), "preparing", date(2025, 1, 1))  # 川越市
    login(client, saitama["prefecture"])
    html = client.get("/dashboard/").get_data(as_text=True)
    assert re.search(r'headline-established">3 <span class="stat__unit">/ 63', html)
    assert re.search(r'headline-cities">2 <span class="stat__unit">/ 40', html)
    assert re.search(r'headline-towns">1 <span class="stat__unit">/ 23', html)
    assert 'data-testid="headline-percent">5%' in html
    assert "令和9年度末" in html


# --- the table: filter, sort, export ---------------------------------------------------


def _row_names(html):
    body = html.split('data-testid="municipality-table"')[1]
    return re.findall(r'<th scope="row"><a href="/dashboard/m/\d+">([^<]+)</a>', body)


def test_table_filters_and_sorts_without_javascript(client, saitama, app):
    with arranged(app):
        f.declaration(f.municipality("112011"), "preparing", date(2025, 1, 1))
    login(client, saitama["prefecture"])
    assert len(_row_names(client.get("/dashboard/").get_data(as_text=True))) == 63
    assert _row_names(client.get("/dashboard/?status=established").get_data(as_text=True)) == ["さいたま市", "新座市"]
    assert _row_names(client.get("/dashboard/?status=preparing").get_data(as_text=True)) == ["川越市"]
    assert _row_names(client.get("/dashboard/?q=ﾆｲｻﾞ").get_data(as_text=True)) == ["新座市"]  # width/kana folded
    assert _row_names(client.get("/dashboard/?q=にいざ").get_data(as_text=True)) == ["新座市"]
    assert len(_row_names(client.get("/dashboard/?kind=town").get_data(as_text=True))) == 23
    assert _row_names(client.get("/dashboard/?sort=members&order=desc").get_data(as_text=True))[0] == "新座市"
    names = _row_names(client.get("/dashboard/?sort=name").get_data(as_text=True))
    assert names[0] == "上尾市"  # あげおし
    # さいたま市 is 設置済 with a network record but no members in this fixture.
    assert _row_names(client.get("/dashboard/?flagged=1").get_data(as_text=True)) == ["さいたま市"]
    html = client.get("/dashboard/?status=established&sort=name&order=desc").get_data(as_text=True)
    assert 'href="/dashboard/export.xlsx?status=established&amp;sort=name&amp;order=desc"' in html
    assert 'aria-sort="descending"' in html


def test_csv_export_has_bom_the_table_columns_and_honours_filters(client, saitama):
    login(client, saitama["prefecture"])
    response = client.get("/dashboard/export.csv?status=established")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.data.startswith(b"\xef\xbb\xbf")
    lines = response.data.decode("utf-8-sig").split("\r\n")
    assert lines[0].startswith("団体コード,市町村,ふりがな,区分,市/町村,申告状況,申告日,ネットワーク記録")
    assert len([line for line in lines if line]) == 3
    assert lines[2].startswith("112305,新座市,にいざし,市,市,設置済,2009-07-01,あり,新座市子育てネットワーク推進委員会")
    assert len(client.get("/dashboard/export.csv").data.decode("utf-8-sig").strip().split("\r\n")) == 64


def test_the_table_escapes_what_comes_from_the_data(client, saitama, app):
    # The table's rows are written with autoescape off (one row costs little at 1,741 rows):
    # every text from the data goes through |e.
    markup = '<script>alert("x")</script>&<b>'
    with arranged(app):
        kawagoe = f.municipality("112011")
        f.network(kawagoe, markup)
        f.declaration(kawagoe, "established", date(2020, 1, 1))  # no members: flagged as well
    login(client, saitama["prefecture"])
    html = client.get("/dashboard/").get_data(as_text=True)
    assert markup not in html and "<script>alert" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&amp;&lt;b&gt;" in html
    row = html.split('data-code="112011"')[1].split("</tr>")[0]
    assert 'class="is-flagged"' in html.split('data-code="112011"')[1][:60]
    assert "活動中の構成員がいません" in row


def test_csv_export_neutralises_formulas(client, saitama, app):
    with arranged(app):
        f.network(f.municipality("112011"), "=HYPERLINK(\"http://evil\")")
    login(client, saitama["prefecture"])
    text = client.get("/dashboard/export.csv?q=川越").data.decode("utf-8-sig")
    assert ",'=HYPERLINK" in text.replace('"', "")


def test_xlsx_export_is_readable_and_numbers_are_numbers(client, saitama):
    login(client, saitama["prefecture"])
    response = client.get("/dashboard/export.xlsx")
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    sheet = book.active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 64
    header = rows[0]
    niiza = next(r for r in rows if r[0] == "112305")
    assert niiza[header.index("申告状況")] == "設置済"
    assert niiza[header.index("活動中の構成員")] == 2
    assert niiza[header.index("担当者確認率（%）")] == 50.0
    assert niiza[header.index("期限内回答率（%）")] == 100.0
    only = list(openpyxl.load_workbook(io.BytesIO(client.get("/dashboard/export.xlsx?kind=town").data)).active.iter_rows(values_only=True))
    assert len(only) == 24


# --- constant number of queries ------------------------------------------------------


def test_dashboard_query_count_does_not_grow_with_municipalities(app, client, saitama):
    login(client, saitama["prefecture"])
    client.get("/dashboard/")
    with count_queries(app) as few:
        assert client.get("/dashboard/").status_code == 200
    with arranged(app):
        for code in ("112011", "112020", "112038", "112089", "113247"):
            m = f.municipality(code)
            f.network(m)
            f.declaration(m, "preparing")
            f.contact(f.organization(m, category="hoikusho"))
            f.activity(m, today_jst())
            _handover(m)
    with count_queries(app) as more:
        assert client.get("/dashboard/").status_code == 200
    assert len(more) == len(few) == 2  # the session's user, then the one aggregate
    # The national view: 1,741 municipalities, still the same statements.
    with arranged(app):
        municipalities.load(None)
    app.config["PREFECTURE_CODE"] = "00"
    with count_queries(app) as national:
        html = client.get("/dashboard/").get_data(as_text=True)
    assert "市町村一覧（1741）" in html
    assert len(national) == len(few)


@pytest.mark.parametrize("path", ["/dashboard/export.csv", "/dashboard/export.xlsx"])
def test_exports_use_as_few_queries_as_the_page(app, client, saitama, path):
    login(client, saitama["prefecture"])
    client.get(path)
    with count_queries(app) as few:
        assert client.get(path).status_code == 200
    with arranged(app):
        for code in ("112011", "112020"):
            m = f.municipality(code)
            f.network(m)
            f.contact(f.organization(m, category="npo"))
            _handover(m)
    with count_queries(app) as more:
        assert client.get(path).status_code == 200
    assert len(more) == len(few) == 2  # the session's user, then the one aggregate


def test_drill_down_uses_a_constant_number_of_queries(app, client, saitama):
    login(client, saitama["prefecture"])
    client.get("/dashboard/m/112305")
    with count_queries(app) as before:
        client.get("/dashboard/m/112305")
    with arranged(app):
        niiza = f.municipality(f.NIIZA)
        for i in range(5):
            f.declaration(niiza, "preparing", date(2001 + i, 1, 1))
            f.contact(f.organization(niiza, category="npo"))
    with count_queries(app) as after:
        client.get("/dashboard/m/112305")
    assert len(after) == len(before) == 8


# --- activities (desk) ----------------------------------------------------------------


def test_desk_records_edits_and_deletes_activities(client, saitama, app):
    login(client, saitama["desk"])
    assert 'href="/m/112305/activities"' in client.get("/m/112305/").get_data(as_text=True)
    token = csrf_token(client)
    response = client.post("/m/112305/activities/new", data={
        "kind": "study", "held_on": today_jst().isoformat(), "title": "発達の学習会", "participants": "25",
        "note": "", "csrf_token": token})
    assert response.status_code == 302
    html = client.get("/m/112305/activities").get_data(as_text=True)
    assert "発達の学習会" in html and "学習会" in html and "直近12か月の活動: <strong>1 件" in html
    with arranged(app):
        activity_id = db.session.scalar(select(NetworkActivity.id))
    response = client.post(f"/m/112305/activities/{activity_id}/edit", data={
        "kind": "exchange", "held_on": today_jst().isoformat(), "title": "第2回 情報交換会", "participants": "",
        **form_fields(client, f"/m/112305/activities/{activity_id}/edit")})
    assert response.status_code == 302
    audit = client.get("/m/112305/audit").get_data(as_text=True)
    assert "活動記録" in audit and "第2回 情報交換会" in audit
    assert client.post(f"/m/112305/activities/{activity_id}/delete", data={"csrf_token": token}).status_code == 302
    with arranged(app):
        assert db.session.scalar(select(func.count(NetworkActivity.id))) == 0


def test_bad_activities_are_refused_in_japanese(client, saitama, app):
    login(client, saitama["desk"])
    token = csrf_token(client)
    cases = [
        ({"kind": "exchange", "held_on": "", "title": "会"}, "開催日を入力してください"),
        ({"kind": "exchange", "held_on": "2026-02-30", "title": "会"}, "日付は 2026-05-20 のように入力してください。"),
        ({"kind": "exchange", "held_on": "2026-01-10", "title": ""}, "題名を入力してください"),
        ({"kind": "exchange", "held_on": "2026-01-10", "title": "会", "participants": "たくさん"}, "半角の数字で入力してください。"),
        ({"kind": "exchange", "held_on": "2026-01-10", "title": "会", "participants": "-3"}, "参加者数は0以上"),
        ({"kind": "exchange", "held_on": "2026-01-10", "title": "あ" * 121}, "題名は120文字以内"),
    ]
    for data, message in cases:
        response = client.post("/m/112305/activities/new", data={**data, "csrf_token": token})
        assert response.status_code == 400, data
        assert message in response.get_data(as_text=True), data
    with arranged(app):
        assert db.session.scalar(select(func.count(NetworkActivity.id))) == 0


def test_another_municipalitys_activity_is_404(client, saitama, app):
    with arranged(app):
        other = f.activity(f.municipality(f.SAITAMA), today_jst(), title="さいたまの会").id
    login(client, saitama["desk"])
    token = csrf_token(client)
    assert client.get(f"/m/112305/activities/{other}/edit").status_code == 404
    assert client.post(f"/m/112305/activities/{other}/delete", data={"csrf_token": token}).status_code == 404
    assert "さいたまの会" not in client.get("/m/112305/activities").get_data(as_text=True)
    assert client.get("/m/111007/activities").status_code == 404


# --- assets -----------------------------------------------------------------------------


def test_plotly_is_served_by_the_app_with_a_long_cache(client, saitama):
    import plotly

    login(client, saitama["prefecture"])
    html = client.get("/dashboard/").get_data(as_text=True)
    src = f"/dashboard/vendor/plotly-{plotly.__version__}.min.js"
    assert f'<script src="{src}"></script>' in html
    assert "<script>" not in html  # no inline script (CSP)
    assert '<script type="application/json" id="progress-figure">' in html
    response = client.get(src)
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.cache_control.max_age == 365 * 24 * 3600
    assert client.get("/dashboard/vendor/plotly-0.0.1.min.js").status_code == 404
    css = client.get(f"/dashboard/vendor/plotly-{plotly.__version__}.css")
    assert css.mimetype == "text/css" and ".js-plotly-plot .plotly .main-svg{position:absolute" in css.get_data(as_text=True)
    assert not re.findall(r'(?:src|href)="(https?:)?//', html)

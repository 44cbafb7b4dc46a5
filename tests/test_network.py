"""The network record, the desk, and the coverage matrix."""

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from portal.accounts.models import Role
from portal.extensions import db
from portal.timeutil import today_jst
from tenants.members.categories import COVERAGE_CATEGORIES, category_by_name
from tenants.members.freshness import Freshness, freshness
from tenants.network import services
from tenants.network.models import Desk, Network
from tenants.scoping import Scope, scoped
from tests import factories as f
from tests.conftest import arranged, form_fields, login


@pytest.fixture
def empty_town(app):
    """A municipality with nothing yet: 三芳町."""
    with arranged(app):
        m = f.municipality("113247")
        return {"id": m.id, "desk": f.user(Role.DESK, m).email}


def _post(client, path, data):
    return client.post(path, data={**form_fields(client, path), **data})


def test_desk_registers_the_network_and_the_desk(app, client, empty_town):
    login(client, empty_town["desk"])
    html = client.get("/m/113247/network").get_data(as_text=True)
    assert "ネットワークはまだ登録されていません" in html
    response = _post(client, "/m/113247/network/edit", {
        "name": "三芳町子育てネットワーク", "established_on": "2010-06-01", "formation": "existing_council",
        "existing_council": "要保護児童対策地域協議会", "activity_summary": "情報交換\n学習会",
    })
    assert response.status_code == 302
    response = _post(client, "/m/113247/network/desk", {
        "name": "三芳町子育て総合支援窓口", "postal_code": "３５４８５５５", "phone": "049-258-0019",
        "opening_hours": "平日 8:30〜17:15",
    })
    assert response.status_code == 302
    html = client.get("/m/113247/network").get_data(as_text=True)
    assert "三芳町子育てネットワーク" in html
    assert "平成22年6月1日" in html
    assert "既存の協議会等を活用（要保護児童対策地域協議会）" in html
    assert "〒354-8555" in html and "049-258-0019" in html
    audit = client.get("/m/113247/audit").get_data(as_text=True)
    assert "ネットワーク" in audit and "総合支援窓口" in audit


@pytest.mark.parametrize(
    "data,message",
    [
        ({"name": "", "formation": "new"}, "ネットワークの名称を入力してください"),
        ({"name": "X", "formation": "existing_council"}, "活用した協議会等の名称を入力してください"),
        ({"name": "X", "formation": "new", "established_on": "2999-01-01"}, "未来の日付は入力できません"),
        ({"name": "X", "formation": "new", "established_on": "令和"}, "日付を正しく入力してください"),
    ],
)
def test_bad_network_input_keeps_what_was_stored(app, client, empty_town, data, message):
    login(client, empty_town["desk"])
    _post(client, "/m/113247/network/edit", {"name": "元の名称", "formation": "new"})
    response = _post(client, "/m/113247/network/edit", data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    with app.app_context(), scoped(db.session, Scope(municipality_id=empty_town["id"])):
        assert db.session.scalar(select(Network.name)) == "元の名称"


def test_bad_desk_phone_is_explained(app, client, empty_town):
    login(client, empty_town["desk"])
    response = _post(client, "/m/113247/network/desk", {"name": "窓口", "phone": "12345"})
    assert response.status_code == 400
    assert "電話番号「12345」は正しい番号ではありません" in response.get_data(as_text=True)
    with app.app_context(), scoped(db.session, Scope(municipality_id=empty_town["id"])):
        assert db.session.scalar(select(Desk)) is None


def test_every_category_the_source_document_names_is_in_the_list():
    named = ["保育所", "幼稚園", "認定こども園", "子育て支援センター", "保健センター", "保健所", "教育委員会", "小学校",
             "警察", "子育てNPO", "子育てサークル", "公民館", "児童相談所", "社会福祉協議会", "主任児童委員・民生委員",
             "児童センター", "家庭児童相談", "学識経験者", "男女共同参画", "子育てサポーター", "企業", "その他",
             # the seed's own words in its two examples
             "私立幼稚園協会", "私立保育園協会", "主任児童委員", "家庭児童相談員", "警察署", "保育園"]
    missing = [n for n in named if category_by_name(n) is None]
    assert missing == []
    assert [c.name for c in COVERAGE_CATEGORIES] == [
        "保育所", "子育て支援センター", "保健センター",
        "教育委員会", "幼稚園", "小学校", "警察", "子育てNPO", "子育てサークル", "公民館"]


def test_coverage_counts_only_active_members_with_a_current_contact(app, client, empty_town):
    today = today_jst()
    with arranged(app):
        m = f.municipality("113247")
        nursery = f.organization(m, "見本保育園", "hoikusho")
        f.contact(nursery, "見本 花子", confirmed=today)
        centre = f.organization(m, "見本保健センター", "hoken_center")
        f.contact(centre, "例示 太郎", confirmed=today - timedelta(days=400))  # stale
        f.organization(m, "見本幼稚園", "yochien", status="left")
        npo = f.organization(m, "見本NPO", "npo")
        f.contact(npo, "仮野 さくら", confirmed=today)
        f.organization(m, "見本企業", "kigyo")
    with app.app_context(), scoped(db.session, Scope(municipality_id=empty_town["id"])):
        cov = services.coverage(today)
    states = {c.category.code: c.state for c in cov.core + cov.related}
    assert states["hoikusho"] == "present"
    assert states["hoken_center"] == "weak"
    assert states["yochien"] == "missing"
    assert states["npo"] == "present"
    assert states["keisatsu"] == "missing"
    assert cov.present_count == 2 and cov.required_count == 10
    assert [c.category.code for c in cov.others] == ["kigyo"]

    login(client, empty_town["desk"])
    html = client.get("/m/113247/network").get_data(as_text=True)
    assert 'data-category="hoikusho" data-state="present"' in html
    assert 'data-category="hoken_center" data-state="weak"' in html
    assert 'data-category="kominkan" data-state="missing"' in html
    assert "（2 / 10 区分）" in html


def test_coverage_is_per_municipality(app, empty_town):
    with arranged(app):
        other = f.municipality(f.NIIZA)
        org = f.organization(other, "新座市保育園", "hoikusho")
        f.contact(org, "見本 花子")
    with app.app_context(), scoped(db.session, Scope(municipality_id=empty_town["id"])):
        cov = services.coverage(date(2026, 11, 24))
    assert cov.present_count == 0


def test_coverage_and_summary_in_one_query_agree_with_coverage_and_a_count_of_each_contact(app, empty_town):
    from tests.conftest import count_queries

    today = date(2026, 11, 24)
    mid = empty_town["id"]
    with app.app_context(), scoped(db.session, Scope(municipality_id=mid)), count_queries(app) as statements:
        cov, summary = services.coverage_and_summary(today)
    assert len(statements) == 1
    assert cov.present_count == 0 and summary == services.MemberSummary({}, 0, 0, 0)  # nothing yet: all zero
    confirmed = [today, None, today - timedelta(days=400), date(2026, 3, 31), date(2026, 4, 1), today]
    with arranged(app):
        m = f.municipality("113247")
        for i, (category, status) in enumerate([("hoikusho", "active"), ("hoikusho", "suspended"),
                                                ("hoken_center", "active"), ("npo", "applying"), ("kigyo", "active")]):
            org = f.organization(m, f"見本団体{i}", category, status=status)
            for k, day in enumerate(confirmed[i:i + 2]):
                f.contact(org, f"見本 {i}-{k}", confirmed=day)
        f.contact(f.organization(f.municipality(f.NIIZA), "新座の団体", "hoikusho"), "別 市子", confirmed=None)
    with app.app_context(), scoped(db.session, Scope(municipality_id=mid)):
        cov, summary = services.coverage_and_summary(today)
        assert cov == services.coverage(today)
        contacts = db.session.scalars(select(services.Contact.last_confirmed_on)).all()
    states = [freshness(day, today) for day in contacts]
    assert summary.contacts_total == len(contacts) == 10
    assert summary.contacts_stale == states.count(Freshness.STALE)
    assert summary.contacts_due == states.count(Freshness.DUE)
    assert summary.by_status == {"active": 3, "suspended": 1, "applying": 1}

"""構成員 and 担当者: services, pages, bad input, audit, isolation, query counts."""

import re
from datetime import date

import pytest
from sqlalchemy import func, select

from portal.accounts.models import Role
from portal.extensions import db
from portal.japanese import fold
from tenants.core.audit import AuditEntry
from tenants.members import services
from tenants.members.freshness import Freshness, freshness
from tenants.members.models import Contact, MemberOrganization
from tenants.scoping import EVERYTHING, Scope, scoped, set_scope
from tests import factories as f
from tests.conftest import arranged, count_queries, csrf_token, form_fields, login


@pytest.fixture
def niiza(app):
    with arranged(app):
        m = f.municipality(f.NIIZA)
        other = f.municipality(f.KAWAGOE)
        org = f.organization(m, "新座市保健センター", "hoken_center", name_kana="にいざしほけんせんたー",
                             phone="048-477-1111")
        f.contact(org, "見本 花子", name_kana="みほん はなこ", phone="048-999-0001", email="hanako@example.jp")
        other_org = f.organization(other, "川越市保健センター", "hoken_center")
        other_contact = f.contact(other_org, "例示 太郎")
        return {
            "desk": f.user(Role.DESK, m).email,
            "other_desk": f.user(Role.DESK, other).email,
            "prefecture": f.user(Role.PREFECTURE).email,
            "org_id": org.id,
            "other_org_id": other_org.id,
            "other_contact_id": other_contact.id,
        }


def _counts(app):
    with app.app_context():
        set_scope(db.session, EVERYTHING)
        return (
            db.session.scalar(select(func.count(MemberOrganization.id))),
            db.session.scalar(select(func.count(Contact.id))),
            db.session.scalar(select(func.count(AuditEntry.id))),
        )


def _post(client, path, data):
    return client.post(path, data={**form_fields(client, path), **data})


def test_desk_adds_an_organisation_and_its_contact(app, client, niiza):
    login(client, niiza["desk"])
    response = _post(client, "/m/112305/members/new", {
        "name": "ＮＰＯ法人 子育てひだまり", "name_kana": "コソダテヒダマリ", "category": "npo", "status": "active",
        "consultation_tags": ["育児不安", "仲間づくり"], "phone": "０４８－４７７－１１１２", "postal_code": "3528623",
    })
    assert response.status_code == 302
    org_path = response.headers["Location"].rsplit("/contacts/new", 1)[0]
    with app.app_context():
        set_scope(db.session, EVERYTHING)
        org = db.session.scalar(select(MemberOrganization).where(MemberOrganization.category == "npo"))
        assert org.name == "ＮＰＯ法人 子育てひだまり"  # as typed (issue 12.11); only the search key is folded
        assert org.name_key == fold("NPO法人子育てひだまり")
        assert org.name_kana == "こそだてひだまり"
        assert org.phone == "048-477-1112" and org.postal_code == "352-8623"
        assert org.consultation_tags == ["育児不安", "仲間づくり"]
    response = _post(client, f"{org_path}/contacts/new", {"name": "架空 美咲", "phone": "048-999-0002",
                                                          "last_confirmed_on": "2026-11-01"})
    assert response.status_code == 302
    html = client.get(org_path).get_data(as_text=True)
    assert "架空 美咲" in html and "主担当" in html  # the first contact becomes primary


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("phone", "123", "電話番号「123」は正しい番号ではありません"),
        ("email", "not-an-email", "メールアドレス「not-an-email」の形式が正しくありません"),
        ("postal_code", "35286", "郵便番号「35286」は7桁の数字で入力してください"),
        ("name", "", "入力してください"),
        ("name", "新座市　保健センター", "「新座市保健センター」は既に構成員として登録されています"),
        ("website", "javascript:alert(1)", "http:// または https:// で始まるURL"),
        ("name_kana", "漢字", "ひらがなかカタカナで入力してください"),
        ("category", "unknown", "選択肢の中から選んでください"),
    ],
)
def test_bad_organisation_input_is_explained_and_nothing_changes(app, client, niiza, field, value, message):
    login(client, niiza["desk"])
    before = _counts(app)
    data = {"name": "新しい団体", "category": "npo", "status": "active", field: value}
    response = _post(client, "/m/112305/members/new", data)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in html
    assert "入力内容に誤りがあります" in html
    assert _counts(app) == before


def test_editing_records_before_and_after_in_the_audit_trail(app, client, niiza):
    login(client, niiza["desk"])
    path = f"/m/112305/members/{niiza['org_id']}/edit"
    response = _post(client, path, {"name": "新座市保健センター", "category": "hoken_center", "status": "active",
                                    "phone": "048-477-9999", "name_kana": "にいざしほけんせんたー"})
    assert response.status_code == 302
    html = client.get("/m/112305/audit").get_data(as_text=True)
    assert "048-477-1111 → 048-477-9999" in html
    assert "新座市保健センター" in html


def test_editing_a_contact_with_a_bad_phone_changes_nothing(app, client, niiza):
    login(client, niiza["desk"])
    with app.app_context():
        set_scope(db.session, EVERYTHING)
        contact_id = db.session.scalar(select(Contact.id).where(Contact.name == "見本 花子"))
    before = _counts(app)
    response = _post(client, f"/m/112305/contacts/{contact_id}/edit", {"name": "見本 花子", "phone": "0000"})
    assert response.status_code == 400
    assert "電話番号「0000」" in response.get_data(as_text=True)
    with app.app_context():
        set_scope(db.session, EVERYTHING)
        assert db.session.get(Contact, contact_id).phone == "048-999-0001"
    assert _counts(app) == before


def test_only_one_primary_contact_per_organisation(app, niiza):
    with app.app_context():
        set_scope(db.session, EVERYTHING)
        org = db.session.get(MemberOrganization, niiza["org_id"])
        with scoped(db.session, Scope(municipality_id=org.municipality_id)):
            second = services.create_contact(org, {"name": "例示 由美", "is_primary": True})
            assert [c.name for c in org.contacts if c.is_primary] == ["例示 由美"]
            services.delete_contact(second)
            assert [c.name for c in org.contacts if c.is_primary] == ["見本 花子"]
        db.session.rollback()


def test_delete_organisation_is_audited_with_its_contacts(app, client, niiza):
    login(client, niiza["desk"])
    path = f"/m/112305/members/{niiza['org_id']}/delete"
    assert "削除しますか" in client.get(path).get_data(as_text=True)
    assert _post(client, path, {}).status_code == 302
    orgs, contacts, _ = _counts(app)
    assert (orgs, contacts) == (1, 1)  # only 川越's remain
    html = client.get("/m/112305/audit?entity=organization").get_data(as_text=True)
    assert "削除" in html and "見本 花子" in html


def test_another_municipalitys_organisation_and_contact_are_404(app, client, niiza):
    login(client, niiza["desk"])
    for path in [
        f"/m/112305/members/{niiza['other_org_id']}",
        f"/m/112305/members/{niiza['other_org_id']}/edit",
        f"/m/112305/members/{niiza['other_org_id']}/delete",
        f"/m/112305/members/{niiza['other_org_id']}/contacts/new",
        f"/m/112305/contacts/{niiza['other_contact_id']}/edit",
        f"/m/112305/contacts/{niiza['other_contact_id']}/delete",
    ]:
        assert client.get(path).status_code == 404, path
    token = csrf_token(client)
    for path in [f"/m/112305/contacts/{niiza['other_contact_id']}/confirm",
                 f"/m/112305/members/{niiza['other_org_id']}/delete"]:
        assert client.post(path, data={"csrf_token": token}).status_code == 404, path
    assert _counts(app)[:2] == (2, 2)
    assert "川越市保健センター" not in client.get("/m/112305/members").get_data(as_text=True)


def test_prefecture_officials_never_see_contacts(client, niiza):
    login(client, niiza["prefecture"])
    for path in ["/m/112305/members", f"/m/112305/members/{niiza['org_id']}", "/m/112305/network", "/m/112305/audit"]:
        response = client.get(path)
        assert response.status_code == 403
        assert "見本 花子" not in response.get_data(as_text=True)


def test_member_list_filters_by_kana_insensitive_text_category_and_status(client, niiza):
    login(client, niiza["desk"])
    for q in ["ﾎｹﾝ", "ほけん", "みほん", "ハナコ"]:
        assert "新座市保健センター" in client.get(f"/m/112305/members?q={q}").get_data(as_text=True), q
    html = client.get("/m/112305/members?category=npo").get_data(as_text=True)
    assert "新座市保健センター" not in html and "条件に合う構成員はいません" in html
    assert "新座市保健センター" not in client.get("/m/112305/members?status=left").get_data(as_text=True)


def test_member_list_uses_a_constant_number_of_queries(app, client, niiza):
    login(client, niiza["desk"])
    client.get("/m/112305/members")
    with count_queries(app) as few:
        assert client.get("/m/112305/members").status_code == 200
    with arranged(app):
        m = f.municipality(f.NIIZA)
        for i in range(30):
            org = f.organization(m, f"見本保育園{i}", "hoikusho")
            f.contact(org, f"担当 {i}")
            f.contact(org, f"副担当 {i}")
    with count_queries(app) as many:
        html = client.get("/m/112305/members").get_data(as_text=True)
    assert "見本保育園29" in html
    assert len(many) == len(few), (few, many)
    # the session's user (with its own municipality), then the list: its count, page and contacts in one statement
    assert len(few) == 2, few


@pytest.mark.parametrize(
    "confirmed,today,expected",
    [
        (date(2026, 4, 1), date(2026, 11, 24), Freshness.CURRENT),
        (date(2026, 3, 31), date(2026, 3, 31), Freshness.CURRENT),
        (date(2026, 3, 31), date(2026, 4, 1), Freshness.DUE),
        (date(2025, 11, 25), date(2026, 11, 24), Freshness.DUE),
        (date(2025, 11, 24), date(2026, 11, 24), Freshness.STALE),
        (None, date(2026, 11, 24), Freshness.STALE),
        (date(2023, 2, 28), date(2024, 2, 29), Freshness.STALE),
    ],
)
def test_freshness_12_months_and_1_april(confirmed, today, expected):
    assert freshness(confirmed, today) == expected


def test_unticking_the_only_primary_keeps_someone_to_call(app, niiza):
    with app.app_context():
        set_scope(db.session, EVERYTHING)
        org = db.session.get(MemberOrganization, niiza["org_id"])
        with scoped(db.session, Scope(municipality_id=org.municipality_id)):
            only = org.contacts[0]
            services.update_contact(only, {"is_primary": False})
            assert only.is_primary is True
            second = services.create_contact(org, {"name": "例示 由美"})
            assert second.is_primary is False
            services.update_contact(only, {"is_primary": False})
            assert [c.name for c in org.contacts if c.is_primary] == ["例示 由美"]
        db.session.rollback()


def test_contact_names_longer_than_the_column_are_refused(app, client, niiza):
    login(client, niiza["desk"])
    response = _post(client, f"/m/112305/members/{niiza['org_id']}/contacts/new", {"name": "あ" * 101})
    assert response.status_code == 400
    assert "100文字以内で入力してください" in response.get_data(as_text=True)


def test_member_list_rows_show_the_primary_contact_its_freshness_and_the_number_to_call(app, client, niiza):
    today = date(2026, 11, 24)
    with arranged(app):
        m = f.municipality(f.NIIZA)
        nursery = f.organization(m, "見本保育園", "hoikusho", name_kana="みほんほいくえん", phone="048-111-2222")
        f.contact(nursery, "副 次郎", phone="048-333-4444")  # first, so primary until the next one takes it
        f.contact(nursery, "主 花子", is_primary=True, confirmed=date(2026, 1, 10))  # no phone of her own
        f.contact(nursery, "三 三郎")
        circle = f.organization(m, "見本の会", "circle", status="suspended")
        f.contact(circle, "会 一子", phone="048-555-6666", confirmed=date(2026, 5, 1))
        nobody = f.organization(m, "見本クラブ", "other").id
    login(client, niiza["desk"])
    from unittest.mock import patch

    with patch("tenants.members.views.today_jst", return_value=today):
        html = client.get("/m/112305/members").get_data(as_text=True)
    rows = {name: row for row in html.split("<tr>")[2:] for name in ["見本保育園", "見本の会", "見本クラブ"]
            if f">{name}</a>" in row}
    assert '<span class="cell-note">みほんほいくえん</span>' in rows["見本保育園"]
    assert '<td class="nowrap" data-label="区分">保育所</td>' in rows["見本保育園"]
    assert "主 花子 <span class=\"cell-note\">ほか2人</span><br>" in rows["見本保育園"]
    assert "12か月以上未確認" not in rows["見本保育園"] and "4月以降未確認" in rows["見本保育園"]
    assert '<a href="tel:0481112222">048-111-2222</a>' in rows["見本保育園"]  # hers is empty: the organisation's
    assert '<td class="nowrap" data-label="状態">休止中</td>' in rows["見本の会"]
    assert "会 一子<br>" in rows["見本の会"] and "ほか" not in rows["見本の会"] and "確認済み" in rows["見本の会"]
    assert '<a href="tel:0485556666">048-555-6666</a>' in rows["見本の会"]
    assert "担当者なし" in rows["見本クラブ"]
    assert f'<a href="/m/112305/members/{nobody}">見本クラブ</a>' in rows["見本クラブ"]
    assert '<td class="nowrap" data-label="電話番号"></td>' in rows["見本クラブ"]


def test_member_list_statements_are_scoped_to_the_municipality(app, niiza):
    """The list reads plain columns in one statement: the tenant scope still filters every part of it."""
    from tenants.members import listing

    with arranged(app):
        kawagoe = f.municipality(f.KAWAGOE)
        f.contact(f.organization(kawagoe, "川越市子育て支援センター", "shien_center"), "例示 次郎")
        niiza_id = f.municipality(f.NIIZA).id
    with app.app_context(), app.test_request_context("/m/112305/members"):
        set_scope(db.session, Scope(municipality_id=niiza_id))
        with count_queries(app) as statements:
            page = listing.page_of(listing.statement("", "", ""), 100, date(2026, 11, 24), "/o/{}")
            empty = listing.page_of(listing.statement("", "", "川越"), 100, date(2026, 11, 24), "/o/{}")
    assert [o.name for o in page.items] == ["新座市保健センター"] and page.total == 1
    assert page.items[0].href == f"/o/{niiza['org_id']}" and page.items[0].primary == "見本 花子"
    assert empty.items == [] and empty.total == 0
    assert len(statements) == 2
    # the count, the page and the contacts each filtered to 新座市: three times, in each statement
    for sql in statements:
        assert sql.count("member_organizations.municipality_id =") == 2, sql
        assert sql.count("contacts.municipality_id =") == 1, sql


def test_organisation_page_links_each_contacts_buttons_in_a_constant_number_of_queries(app, client, niiza):
    login(client, niiza["desk"])
    path = f"/m/112305/members/{niiza['org_id']}"
    client.get(path)
    with count_queries(app) as few:
        client.get(path)
    with arranged(app):
        org = db.session.get(MemberOrganization, niiza["org_id"])
        ids = [f.contact(org, f"追加 {i}号").id for i in range(5)]
    with count_queries(app) as many:
        html = client.get(path).get_data(as_text=True)
    # the session's user (with its own municipality), the organisation, its contacts, a pending change request
    assert len(few) == len(many) == 4, many
    assert html.count('name="csrf_token"') == 6 + 1  # a confirm form per contact, and the logout form
    for contact_id in ids:
        assert f'action="/m/112305/contacts/{contact_id}/confirm"' in html
        assert f'href="/m/112305/contacts/{contact_id}/edit"' in html
        assert f'href="/m/112305/contacts/{contact_id}/delete"' in html
        assert client.get(f"/m/112305/contacts/{contact_id}/edit").status_code == 200


def test_member_list_pages_count_organisations_not_contacts(app, client, niiza, monkeypatch):
    from tenants.members import views

    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    with arranged(app):
        m = f.municipality(f.NIIZA)
        for i in range(4):  # with 新座市保健センター (にいざし…): five, read あ, い, う, え, に
            org = f.organization(m, f"見本{i}の会", "circle", name_kana="あいうえ"[i] + "のかい")
            for k in range(3):
                f.contact(org, f"担当 {i}-{k}")
    login(client, niiza["desk"])
    pages = [client.get(f"/m/112305/members?page={n}").get_data(as_text=True) for n in (1, 2, 3, 4)]
    names = [re.findall(r'<th scope="row"><a href="[^"]+">([^<]+)</a>', html) for html in pages]
    assert names == [["見本0の会", "見本1の会"], ["見本2の会", "見本3の会"], ["新座市保健センター"], []]
    assert all("構成員（5）" in html for html in pages)
    assert pages[0].count("ほか2人") == 2 and "1 / 3 ページ" in pages[0]
    assert "担当 0-0" in pages[0] and "担当 0-1" not in pages[0]  # the first contact, the others counted
    assert "条件に合う構成員はいません" not in pages[3] and "構成員はまだ登録されていません" in pages[3]

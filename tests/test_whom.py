"""誰に連絡？: search over names, readings, categories, tags and contacts; whom to call."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from portal.accounts.models import Role
from portal.extensions import db
from portal.timeutil import fiscal_year_start, today_jst
from tenants.members.freshness import Freshness, freshness
from tenants.members.models import MemberOrganization
from tenants.scoping import EVERYTHING, Scope, set_scope
from tenants.whom import services
from tenants.whom.highlight import highlight
from tests import factories as f
from tests.conftest import arranged, count_queries, login

TODAY = date(2026, 11, 24)  # fixed "today" for the service tests


def _names(results) -> list[str]:
    return [r.name for r in results]


@pytest.fixture
def niiza(app):
    """新座市 with a handful of organisations; returns the desk user's e-mail and the municipality id."""
    with arranged(app):
        m = f.municipality(f.NIIZA)
        center = f.organization(
            m, "新座市保健センター", "hoken_center", name_kana="にいざしほけんせんたー",
            phone="048-477-1111", consultation_tags=["発達相談", "健康・医療", "育児不安"],
        )
        f.contact(
            center, "佐藤 花子", name_kana="さとう はなこ", title="母子保健係 保健師", phone="048-477-1112",
            email="sato@niiza.example.jp", reachable_hours="平日 9:00〜17:00", confirmed=date(2026, 5, 1),
        )
        f.contact(center, "鈴木 一郎", name_kana="すずき いちろう", confirmed=date(2026, 5, 1))
        # Found for 「ほけん」 only through its category (保健センター).
        room = f.organization(m, "にこにこ母子相談室", "hoken_center", consultation_tags=["育児不安"])
        f.contact(room, "高橋 美香", name_kana="たかはし みか", confirmed=date(2026, 5, 1))
        school = f.organization(m, "新座市立第三小学校", "shogakko", name_kana="にいざしりつだいさんしょうがっこう",
                                consultation_tags=["学校・不登校"])
        f.contact(school, "渡辺 健一", name_kana="わたなべ けんいち", confirmed=date(2026, 5, 1))
        f.organization(m, "新座警察署", "keisatsu", name_kana="にいざけいさつしょ", consultation_tags=["虐待の疑い"])
        desk = f.user(Role.DESK, m)
        return {"desk": desk.email, "municipality_id": m.id}


def _search(app, municipality_id: int, query: str, today: date = TODAY, limit: int = 30):
    with app.app_context():
        set_scope(db.session, Scope(municipality_id=municipality_id))
        return services.search(query, today, limit=limit)


def _fragment(client, code: str, q: str) -> str:
    response = client.get(f"/m/{code}/whom/results", query_string={"q": q})
    assert response.status_code == 200
    return response.get_data(as_text=True)


# ---------------------------------------------------------------- the service


@pytest.mark.parametrize("query", ["ほけん", "ﾎｹﾝ", "ホケン", "保健", "ほけんせんたー", "ﾎｹﾝｾﾝﾀｰ"])
def test_every_spelling_finds_the_health_centre_by_name_and_by_category(app, niiza, query):
    results = _search(app, niiza["municipality_id"], query)
    names = _names(results)
    assert "新座市保健センター" in names  # its name (or reading) matches
    assert "にこにこ母子相談室" in names  # only its category 保健センター matches
    assert "新座市立第三小学校" not in names
    assert results.total == 2


def test_name_matches_come_before_category_matches(app, niiza):
    results = _search(app, niiza["municipality_id"], "ほけん")
    assert _names(results) == ["新座市保健センター", "にこにこ母子相談室"]
    assert [r.name_match for r in results] == [True, False]
    # 「保健」 is in the first one's name, not in the second's: same order.
    assert _names(_search(app, niiza["municipality_id"], "保健")) == ["新座市保健センター", "にこにこ母子相談室"]


def test_active_organisations_come_before_suspended_ones(app, niiza):
    with arranged(app):
        m = f.municipality(f.NIIZA)
        f.organization(m, "あさひ保育園", "hoikusho", name_kana="あさひほいくえん", status="suspended")
        f.organization(m, "みどり保育園", "hoikusho", name_kana="みどりほいくえん")
    results = _search(app, niiza["municipality_id"], "保育園")
    assert _names(results) == ["みどり保育園", "あさひ保育園"]
    assert results.results[1].status_label == "休止中"


def test_a_contact_surname_in_hiragana_finds_the_organisation(app, niiza):
    for query in ("わたなべ", "ワタナベ", "渡辺", "ﾜﾀﾅﾍﾞ"):
        results = _search(app, niiza["municipality_id"], query)
        assert _names(results) == ["新座市立第三小学校"], query
        assert results.results[0].contact.name == "渡辺 健一"


def test_a_consultation_tag_finds_the_organisations_that_take_it(app, niiza):
    assert set(_names(_search(app, niiza["municipality_id"], "育児不安"))) == {"新座市保健センター", "にこにこ母子相談室"}
    assert _names(_search(app, niiza["municipality_id"], "不登校")) == ["新座市立第三小学校"]
    assert _names(_search(app, niiza["municipality_id"], "虐待")) == ["新座警察署"]


def test_two_terms_must_both_match(app, niiza):
    mid = niiza["municipality_id"]
    assert _names(_search(app, mid, "ほけん 発達")) == ["新座市保健センター"]
    # A full-width space separates terms too.
    assert _names(_search(app, mid, "ほけん\u3000はなこ")) == ["新座市保健センター"]
    assert _names(_search(app, mid, "ほけん 不登校")) == []
    # Without the space the two words would have to be adjacent.
    assert _names(_search(app, mid, "ほけん発達")) == []


def test_an_empty_query_returns_nothing(app, niiza):
    for query in ("", "   ", "\u3000", "・ー", None):
        results = _search(app, niiza["municipality_id"], query)
        assert results.results == () and results.total == 0 and not results.more


def test_a_long_query_is_cut_to_100_characters(app, niiza):
    results = _search(app, niiza["municipality_id"], "保健" + "あ" * 200)
    assert len(results.query) == 100
    assert results.results == ()


@pytest.mark.parametrize("query,expected", [
    ("%", ["子育て100%応援団"]),
    ("100%", ["子育て100%応援団"]),
    ("_", ["a_bクラブ"]),
    ("a_b", ["a_bクラブ"]),
    ("/", ["ひろば/あそぼ"]),
    ("\\", []),
])
def test_like_wildcards_in_the_query_are_literal(app, niiza, query, expected):
    with arranged(app):
        m = f.municipality(f.NIIZA)
        f.organization(m, "子育て100%応援団", "npo")
        f.organization(m, "a_bクラブ", "circle")
        f.organization(m, "axbクラブ", "circle")
        f.organization(m, "ひろば/あそぼ", "circle")
    assert _names(_search(app, niiza["municipality_id"], query)) == expected


def test_organisations_that_left_are_not_shown(app, niiza):
    with arranged(app):
        m = f.municipality(f.NIIZA)
        f.organization(m, "旧ほけん相談所", "hokenjo", status="left")
        f.organization(m, "ほけん相談所", "hokenjo", status="applying")
    names = _names(_search(app, niiza["municipality_id"], "ほけん"))
    assert "ほけん相談所" in names
    assert "旧ほけん相談所" not in names


def test_the_primary_contact_is_shown_or_else_the_first(app, niiza):
    with arranged(app):
        m = f.municipality(f.NIIZA)
        org = f.organization(m, "たんぽぽ子育てひろば", "shien_center")
        f.contact(org, "第一 太郎", confirmed=date(2026, 5, 1))
        f.contact(org, "第二 次郎", confirmed=date(2026, 5, 1), is_primary=True)
        none_flagged = f.organization(m, "ひまわり子育てひろば", "shien_center")
        first = f.contact(none_flagged, "最初 一子", confirmed=date(2026, 5, 1))
        f.contact(none_flagged, "二番 二子", confirmed=date(2026, 5, 1))
        first.is_primary = False  # e.g. a flag lost in an old import
    by_name = {r.name: r for r in _search(app, niiza["municipality_id"], "子育てひろば")}
    assert by_name["たんぽぽ子育てひろば"].contact.name == "第二 次郎"
    assert by_name["たんぽぽ子育てひろば"].contact.is_primary
    assert by_name["たんぽぽ子育てひろば"].other_contacts == 1
    assert by_name["ひまわり子育てひろば"].contact.name == "最初 一子"
    assert not by_name["ひまわり子育てひろば"].contact.is_primary


def test_results_carry_the_contact_details(app, niiza):
    r = _search(app, niiza["municipality_id"], "さとう").results[0]
    assert (r.name, r.category_label, r.status_label, r.phone) == ("新座市保健センター", "保健センター", "活動中", "048-477-1111")
    assert r.consultation_tags == ("育児不安", "発達相談", "健康・医療")  # the list's own order
    c = r.contact
    assert (c.name, c.title, c.phone, c.email, c.reachable_hours) == (
        "佐藤 花子", "母子保健係 保健師", "048-477-1112", "sato@niiza.example.jp", "平日 9:00〜17:00"
    )
    assert c.tel == "tel:0484771112"
    assert c.last_confirmed_on == date(2026, 5, 1)
    assert r.contact_count == 2
    assert _search(app, niiza["municipality_id"], "けいさつ").results[0].contact is None


@pytest.mark.parametrize("confirmed,expected", [
    (date(2026, 4, 1), Freshness.CURRENT),
    (date(2026, 3, 31), Freshness.DUE),  # before this year's 1 April transfers
    (date(2025, 11, 25), Freshness.DUE),
    (date(2025, 11, 24), Freshness.STALE),  # twelve months ago
    (None, Freshness.STALE),
])
def test_freshness_of_the_contact_is_reported(app, niiza, confirmed, expected):
    with arranged(app):
        org = f.organization(f.municipality(f.NIIZA), "確認日テスト会", "other")
        f.contact(org, "確認 太郎", confirmed=confirmed)
    assert _search(app, niiza["municipality_id"], "確認日テスト").results[0].contact.freshness is expected


def test_a_search_is_one_sql_statement_filtered_to_the_municipality(app, niiza):
    with count_queries(app) as statements:
        results = _search(app, niiza["municipality_id"], "ほけん")
    assert len(results) == 2
    assert len(statements) == 1, statements
    # the organisations and the contacts joined to them: each filtered by the tenant scope
    assert statements[0].count("member_organizations.municipality_id =") == 1, statements
    assert statements[0].count("contacts.municipality_id =") == 1, statements


def test_the_total_is_reported_when_more_match_than_are_shown(app, niiza):
    results = _search(app, niiza["municipality_id"], "新座", limit=2)
    assert len(results) == 2
    assert results.total == 3  # 保健センター, 第三小学校, 警察署
    assert results.more


def test_another_municipalitys_organisations_never_appear(app, niiza):
    with arranged(app):
        kawagoe = f.municipality(f.KAWAGOE)
        other = f.organization(kawagoe, "新座市保健センター", "hoken_center", name_kana="にいざしほけんせんたー")
        f.contact(other, "川越 花子", name_kana="かわごえ はなこ")
        f.organization(kawagoe, "川越市保健センター", "hoken_center")
    results = _search(app, niiza["municipality_id"], "ほけん")
    assert _names(results) == ["新座市保健センター", "にこにこ母子相談室"]
    assert results.total == 2
    assert results.results[0].contact.name == "佐藤 花子"
    assert _names(_search(app, niiza["municipality_id"], "かわごえ")) == []

    client = app.test_client()
    login(client, niiza["desk"])
    html = _fragment(client, f.NIIZA, "かわごえ")
    assert "川越" not in html
    assert "見つかりませんでした" in html


# ---------------------------------------------------------------- the pages


def test_desk_finds_whom_to_call_by_typing_hokensa_in_either_width(app, niiza):
    client = app.test_client()
    login(client, niiza["desk"])
    for q in ("ほけん", "ﾎｹﾝ"):
        response = client.get(f"/m/{f.NIIZA}/whom", query_string={"q": q})
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        assert "<html" in html
        assert 'aria-live="polite"' in html
        assert re.search(r'<input[^>]+type="search"[^>]+name="q"', html)
        assert '<label class="field__label" for="whom-q">' in html
        assert f'value="{q}"' in html  # the box keeps what was typed
        assert "新座市保健センター" in html.replace("<mark>", "").replace("</mark>", "")
        assert "佐藤 花子" in html
        assert 'href="tel:0484771112"' in html
        assert 'href="mailto:sato@niiza.example.jp"' in html
        assert "平日 9:00〜17:00" in html
        assert "2件見つかりました。" in html
        assert response.headers["Cache-Control"] == "no-store"
    assert "js/whom.js" in html
    assert "css/features/whom.css" in html


def test_the_name_links_to_the_organisation_page(app, niiza):
    client = app.test_client()
    login(client, niiza["desk"])
    html = _fragment(client, f.NIIZA, "けいさつ")
    match = re.search(r'<a href="(/m/112305/members/\d+)">', html)
    assert match, html
    assert client.get(match.group(1)).status_code == 200
    # every card links to its own organisation (the link is built once per page, then formatted per card)
    with app.app_context():
        set_scope(db.session, EVERYTHING)
        ids = {name: id_ for id_, name in db.session.execute(select(MemberOrganization.id, MemberOrganization.name))}
    html = _fragment(client, f.NIIZA, "新座")
    for name in ("新座市保健センター", "新座市立第三小学校"):
        assert f'<a href="/m/112305/members/{ids[name]}">' in html.replace("<mark>", "").replace("</mark>", "")


def test_the_fragment_is_only_the_results(app, niiza):
    client = app.test_client()
    login(client, niiza["desk"])
    html = _fragment(client, f.NIIZA, "ほけん")
    assert "<html" not in html and "<body" not in html and "<form" not in html
    assert html.count('data-testid="whom-result"') == 2
    assert "にいざし<mark>ほけん</mark>せんたー" in html  # the matched part of the reading is highlighted
    assert "新座市<mark>保健</mark>センター" in _fragment(client, f.NIIZA, "保健")
    # Nothing typed: a hint, not the whole list.
    empty = _fragment(client, f.NIIZA, "")
    assert 'data-testid="whom-result"' not in empty
    assert "入力してください" in empty


def test_the_menu_has_the_entry(app, niiza):
    client = app.test_client()
    login(client, niiza["desk"])
    html = client.get(f"/m/{f.NIIZA}/whom").get_data(as_text=True)
    assert re.search(r'<a href="/m/112305/whom" aria-current="page">誰に連絡？</a>', html)
    assert re.search(r'<a href="/m/112305/" >ホーム</a>', html)


def test_stale_and_due_contacts_are_warned_about_and_current_ones_are_not(app, niiza):
    today = today_jst()
    due_date = fiscal_year_start(today) - timedelta(days=1)
    with arranged(app):
        m = f.municipality(f.NIIZA)
        for name, confirmed in (("古い会", date(2000, 1, 1)), ("異動前の会", due_date), ("最新の会", today)):
            org = f.organization(m, name, "other", consultation_tags=["ひとり親"])
            f.contact(org, f"{name} 担当", confirmed=confirmed)
    client = app.test_client()
    login(client, niiza["desk"])
    stale = "12か月以上確認されていません。連絡先が変わっていないか確認してください。"
    due = "4月の異動後、まだ確認されていません。"

    html = _fragment(client, f.NIIZA, "古い会")
    assert stale in html and due not in html
    assert "⚠" in html  # an icon as well as the text, not colour alone
    assert "平成12年1月1日" in html  # 和暦
    html = _fragment(client, f.NIIZA, "最新の会")
    assert stale not in html and due not in html and 'data-testid="whom-warning"' not in html
    if freshness(due_date, today) is Freshness.DUE:  # on 31 March nothing can be "due"
        html = _fragment(client, f.NIIZA, "異動前の会")
        assert due in html and stale not in html


def test_an_organisation_without_a_contact_says_so(app, niiza):
    client = app.test_client()
    login(client, niiza["desk"])
    html = _fragment(client, f.NIIZA, "警察")
    assert "担当者が登録されていません" in html
    assert 'data-testid="whom-no-contact"' in html


def test_too_many_results_ask_to_narrow_down(app, niiza):
    with arranged(app):
        m = f.municipality(f.NIIZA)
        for i in range(31):
            f.organization(m, f"ひだまり保育園{i + 1}", "hoikusho")
    client = app.test_client()
    login(client, niiza["desk"])
    html = _fragment(client, f.NIIZA, "ひだまり")
    assert "30件以上見つかりました。絞り込んでください。" in html
    assert "全31件" in html
    assert html.count('data-testid="whom-result"') == 30


def test_sql_statements_do_not_grow_with_the_number_of_results(app, niiza):
    with arranged(app):
        m = f.municipality(f.NIIZA)
        for i in range(25):
            org = f.organization(m, f"すくすく教室{i + 1}", "npo")
            f.contact(org, "主 担当", confirmed=date(2026, 5, 1))
            f.contact(org, "副 担当", confirmed=date(2026, 5, 1))
    client = app.test_client()
    login(client, niiza["desk"])
    _fragment(client, f.NIIZA, "すくすく")  # warm up (templates, caches)
    counts = {}
    for q, n in (("第三小学校", 1), ("すくすく", 25)):
        with count_queries(app) as statements:
            html = _fragment(client, f.NIIZA, q)
        assert html.count('data-testid="whom-result"') == n
        counts[n] = len(statements)
    assert counts[1] == counts[25]
    # the user (with its own municipality), then the search's one statement
    assert counts[25] == 2, counts
    with count_queries(app) as statements:
        page = client.get("/m/112305/whom?q=すくすく")
    assert page.get_data(as_text=True).count('data-testid="whom-result"') == 25
    assert len(statements) == 2, statements  # the whole page: the same two


def test_admin_may_search_any_municipality(app, niiza):
    with arranged(app):
        admin = f.user(Role.ADMIN).email
    client = app.test_client()
    login(client, admin)
    assert "新座市保健センター" in _fragment(client, f.NIIZA, "ほけん")


@pytest.mark.parametrize("path", ["/m/112305/whom?q=ほけん", "/m/112305/whom/results?q=ほけん"])
def test_prefecture_officials_and_members_get_403(app, niiza, path):
    with arranged(app):
        m = f.municipality(f.NIIZA)
        org = db.session.scalar(select(MemberOrganization).where(MemberOrganization.name == "新座警察署"))
        users = [f.user(Role.PREFECTURE).email, f.user(Role.MEMBER, m, organization_=org).email]
    for email in users:
        client = app.test_client()
        login(client, email)
        response = client.get(path)
        assert response.status_code == 403
        assert "佐藤" not in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/m/112305/whom", "/m/112305/whom/results?q=ほけん"])
def test_anonymous_users_are_sent_to_login(app, niiza, path):
    response = app.test_client().get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_another_municipalitys_page_is_404(app, niiza):
    with arranged(app):
        f.municipality(f.KAWAGOE)
    client = app.test_client()
    login(client, niiza["desk"])
    assert client.get(f"/m/{f.KAWAGOE}/whom/results?q=ほけん").status_code == 404


# ---------------------------------------------------------------- highlighting


def test_highlight_maps_folded_matches_back_onto_the_text():
    assert highlight("ﾎｹﾝｾﾝﾀｰ", ("ホケン",)) == "<mark>ﾎｹﾝ</mark>ｾﾝﾀｰ"
    assert highlight("ﾊﾞｽ停", ("バス",)) == "<mark>ﾊﾞｽ</mark>停"
    assert highlight("にいざしほけんせんたー", ("ホケンセンタ",)) == "にいざし<mark>ほけんせんた</mark>ー"
    assert highlight("こ・そ・だ・て", ("コソダテ",)) == "<mark>こ・そ・だ・て</mark>"
    assert highlight("<b>保健</b>", ("保健",)) == "&lt;b&gt;<mark>保健</mark>&lt;/b&gt;"
    assert highlight("保健センター", ()) == "保健センター"

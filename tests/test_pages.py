"""What users see: the base layout, the municipality home, the dashboard."""

import re

import pytest

from portal.accounts.models import Role
from tests import factories as f
from tests.conftest import arranged, count_queries, login


@pytest.fixture
def saitama(app):
    with arranged(app):
        niiza, _saitama_city = f.saitama()  # the headline counts declared 設置済 (issue 6)
        return {
            "desk": f.user(Role.DESK, niiza).email,
            "prefecture": f.user(Role.PREFECTURE).email,
        }


def test_base_layout_is_japanese_and_accessible(client):
    html = client.get("/login").get_data(as_text=True)
    assert '<html lang="ja">' in html
    assert '<a class="skip-link" href="#main">本文へ移動</a>' in html
    assert '<main id="main"' in html
    assert "<header" in html and "<footer" in html
    assert 'name="viewport"' in html


def test_login_form_fields_are_email_and_password(client):
    html = client.get("/login").get_data(as_text=True)
    assert 'name="email"' in html and 'name="password"' in html and 'name="csrf_token"' in html


def test_pages_load_nothing_from_other_sites(client, saitama):
    login(client, saitama["prefecture"])
    for path in ["/", "/login", "/dashboard/"]:
        html = client.get(path, follow_redirects=True).get_data(as_text=True)
        external = re.findall(r'(?:src|href)="(https?:)?//', html)
        assert external == [], path


def test_static_assets_are_served_by_the_app(client):
    css = client.get("/static/css/app.css")
    assert css.status_code == 200
    assert "--color-key" in css.get_data(as_text=True)


def test_security_headers(client):
    response = client.get("/login")
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    for name in ("Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy",
                 "Permissions-Policy"):
        assert len(response.headers.getlist(name)) == 1, name


def test_a_header_the_response_set_itself_is_kept(app):
    from flask import Response

    from portal.security.headers import _add_headers

    with app.test_request_context("/login"):
        response = _add_headers(Response("x", headers={"x-frame-options": "SAMEORIGIN"}))
    assert response.headers.getlist("X-Frame-Options") == ["SAMEORIGIN"]
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_municipality_home_shows_its_network(client, saitama):
    login(client, saitama["desk"])
    html = client.get("/m/112305/").get_data(as_text=True)
    assert "新座市" in html
    assert "新座市子育てネットワーク推進委員会" in html
    assert "平成22年4月1日" in html  # 和暦
    assert "さいたま市子育て支援ネットワーク全体会議" not in html


def test_dashboard_lists_all_63_municipalities(client, saitama):
    login(client, saitama["prefecture"])
    html = client.get("/dashboard/").get_data(as_text=True)
    assert html.count('<th scope="row">') == 63
    assert "市町村一覧（63）" in html
    assert "新座市子育てネットワーク推進委員会" in html
    assert re.search(r"2 <span class=\"stat__unit\">/ 63</span>", html)


def test_dashboard_uses_a_constant_number_of_queries(app, client, saitama):
    login(client, saitama["prefecture"])
    client.get("/dashboard/")
    with count_queries(app) as few:
        client.get("/dashboard/")
    with arranged(app):
        for code in ("112011", "112020", "112038"):
            f.network(f.municipality(code))
    with count_queries(app) as more:
        client.get("/dashboard/")
    assert len(more) == len(few)
    assert len(few) <= 4


def test_the_pages_of_a_fixed_cost_ask_the_database_only_what_they_show(app, client, saitama):
    """Pinned (issue 14): the login page reads nothing; the public join form the municipality, its
    network and desk; a signed-in page the session's user (with the user's own municipality, so a
    desk's page does not look it up again)."""
    anonymous = app.test_client()
    for path, expected in (("/login", 0), (f"/m/{f.NIIZA}/join", 3)):
        anonymous.get(path)
        with count_queries(app) as statements:
            assert anonymous.get(path).status_code == 200
        assert len(statements) == expected, (path, statements)
    login(client, saitama["desk"])
    for path, expected in (("/account/password", 1), (f"/m/{f.NIIZA}/network/edit", 2)):
        client.get(path)
        with count_queries(app) as statements:
            assert client.get(path).status_code == 200
        assert len(statements) == expected, (path, statements)


def test_unknown_page_is_a_japanese_404(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "ページが見つかりません" in response.get_data(as_text=True)


def test_home_redirects_logged_in_users(client, saitama):
    assert client.get("/").status_code == 200
    login(client, saitama["desk"])
    assert client.get("/").headers["Location"] == "/m/112305/"


def test_a_too_large_body_gets_the_japanese_413_page(client):
    response = client.post("/login", data={"email": "x" * (11 * 1024 * 1024)})
    assert response.status_code == 413
    assert "ファイルが大きすぎます" in response.get_data(as_text=True)


def test_desk_home_figures_and_a_constant_number_of_queries(app, client, saitama):
    from datetime import timedelta

    from portal.timeutil import today_jst

    login(client, saitama["desk"])
    client.get("/m/112305/")
    with count_queries(app) as few:
        client.get("/m/112305/")
    today = today_jst()
    with arranged(app):
        m = f.municipality(f.NIIZA)
        nursery = f.organization(m, "見本保育園", "hoikusho")
        f.contact(nursery, "見本 花子")  # current: the category is present
        f.contact(nursery, "見本 次郎", confirmed=None)  # never confirmed: stale
        centre = f.organization(m, "見本保健センター", "hoken_center")
        f.contact(centre, "例示 太郎", confirmed=today - timedelta(days=400))  # stale: present it is not
        f.organization(m, "見本の会", "circle", status="applying")
        f.organization(m, "見本クラブ", "circle", status="left")
        f.contact(f.organization(f.municipality(f.SAITAMA), "さいたま保育園", "hoikusho"), "別市 一郎")
    with count_queries(app) as more:
        html = client.get("/m/112305/").get_data(as_text=True)
    assert len(more) == len(few)
    # the user (with its own municipality), network, the organisations by category and status with the
    # contacts' figures, then the handover counts (2)
    assert len(few) == 5, few
    figures = re.findall(r'<p class="stat__value">(.*?)</p>', html)
    assert figures == ["2", '1 <span class="stat__unit">/ 10</span>', '2 <span class="stat__unit">/ 3</span>']
    assert '<p class="stat__sub">申請中 1</p>' in html

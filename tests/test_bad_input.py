"""Input no route may choke on: NUL and control characters, overflowing integers,
JSON bodies, over-long searches; every refusal a Japanese page and nothing stored.

The checks are central (portal/security/input.py), so these tests walk
``app.url_map`` rather than trusting a list of routes.
"""

from __future__ import annotations

import re

import pytest
from flask import abort
from sqlalchemy import func, select
from werkzeug.exceptions import default_exceptions
from werkzeug.routing import IntegerConverter

from portal.accounts.models import Role
from portal.extensions import db
from portal.search import SEARCH_MAX_CHARS
from portal.security.policy import public
from tenants.activities.models import NetworkActivity
from tenants.core.audit import AuditEntry
from tenants.handovers.models import Consultation
from tenants.members.models import Contact, MemberOrganization
from tenants.registration.models import Registration
from tenants.scoping import EVERYTHING, set_scope
from tests import factories as f
from tests.conftest import arranged, csrf_token, login
from tests.support.routes import path_for, routes

M = f"/m/{f.NIIZA}"
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


@pytest.fixture
def world(app):
    with arranged(app):
        m, org = f.one_member()
        return {"desk": f.user(Role.DESK, m).email, "admin": f.user(Role.ADMIN).email, "org_id": org.id}


def _is_japanese_page(response) -> bool:
    html = response.get_data(as_text=True)
    return '<html lang="ja">' in html and JAPANESE.search(html) is not None and "トップページへ戻る" in html


def _counts(app):
    with app.app_context():
        set_scope(db.session, EVERYTHING)
        return tuple(db.session.scalar(select(func.count()).select_from(model))
                     for model in (MemberOrganization, Contact, AuditEntry, NetworkActivity, Consultation, Registration))


# --- NUL and control characters ---------------------------------------------------


def test_nul_in_any_query_string_is_a_japanese_400(app, client, world):
    login(client, world["admin"])
    rules = routes(app, "GET")
    assert len(rules) > 30
    for rule in rules:
        for query in ("q=%00", "entity=%00", "page=1%00", "%00=1"):
            response = client.get(f"{path_for(rule)}?{query}")
            assert response.status_code == 400, (rule.rule, query, response.status_code)
            assert _is_japanese_page(response), rule.rule
            assert "NUL" in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/m/%00/", "/m/%00/members", f"{M}/members/%00/edit", "/dashboard/m/%00"])
def test_nul_in_the_path_is_not_found(client, world, path):
    login(client, world["desk"])
    response = client.get(path)
    assert response.status_code == 404
    assert _is_japanese_page(response)


# The forms the bad-input run broke on PostgreSQL, one field each holding NUL.
NUL_FORMS = [
    ("/members/new", {"name": "保健\x00センター", "category": "npo", "status": "active"}),
    ("/members/new", {"name": "保健センター", "name_kana": "ほけん\x00", "category": "npo", "status": "active"}),
    ("/members/new", {"name": "保健センター", "category": "npo\x00", "status": "active"}),
    ("/members/new", {"name": "保健センター", "category": "npo", "status": "active", "note": "\x00"}),
    ("/members/{org}/contacts/new", {"name": "見本\x00太郎"}),
    ("/members/{org}/contacts/new", {"name": "見本 太郎", "email": "a\x00@example.jp"}),
    ("/members/{org}/edit", {"name": "新座市保健センター\x00", "category": "hoken_center", "status": "active"}),
    ("/network/edit", {"name": "ネットワーク\x00"}),
    ("/activities/new", {"title": "情報交換会\x00", "kind": "exchange", "held_on": "2026-11-01"}),
    ("/handovers/consultations/new", {"summary": "相談\x00内容", "kind": "x", "consent": "given"}),
    ("/status", {"status": "established", "note": "\x00"}),
    ("/join", {"org_name": "子育て\x00サークル"}),
]


@pytest.mark.parametrize("path,data", NUL_FORMS, ids=[f"{p} {sorted(d)}" for p, d in NUL_FORMS])
def test_nul_in_a_form_field_is_refused_and_nothing_is_stored(app, client, world, path, data):
    login(client, world["desk"])
    url = M + path.format(org=world["org_id"])
    before = _counts(app)
    response = client.post(url, data={**data, "csrf_token": csrf_token(client)})
    assert response.status_code == 400
    assert _is_japanese_page(response)
    assert "使えない文字" in response.get_data(as_text=True)
    assert _counts(app) == before


def test_every_post_route_refuses_nul_before_touching_the_database(app, client, world):
    login(client, world["admin"])
    token = csrf_token(client)
    for rule in routes(app, "POST"):
        response = client.post(path_for(rule), data={"csrf_token": token, "name": "\x00"})
        assert response.status_code == 400, (rule.rule, response.status_code)
        assert _is_japanese_page(response), rule.rule


def test_other_control_characters_are_stripped_tab_and_newline_kept(app, client, world):
    login(client, world["desk"])
    response = client.post(f"{M}/activities/new", data={
        "kind": "exchange", "held_on": "2026-11-01", "title": "情報\x0b交換会\x1b", "note": "一行目\r\n二行目\t\x07終",
        "csrf_token": csrf_token(client),
    })
    assert response.status_code == 302
    with app.app_context():
        set_scope(db.session, EVERYTHING)
        activity = db.session.scalar(select(NetworkActivity))
        assert activity.title == "情報交換会"
        assert activity.note.replace("\r\n", "\n") == "一行目\n二行目\t終"


# --- integers ------------------------------------------------------------------


def test_every_id_in_a_path_beyond_the_database_integer_is_not_found(app, client, world):
    login(client, world["admin"])
    token = csrf_token(client)
    rules = [r for r in app.url_map.iter_rules()
             if any(isinstance(c, IntegerConverter) for c in r._converters.values())]
    assert len(rules) >= 15
    for rule in rules:
        ints = {a: 2**31 for a, c in rule._converters.items() if isinstance(c, IntegerConverter)}
        for method in sorted(rule.methods & {"GET", "POST"}):
            for value in (2**31, 10**20):
                path = path_for(rule, **dict.fromkeys(ints, value))
                response = client.open(path, method=method, data={"csrf_token": token} if method == "POST" else None)
                assert response.status_code == 404, (method, path, response.status_code)
                assert _is_japanese_page(response)
        # The largest INTEGER itself is a valid id that simply does not exist.
        response = client.get(path_for(rule, **dict.fromkeys(ints, 2 ** 31 - 1))) if "GET" in rule.methods else None
        assert response is None or response.status_code in (302, 403, 404, 405), (rule.rule, response.status_code)


def test_huge_page_numbers_never_fail(app, client, world):
    login(client, world["admin"])
    for rule in routes(app, "GET"):
        response = client.get(f"{path_for(rule)}?page=100000000000000000")
        assert response.status_code < 500, (rule.rule, response.status_code)
        if response.status_code >= 400:  # an error page, or a page of its own (an invalid link: 410)
            html = response.get_data(as_text=True)
            assert '<html lang="ja">' in html and JAPANESE.search(html), rule.rule
    assert client.get("/admin/outbox?page=100000000000000000").status_code == 404
    desk = app.test_client()
    login(desk, world["desk"])
    for path in ("/members", "/audit", "/handovers", "/registrations", "/activities", "/handovers/access-log"):
        assert desk.get(f"{M}{path}?page=100000000000000000").status_code == 404, path
        assert desk.get(f"{M}{path}?page=-3").status_code == 200, path


@pytest.mark.parametrize("value", ["2147483648", "99999999999999999999", "-1", "abc"])
def test_integer_query_parameters_out_of_range_count_as_missing(client, world, value):
    login(client, world["desk"])
    for path in ("/handovers/access-log", "/handovers/access-log.csv"):
        response = client.get(f"{M}{path}?consultation={value}")
        assert response.status_code == 200, (path, response.status_code)


# --- content types ----------------------------------------------------------------


def test_json_bodies_are_refused_on_every_post_route_and_create_nothing(app, client, world):
    login(client, world["desk"])
    token = csrf_token(client)
    before = _counts(app)
    bodies = ['{"name": "JSONの団体", "category": "npo", "status": "active"}', '[1, 2]', '{"name": 5}', "null"]
    for rule in routes(app, "POST"):
        for body in bodies:
            response = client.post(path_for(rule), data=body, content_type="application/json",
                                   headers={"X-CSRFToken": token})
            assert response.status_code == 415, (rule.rule, response.status_code)
            assert _is_japanese_page(response)
        response = client.post(path_for(rule), data="<a/>", content_type="text/xml", headers={"X-CSRFToken": token})
        assert response.status_code == 415
    assert _counts(app) == before


def test_form_posts_and_empty_posts_still_work(client, world):
    login(client, world["desk"])
    token = csrf_token(client)
    response = client.post(f"{M}/members/new", data={"name": "子育てひろば", "category": "npo", "status": "active",
                                                      "csrf_token": token})
    assert response.status_code == 302
    # A logout form posts urlencoded; a bodiless POST (no content type at all) is not refused as a type.
    assert client.post("/logout").status_code in (302, 400)


# --- over-long searches and server errors ------------------------------------------


def test_over_long_searches_answer_in_japanese_on_the_normal_page(client, world):
    login(client, world["desk"])
    long_query = "新座市の保健センター" * 46  # ≈ 460 characters, as pasted
    for path, marker in ((f"{M}/members", "構成員"), (f"{M}/whom", "誰に連絡"), (f"{M}/whom/results", None)):
        response = client.get(path, query_string={"q": long_query})
        assert response.status_code == 200, path
        html = response.get_data(as_text=True)
        assert f"{SEARCH_MAX_CHARS}文字まで" in html, path
        assert marker is None or marker in html
        assert long_query not in html  # not searched, not echoed
    home = client.get(f"{M}/").get_data(as_text=True)
    assert f'id="quick-q" name="q" placeholder="例: ほけん、発達、一時預かり" maxlength="{SEARCH_MAX_CHARS}"' in home
    assert f'maxlength="{SEARCH_MAX_CHARS}"' in client.get(f"{M}/members").get_data(as_text=True)
    short = client.get(f"{M}/members", query_string={"q": "保健"}).get_data(as_text=True)
    assert "新座市保健センター" in short and "文字まで" not in short


def test_over_long_dashboard_name_search(client, world):
    login(client, world["admin"])
    response = client.get("/dashboard/", query_string={"q": "にいざ" * 200})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f"{SEARCH_MAX_CHARS}文字まで" in html and f'maxlength="{SEARCH_MAX_CHARS}"' in html


def test_every_http_error_renders_the_japanese_page(app, world):
    @app.get("/__raise/<int:status>")
    @public
    def _raise(status):  # a route that answers with any HTTP error werkzeug knows
        abort(status)

    client = app.test_client()
    codes = sorted(c for c in default_exceptions if c >= 400)
    assert {413, 414, 431} <= set(codes)
    for code in codes:
        response = client.get(f"/__raise/{code}")
        assert response.status_code == code
        html = response.get_data(as_text=True)
        assert _is_japanese_page(response), code
        assert f"エラー {code}" in html
        assert not re.search(r"<h1[^>]*>[ -~]*</h1>", html), code  # no English title
    assert "Allow" in client.post("/__raise/1").headers  # 405 from the router keeps its Allow header

"""No signed-in page or download is kept by any cache; HSTS over HTTPS in production."""

from __future__ import annotations

import pytest

from portal import create_app
from portal.accounts.models import Role
from tests import factories as f
from tests.conftest import TEST_CONFIG, arranged, login
from tests.support.routes import path_for

M = f"/m/{f.NIIZA}"
# Assets that choose their own (long) caching: nothing personal in them.
CACHEABLE = {"static", "dashboard.plotly_js", "dashboard.plotly_css"}


@pytest.fixture
def world(app):
    with arranged(app):
        m, org = f.one_member()
        member = f.user(Role.MEMBER, m, organization_=org).email
        return {"desk": f.user(Role.DESK, m).email, "admin": f.user(Role.ADMIN).email, "member": member}


@pytest.mark.parametrize("who", ["desk", "admin", "member"])
def test_every_page_and_download_for_a_signed_in_user_is_no_store(app, client, world, who):
    login(client, world[who])
    seen = 0
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint in CACHEABLE or rule.endpoint == "accounts.login":
            continue
        response = client.get(path_for(rule))
        assert response.headers.get("Cache-Control") == "no-store", (rule.rule, response.status_code)
        seen += response.status_code == 200
    assert seen >= (10 if who != "member" else 3)


@pytest.mark.parametrize("path", [
    f"{M}/members/export.csv", f"{M}/members/export.xlsx", f"{M}/handovers/access-log.csv", f"{M}/members",
])
def test_downloads_are_no_store(client, world, path):
    login(client, world["desk"])
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"


def test_anonymous_pages_keep_default_caching_and_assets_their_own(client, world):
    assert "no-store" not in client.get("/login").headers.get("Cache-Control", "")
    login(client, world["admin"])
    response = client.get("/static/css/app.css")
    assert "no-store" not in response.headers.get("Cache-Control", "")


def _hsts(database, mode, base_url):
    app = create_app({**TEST_CONFIG, "KOSODATE_ENV": mode, "SQLALCHEMY_DATABASE_URI": database.new_url()})
    return app.test_client().get("/login", base_url=base_url).headers.get("Strict-Transport-Security")


def test_hsts_only_over_https_in_production(app, database):
    assert _hsts(database, "production", "https://kosodate.example.jp") == "max-age=31536000; includeSubDomains"
    assert _hsts(database, "production", "http://kosodate.example.jp") is None
    assert _hsts(database, "development", "https://kosodate.example.jp") is None

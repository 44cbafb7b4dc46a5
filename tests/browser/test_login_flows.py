"""In a real browser: desk staff and a prefecture official log in and see their homes."""

import pytest

from portal.accounts.models import Role
from tests import factories as f
from tests.browser.conftest import log_in
from tests.conftest import arranged

pytestmark = pytest.mark.browser


@pytest.fixture
def saitama(app):
    with arranged(app):
        niiza, _saitama_city = f.saitama()  # the dashboard shows the declared status (issue 6)
        return {
            "desk": f.user(Role.DESK, niiza, email="desk.niiza@example.jp").email,
            "prefecture": f.user(Role.PREFECTURE, email="pref@example.jp").email,
        }


def test_desk_staff_logs_in_and_sees_the_municipality_home(page, live_server, saitama, shoot):
    page.goto(live_server + "/login")
    shoot("login")
    log_in(page, live_server, saitama["desk"])
    page.wait_for_url(live_server + "/m/112305/")
    assert page.get_by_role("heading", level=1).inner_text() == "新座市"
    assert page.get_by_text("新座市子育てネットワーク推進委員会").is_visible()
    shoot("municipality-home")
    shoot("municipality-home-360", width=360)
    # Nothing overflows sideways at 360 px.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    page.get_by_role("button", name="ログアウト").click()
    page.wait_for_url(live_server + "/login")
    assert page.get_by_text("ログアウトしました。").is_visible()


def test_prefecture_official_sees_all_63_municipalities(page, live_server, saitama, shoot):
    log_in(page, live_server, saitama["prefecture"])
    page.wait_for_url(live_server + "/dashboard/")
    rows = page.locator("[data-testid=municipality-table] tbody tr")
    assert rows.count() == 63
    assert page.get_by_role("row", name="新座市").get_by_text("設置済", exact=True).is_visible()
    shoot("dashboard")
    shoot("dashboard-360", width=360)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


def test_wrong_password_shows_the_message_and_focus_is_visible(page, live_server, saitama, shoot):
    log_in(page, live_server, saitama["desk"], "not-the-password")
    assert page.get_by_text("メールアドレスまたはパスワードが正しくありません。").is_visible()
    # Keyboard and screen-reader users: the error summary takes the focus on load, so it is
    # read out first; the next Tab lands on a control in view.
    assert page.evaluate("document.activeElement.matches('[data-error-summary]')")
    page.keyboard.press("Tab")
    focused = page.evaluate(
        "(() => { const e = document.activeElement, r = e.getBoundingClientRect();"
        " return {tag: e.tagName, y: r.y, h: r.height}; })()")
    assert focused["tag"] in ("INPUT", "A", "BUTTON") and focused["h"] > 0
    assert 0 <= focused["y"] < page.viewport_size["height"]
    shoot("login-error-focus")
    # On a fresh page the first Tab lands on the skip link, which becomes visible.
    page.goto(live_server + "/login")
    page.keyboard.press("Tab")
    skip = page.get_by_text("本文へ移動")
    assert skip.is_visible()
    assert skip.bounding_box()["y"] >= 0


def test_desk_of_one_city_gets_404_for_another(page, live_server, saitama, shoot):
    log_in(page, live_server, saitama["desk"])
    page.wait_for_url(live_server + "/m/112305/")
    response = page.goto(live_server + "/m/111007/")
    assert response.status == 404
    assert page.get_by_role("heading", name="ページが見つかりません").is_visible()

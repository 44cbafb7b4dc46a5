"""In a real browser: 誰に連絡？ answers as the desk types, without pressing Enter."""

import re
from datetime import date

import pytest

from portal.accounts.models import Role
from tests import factories as f
from tests.browser.conftest import log_in
from tests.conftest import arranged

pytestmark = pytest.mark.browser


@pytest.fixture
def niiza(app):
    with arranged(app):
        m = f.municipality(f.NIIZA)
        center = f.organization(m, "新座市保健センター", "hoken_center", name_kana="にいざしほけんせんたー",
                                phone="048-477-1111", consultation_tags=["発達相談", "健康・医療"])
        f.contact(center, "佐藤 花子", name_kana="さとう はなこ", title="母子保健係", phone="048-477-1112",
                  email="sato@niiza.example.jp", reachable_hours="平日 9:00〜17:00", confirmed=date(2000, 4, 1))
        f.organization(m, "新座警察署", "keisatsu", name_kana="にいざけいさつしょ")
        return f.user(Role.DESK, m).email


def test_typing_hokensa_in_half_width_kana_shows_whom_to_call(page, live_server, niiza, shoot):
    log_in(page, live_server, niiza, landing="/m/112305/")

    page.goto(live_server + "/m/112305/whom")
    page.evaluate("window.stillTheSamePage = true")  # gone if the form were submitted
    box = page.get_by_role("searchbox", name="団体名・区分・相談の内容・担当者名")
    box.press_sequentially("ﾎｹﾝ", delay=80)  # one character at a time, no Enter

    result = page.locator("[data-testid=whom-result]")
    result.first.wait_for()
    assert result.count() == 1
    assert "新座市保健センター" in result.inner_text()
    assert page.get_by_role("link", name="048-477-1112").get_attribute("href") == "tel:0484771112"
    assert page.get_by_text("12か月以上確認されていません。").is_visible()
    assert page.evaluate("window.stillTheSamePage") is True
    # The address follows the box, so the search can be shared or reloaded.
    page.wait_for_url(re.compile(r"/m/112305/whom\?q=%EF%BE%8E%EF%BD%B9%EF%BE%9D$"))
    shoot("whom")

    # Changing the words updates the results again.
    box.fill("けいさつ")
    page.get_by_text("担当者が登録されていません").wait_for()
    assert "新座警察署" in result.inner_text()
    shoot("whom-360", width=360)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    page.reload()
    assert box.input_value() == "けいさつ"
    assert "新座警察署" in result.inner_text()

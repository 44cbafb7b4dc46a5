"""Issue 12, items 7, 8, 10: nothing a user needs hides off-screen, at 1280 px or at 360 px.

The desk menu: every item in view on a wide screen, one tap away on a phone,
by keyboard too, the current page marked. The main lists become cards on a
phone: every cell inside the 360 px, nothing scrolls sideways."""

import re

import pytest
from sqlalchemy import update

from portal.accounts.models import Role
from tenants import demo
from tenants.handovers.models import Consultation
from tenants.members import services as members
from tenants.models import Municipality
from tests import factories as f
from tests.browser.conftest import SCREENSHOTS, log_in
from tests.conftest import arranged

pytestmark = pytest.mark.browser

BASE = f"/m/{f.NIIZA}"
DESK_MENU = ["ホーム", "引継ぎ", "構成員", "誰に連絡？", "ネットワーク", "設置状況", "活動記録", "担当者の確認",
             "登録申請", "変更の承認", "変更履歴"]
PHONE = {"width": 360, "height": 800}


@pytest.fixture
def niiza(app):
    with arranged(app) as session:
        demo.load_demo()  # 新座市's members, three handovers, the 63 municipalities' statuses
        m = session.query(Municipality).filter_by(code=f.NIIZA).one()
        # 「健康・医療」 wrapped one character per line in the inbox at 360 px.
        session.execute(update(Consultation).where(Consultation.case_reference == "デモ-001").values(category="health"))
        f.registration(m, "NPO法人 子育てひだまり（架空）", contact_name="架空 美咲")
        hoken = members.find_organization_by_name("新座市保健センター")
        return {
            "desk": f.user(Role.DESK, m, email="desk@niiza.example.jp").email,
            "hoken": f.user(Role.MEMBER, m, organization_=hoken, email="hoken@niiza.example.jp").email,
            "official": f.user(Role.PREFECTURE, email="official@example.jp").email,
        }


def _menu(page):
    return page.get_by_role("navigation", name="新座市のメニュー")


def _inside(page, box, width):
    assert box is not None
    return box["x"] >= 0 and box["x"] + box["width"] <= width + 0.5


def test_every_menu_item_is_in_view_or_one_tap_away(page, live_server, niiza, shoot):
    base = live_server
    log_in(page, base, niiza["desk"], landing=BASE + "/")
    page.goto(base + BASE + "/members")

    # 1280 px: all eleven items at once, grouped, none scrolled out of the menu.
    menu = _menu(page)
    for label in DESK_MENU:
        link = menu.get_by_role("link", name=label, exact=True)
        assert link.is_visible(), label
        assert _inside(page, link.bounding_box(), 1280), label
    assert menu.get_by_role("group").all_inner_texts()[0].startswith("日々の仕事")
    assert [g.get_attribute("aria-labelledby") for g in menu.get_by_role("group").all()] == [
        "nav-bar-daily", "nav-bar-network", "nav-bar-admin"]
    assert page.evaluate("[...document.querySelectorAll('.local-nav *')].every(e => e.scrollWidth <= e.clientWidth + 1)")
    assert menu.locator("[aria-current=page]:visible").inner_text() == "構成員"
    # One row of groups at 1280 px: the menu is no taller than a heading and a line of links.
    assert menu.bounding_box()["height"] < 80, menu.bounding_box()
    shoot("menu-1280")

    # 360 px: one disclosure, closed; the current page is named on it.
    page.set_viewport_size(PHONE)
    toggle = menu.locator("summary")
    assert toggle.is_visible() and "構成員" in toggle.inner_text()
    assert not menu.get_by_role("link", name="変更履歴").is_visible()
    shoot("menu-360-closed", width=360)
    # One tap opens every item, each inside the screen.
    toggle.click()
    for label in DESK_MENU:
        link = menu.get_by_role("link", name=label, exact=True)
        assert link.is_visible(), label
        assert _inside(page, link.bounding_box(), 360), label
    assert menu.locator("[aria-current=page]:visible").inner_text() == "構成員"
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 360
    shoot("menu-360-open", width=360)
    menu.get_by_role("link", name="変更履歴").click()
    page.wait_for_url(base + BASE + "/audit")

    # Keyboard only, no script needed: Tab to the menu, Enter opens it, Tab reaches the items.
    page.goto(base + BASE + "/network")
    page.locator("summary").focus()
    page.keyboard.press("Enter")
    assert _menu(page).get_by_role("link", name="登録申請").is_visible()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "ホーム"


def _cells_fit(page, testid):
    """Every cell of the list's rows lies inside 360 px, and the page does not scroll sideways."""
    table = page.get_by_test_id(testid)
    rows = table.locator("tbody tr")
    assert rows.count() > 0, testid
    for r in range(min(rows.count(), 3)):
        for cell in rows.nth(r).locator("th, td").all():
            if cell.is_visible():
                assert _inside(page, cell.bounding_box(), 360), (testid, cell.inner_text())
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 360, testid
    return rows


def _labelled(row, label):
    """The text of the cell whose data-label is `label` (what a phone shows under that label)."""
    cell = row.locator(f'[data-label="{label}"]')
    assert cell.is_visible(), label
    return cell.inner_text()


def test_main_lists_are_cards_on_a_phone(browser, page, live_server, niiza, shoot, database):
    base = live_server
    page.set_viewport_size(PHONE)
    log_in(page, base, niiza["desk"], landing=BASE + "/")

    # 構成員: 名称, 主担当 and 電話番号 all on screen.
    page.goto(base + BASE + "/members")
    rows = _cells_fit(page, "member-table")
    row = rows.filter(has_text="新座市保健センター")
    assert re.search(r"\d{2,4}-\d{2,4}-\d{4}", _labelled(row, "電話番号"))
    assert _labelled(row, "主担当").strip()
    shoot("member-list-360", width=360)
    page.set_viewport_size({"width": 1280, "height": 900})
    shoot("member-list-1280")
    page.set_viewport_size(PHONE)

    # The desk's inboxes: 状態 and 回答期限 on screen; 「健康・医療」 on one line.
    page.goto(base + BASE + "/handovers?box=outgoing&show=all")
    rows = _cells_fit(page, "inbox-table")
    first = rows.filter(has_text="健康・医療").first
    assert _labelled(first, "状態") and _labelled(first, "回答期限")
    category = first.locator('[data-label="区分"]')
    line = float(category.evaluate("e => parseFloat(getComputedStyle(e).lineHeight)"))
    label_and_one_line = 12 * 1.5 + line  # the data-label line, then the value on one line
    assert category.bounding_box()["height"] <= label_and_one_line + 2, category.bounding_box()
    shoot("handover-inbox-desk-cards-360", width=360)
    for box in ("incoming", "consultations", "overdue"):
        page.goto(base + BASE + f"/handovers?box={box}&show=all")
        if page.get_by_test_id("inbox-table").count():
            _cells_fit(page, "inbox-table")

    # 登録申請, 担当者の確認 (after starting a round), 閲覧記録.
    page.goto(base + BASE + "/registrations")
    row = _cells_fit(page, "registration-table").first
    assert _labelled(row, "申請日時") and _labelled(row, "状態")
    page.goto(base + BASE + "/reconfirmation")
    page.get_by_role("button", name="再確認を始める").click()
    row = _cells_fit(page, "progress-table").first
    assert _labelled(row, "担当者") and _labelled(row, "状態")
    page.goto(base + BASE + "/handovers?box=outgoing&show=all")
    page.get_by_test_id("inbox-row").first.get_by_role("link").first.click()  # one opening, logged
    page.goto(base + BASE + "/handovers/access-log")
    row = _cells_fit(page, "access-log").first
    assert _labelled(row, "操作") and _labelled(row, "利用者")
    shoot("handover-access-log-360", width=360)

    # A member's inbox: 状態 and 回答期限 of what arrived.
    member = browser.new_context(locale="ja-JP", timezone_id="Asia/Tokyo", viewport=PHONE)
    try:
        mpage = member.new_page()
        log_in(mpage, base, niiza["hoken"], landing=BASE + "/")
        mpage.goto(base + BASE + "/handovers?show=all")
        row = _cells_fit(mpage, "inbox-table").first
        assert _labelled(row, "状態") and _labelled(row, "回答期限")
        mpage.screenshot(path=str(SCREENSHOTS / f"handover-inbox-member-360-{database.name}.png"), full_page=True)
    finally:
        member.close()

    # The prefecture's table of 63 municipalities.
    official = browser.new_context(locale="ja-JP", timezone_id="Asia/Tokyo", viewport=PHONE)
    try:
        opage = official.new_page()
        log_in(opage, base, niiza["official"], landing="/dashboard/")
        row = _cells_fit(opage, "municipality-table").filter(has_text="新座市")
        assert _labelled(row, "申告") and _labelled(row, "構成員")
        # The sort links stay in sight above the cards, so a keyboard never focuses something unseen.
        sort = opage.get_by_test_id("municipality-table").get_by_role("link", name=re.compile("^構成員"))
        assert sort.is_visible() and _inside(opage, sort.bounding_box(), 360)
        opage.screenshot(path=str(SCREENSHOTS / f"dashboard-cards-360-{database.name}.png"), full_page=True)
    finally:
        official.close()

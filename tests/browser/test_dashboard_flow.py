"""Issue 6 as a prefecture official lives it: the 63 municipalities of 埼玉県, a status
change that moves the headline and the chart, the map, a drill-down and the Excel export.
Everything comes from 127.0.0.1: no map tiles, no CDN."""

from urllib.parse import urlparse

import openpyxl
import pytest
from playwright.sync_api import expect

from portal.accounts.models import Role
from portal.timeutil import today_jst
from tenants import demo
from tests import factories as f
from tests.browser.conftest import log_in
from tests.conftest import arranged

pytestmark = pytest.mark.browser


@pytest.fixture
def official(app):
    with arranged(app):
        demo.load_demo()  # 埼玉県, さいたま市 and 新座市 設置済, a few 準備中
        return f.user(Role.PREFECTURE, email="official@example.jp").email


def _chart_points(page) -> int:
    return page.evaluate("document.querySelector('[data-figure=progress-figure]').data[0].y.slice(-1)[0]")


def test_prefecture_official_follows_the_rollout(page, live_server, official, shoot, tmp_path):
    base = live_server
    requests, problems = [], []
    page.on("request", lambda r: requests.append(r.url))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))

    log_in(page, base, official)
    page.goto(base + "/dashboard/")

    # 63 municipalities, さいたま市 and 新座市 設置済.
    table = page.get_by_test_id("municipality-table")
    assert table.locator("tbody tr").count() == 63
    assert table.locator("tr[data-code='111007']").get_attribute("data-status") == "established"
    assert table.locator("tr[data-code='112305']").get_attribute("data-status") == "established"
    assert page.get_by_test_id("headline-established").inner_text().replace("\n", " ") == "2 / 63"
    # 準備中 and 未着手 are two labelled figures, not 「4 ・57」 under one label.
    for testid, label, value in (("headline-preparing", "準備中", "4"),
                                 ("headline-not-started", "未着手（未申告を含む）", "57")):
        card = page.get_by_test_id(testid).locator("xpath=..")
        assert card.locator(".stat__label").inner_text() == label
        assert page.get_by_test_id(testid).inner_text() == value
    page.wait_for_selector("[data-figure=progress-figure][data-drawn=true]")
    page.wait_for_selector("[data-figure=map-figure][data-drawn=true]")
    assert _chart_points(page) == 2
    shoot("dashboard-flow")
    page.screenshot(path=str(shoot("dashboard-flow").with_name("dashboard-flow-top.png")))  # the first screen only

    # The map: every municipality, one marker symbol per status.
    markers = page.evaluate(
        "document.querySelector('[data-figure=map-figure]').data.slice(0, 3).map(t => [t.marker.symbol, t.x.length])"
    )
    assert [m[0] for m in markers] == ["circle", "diamond", "x-thin-open"]
    assert sum(m[1] for m in markers) == 63
    # The legend draws each marker; its text names the status once, with no second symbol.
    legend = page.locator("[data-figure=map-figure] .legendtext").all_text_contents()
    assert legend[:3] == ["設置済（2）", "準備中（4）", "未着手（57）"], legend
    assert not any(glyph in text for text in legend for glyph in "●◆×⚠"), legend
    assert page.locator("[data-figure=map-figure] .scatterlayer .point").count() >= 63
    assert page.evaluate("getComputedStyle(document.querySelector('.main-svg')).position") == "absolute"
    page.get_by_role("heading", name="地図").scroll_into_view_if_needed()
    shoot("dashboard-flow-map")

    # A drill-down: 川越市 (準備中 in the demo) becomes 設置済.
    table.get_by_role("link", name="川越市").click()
    page.wait_for_url(base + "/dashboard/m/112011")
    assert "準備中" in page.get_by_test_id("current-status").inner_text()
    form = page.get_by_test_id("declaration-form")
    form.get_by_label("ネットワークの設置状況").select_option(label="設置済")
    form.get_by_label("日付").fill(today_jst().isoformat())
    form.get_by_label("メモ").fill("県の聞き取りによる")
    form.get_by_role("button", name="申告する").click()
    assert page.get_by_text("川越市の設置状況を「設置済」に変更しました。").is_visible()
    assert "設置済" in page.get_by_test_id("current-status").inner_text()
    assert page.get_by_test_id("declaration-history").locator("tbody tr").count() == 2
    # 設置済 without a network record: the evidence disagrees.
    assert "ネットワークの記録がありません" in page.get_by_test_id("flags").inner_text()
    shoot("dashboard-drilldown")

    # Back on the dashboard, the headline and the chart moved.
    page.get_by_role("link", name="← 県ダッシュボードへ戻る").click()
    assert page.get_by_test_id("headline-established").inner_text().replace("\n", " ") == "3 / 63"
    page.wait_for_selector("[data-figure=progress-figure][data-drawn=true]")
    assert _chart_points(page) == 3
    assert page.get_by_test_id("progress-table").locator("tbody tr").count() == 4  # 3 + the target

    # Filter (server side) and download the Excel file of what is shown.
    page.get_by_label("申告").select_option(label="設置済")
    page.get_by_role("button", name="絞り込む").click()
    page.wait_for_url("**status=established**")
    expect(page.get_by_test_id("municipality-table").locator("tbody tr")).to_have_count(3)
    with page.expect_download() as info:
        page.get_by_test_id("export-xlsx").click()
    path = tmp_path / "dashboard.xlsx"
    info.value.save_as(path)
    rows = list(openpyxl.load_workbook(path).active.iter_rows(values_only=True))
    assert [r[1] for r in rows[1:]] == ["さいたま市", "川越市", "新座市"]

    # Small screens: the page and the drill-down fit 360 px.
    page.goto(base + "/dashboard/")
    page.wait_for_selector("[data-figure=map-figure][data-drawn=true]")
    page.set_viewport_size({"width": 360, "height": 800})
    page.wait_for_timeout(600)  # plotly redraws the charts for the narrower window
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    # 「グラフの数値（表）」 sits below the chart's drawing, not under it.
    summary = page.get_by_text("グラフの数値（表）")
    summary.scroll_into_view_if_needed()
    drawing = page.locator("[data-figure=progress-figure] .main-svg").first.bounding_box()
    box = summary.bounding_box()
    assert box["y"] >= drawing["y"] + drawing["height"], (box, drawing)
    assert page.evaluate("([x, y]) => document.elementFromPoint(x, y).closest('summary') !== null",
                         [box["x"] + 8, box["y"] + box["height"] / 2])
    summary.click()
    assert page.get_by_test_id("progress-table").is_visible()
    shoot("dashboard-flow-360", width=360)
    page.screenshot(path=str(shoot("dashboard-flow-360").with_name("dashboard-flow-top-360.png")))
    page.goto(base + "/dashboard/m/112305")
    shoot("dashboard-drilldown-360", width=360)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    # Nothing left the machine, and the page ran without errors (CSP included).
    hosts = {urlparse(u).hostname for u in requests if not u.startswith(("data:", "blob:"))}
    assert hosts == {"127.0.0.1"}, hosts
    # No CSP refusals either: plotly.js finds its stylesheets linked and injects no <style> (vendor.py).
    assert problems == [], problems

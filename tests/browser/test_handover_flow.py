"""Issue 5 as people live it: the desk hands a consultation to 新座市's 保健センター,
which declines; the desk re-routes it to the 子育て支援センター, which accepts and
resolves it. The bounce count reads 2 and the access log shows every opening."""

import re

import pytest

from portal.accounts.models import Role
from tests import factories as f
from tests.browser.conftest import SCREENSHOTS, log_in
from tests.conftest import arranged

pytestmark = pytest.mark.browser

BASE_PATH = f"/m/{f.NIIZA}"
SUMMARY = "（架空）3歳児の言葉の遅れが心配。母親が一人で抱え込んでいる様子。"


@pytest.fixture
def niiza(app):
    with arranged(app):
        m = f.municipality(f.NIIZA)
        f.network(m, "新座市子育てネットワーク推進委員会")
        hoken = f.organization(m, "新座市保健センター", "hoken_center", phone="048-477-1111",
                               consultation_tags=["発達相談", "育児不安"])
        shien = f.organization(m, "新座市子育て支援センター", "shien_center", phone="048-477-5555",
                               consultation_tags=["発達相談", "育児不安"])
        f.contact(hoken, "山田 花子", phone="048-477-2222", title="保健師", is_primary=True)
        f.contact(shien, "佐藤 陽子", phone="048-477-6666", title="保育士", is_primary=True)
        return {
            "desk": f.user(Role.DESK, m, email="desk@niiza.example.jp").email,
            "hoken": f.user(Role.MEMBER, m, organization_=hoken, email="hoken@niiza.example.jp").email,
            "shien": f.user(Role.MEMBER, m, organization_=shien, email="shien@niiza.example.jp").email,
        }


def _as(browser, base, email):
    context = browser.new_context(locale="ja-JP", timezone_id="Asia/Tokyo", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    log_in(page, base, email, landing=BASE_PATH + "/")
    return context, page


def test_consultation_bounces_once_and_is_resolved(browser, page, live_server, niiza, shoot, database):
    base = live_server

    # 1. The desk records the consultation ...
    log_in(page, base, niiza["desk"], landing=BASE_PATH + "/")
    page.get_by_role("navigation", name="新座市のメニュー").get_by_role("link", name="引継ぎ").click()
    page.get_by_role("link", name="相談を記録する").first.click()
    page.get_by_label("相談の区分").select_option(label="発達")
    page.get_by_label("子どもの年齢").select_option(label="3〜5歳")
    page.get_by_label("相談の概要").fill(SUMMARY)
    page.get_by_label("ご家族への連絡方法（任意）").fill("平日午後に電話")
    page.get_by_role("radio", name=re.compile("同意あり")).check()
    shoot("handover-consultation-form")
    page.get_by_role("button", name="記録する").click()
    assert page.get_by_text("を記録しました").is_visible()

    # ... and hands it to the 保健センター: choosing it shows whom to call there.
    value = page.locator("#recipient option", has_text="新座市保健センター").get_attribute("value")
    page.locator("#recipient").select_option(value)
    card = page.locator('[data-recipient]:not([hidden])')
    assert "山田 花子" in card.inner_text()
    shoot("handover-send")
    page.get_by_role("button", name="引き継ぐ").click()
    assert page.get_by_text("新座市保健センターに引き継ぎました").is_visible()
    handover_url = page.url
    shoot("handover-detail-sent")
    page.get_by_role("link", name="ご家族への説明用紙を印刷").click()
    assert page.get_by_test_id("slip-contact").inner_text().startswith("山田 花子")
    assert "048-477-2222" in page.get_by_test_id("slip-phone").inner_text()
    assert "令和" in page.get_by_test_id("slip-by").inner_text()
    shoot("handover-slip")
    shoot("handover-slip-360", width=360)
    page.set_viewport_size({"width": 1280, "height": 900})

    # 2. The centre's member user sees it in its inbox and declines it with a reason.
    hoken_context, hoken = _as(browser, base, niiza["hoken"])
    assert hoken.get_by_test_id("handover-home").is_visible()
    hoken.get_by_role("link", name="引継ぎの受信箱を開く").click()
    row = hoken.get_by_test_id("inbox-row").first
    assert "総合支援窓口 → 新座市保健センター" in row.inner_text()
    assert SUMMARY not in hoken.content()
    hoken.screenshot(path=str(SCREENSHOTS / f"handover-inbox-member-{database.name}.png"), full_page=True)
    row.get_by_role("link").first.click()
    assert SUMMARY in hoken.get_by_test_id("summary").inner_text()
    hoken.screenshot(path=str(SCREENSHOTS / f"handover-detail-member-{database.name}.png"), full_page=True)
    hoken.get_by_label("辞退の理由").fill("当センターでは3歳以上の発達相談を受けていません。子育て支援センターが適切です。")
    hoken.get_by_role("button", name="辞退して差し戻す").click()
    assert hoken.get_by_text("引継ぎを辞退しました").is_visible()
    hoken_context.close()

    # 3. The desk gets it back with suggestions and re-routes it.
    page.goto(base + BASE_PATH + "/handovers?box=consultations")
    page.get_by_test_id("inbox-row").first.get_by_role("link").first.click()
    assert page.get_by_test_id("returned").is_visible()
    assert "3歳以上の発達相談" in page.get_by_test_id("decline-reason").inner_text()
    suggestion = page.get_by_test_id("suggestion").filter(has_text="新座市子育て支援センター")
    suggestion.get_by_role("link", name="この機関を選ぶ").click()
    assert "佐藤 陽子" in page.locator('[data-recipient]:not([hidden])').inner_text()
    shoot("handover-returned")
    page.get_by_label("引継ぎ先への伝達事項（任意）").fill("お母さんは午後なら話せます。")
    page.get_by_role("button", name="引き継ぐ").click()
    assert page.get_by_text("新座市子育て支援センターに引き継ぎました").is_visible()

    # 4. The other organisation accepts and resolves it.
    shien_context, shien = _as(browser, base, niiza["shien"])
    shien.goto(base + BASE_PATH + "/handovers")
    shien.get_by_test_id("inbox-row").first.get_by_role("link").first.click()
    shien.get_by_role("button", name="受け付ける").click()
    assert shien.get_by_text("引継ぎを受け付けました").is_visible()
    shien.get_by_label("対応の結果").fill("電話で話を聞き、発達相談の予約をとった。")
    shien.get_by_role("button", name="解決にする").click()
    assert shien.get_by_text("解決にしました").is_visible()
    shien_context.close()

    # 5. The bounce count reads 2; the access log shows every opening.
    page.goto(handover_url)
    page.get_by_role("link", name="相談の全体（すべての引継ぎ）を見る").click()
    assert page.get_by_test_id("hop-count").first.inner_text() == "2"
    assert "解決" in page.get_by_test_id("handover-history").inner_text()
    shoot("handover-consultation-resolved")
    page.goto(base + BASE_PATH + "/handovers?show=all&box=outgoing")
    shoot("handover-inbox-desk")
    shoot("handover-inbox-desk-360", width=360)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(base + BASE_PATH + "/handovers/access-log")
    log = page.get_by_test_id("access-log").inner_text()
    for who in (niiza["desk"], niiza["hoken"], niiza["shien"]):
        assert who in log
    assert "説明用紙の印刷" in log
    # desk: consultation ×3 + handover + slip; hoken: handover; shien: handover
    assert page.get_by_test_id("access-row").count() >= 7
    shoot("handover-access-log")
    page.goto(base + BASE_PATH + "/handovers/metrics")
    assert page.get_by_test_id("bounce-2").inner_text() == "1"
    shoot("handover-metrics")

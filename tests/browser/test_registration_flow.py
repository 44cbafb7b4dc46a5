"""Issue 4 as people live it: an organisation applies, the desk approves, the
invited contact sets a password from the e-mail (delivered to a real SMTP
server on loopback), logs in and updates its contact; the desk sees it in the
audit trail.
"""

import re

import pytest

from portal.accounts.models import Role
from portal.extensions import db
from portal.mail.worker import deliver_due
from tests import factories as f
from tests.browser.conftest import SCREENSHOTS, log_in
from tests.conftest import arranged

pytestmark = pytest.mark.browser

NIIZA = "112305"
NEW_PASSWORD = "ひだまり広場の朝は早い-2026"


@pytest.fixture
def niiza(app):
    with arranged(app):
        m = f.municipality(NIIZA)
        f.network(m, "新座市子育てネットワーク推進委員会")
        return f.user(Role.DESK, m, email="desk.niiza@example.jp").email


def _deliver(app) -> None:
    with app.app_context():
        deliver_due()
        db.session.remove()


def test_apply_approve_invite_set_password_and_update_contact(app, database, browser, page, live_server, niiza, smtp,
                                                              shoot):
    base = live_server
    app.config["PUBLIC_BASE_URL"] = base  # links in e-mails point at the live server

    # 1. The organisation applies on the public page (no login).
    page.goto(base + f"/m/{NIIZA}/join")
    shoot("registration-join")
    page.get_by_label("団体・機関の名称").fill("NPO法人 子育てひだまり 見本")
    page.get_by_label("区分").select_option(label="子育てNPO")
    page.get_by_label("仲間づくり").check()
    page.get_by_label("担当者の氏名").fill("架空 美咲")
    page.get_by_label("担当者の電話番号").fill("048-999-0002")
    page.get_by_label("担当者のメールアドレス").fill("misaki@hidamari.example.jp")
    page.get_by_label("参加にあたっての約束を読み、同意します").check()
    page.get_by_role("button", name=re.compile("申請")).click()
    page.wait_for_url(re.compile(r"/join/thanks$"))
    shoot("registration-thanks", width=360)
    page.set_viewport_size({"width": 1280, "height": 900})  # the desk works on a wide screen

    _deliver(app)
    confirmation = [smtp.handler.parsed(i) for i in range(len(smtp.received))]
    assert [m["To"] for m in confirmation if m["To"] == "misaki@hidamari.example.jp"]

    # 2. The desk reviews and approves.
    log_in(page, base, niiza, landing=f"/m/{NIIZA}/")
    page.get_by_role("navigation", name="新座市のメニュー").get_by_role("link", name="登録申請").click()
    page.get_by_role("link", name="NPO法人 子育てひだまり 見本").click()
    shoot("registration-review")
    page.get_by_role("button", name="承認して構成員に登録する").click()
    assert page.get_by_text("申請を承認し、構成員に登録しました").is_visible()

    # 3. The invitation arrives over SMTP; no password in it, only a one-time link.
    already = len(smtp.received)
    _deliver(app)
    mails = [smtp.handler.parsed(i) for i in range(already, len(smtp.received))]
    [invitation] = [m for m in mails if m["To"] == "misaki@hidamari.example.jp"]
    body = invitation.get_body().get_content()
    [setup_link] = re.findall(re.escape(base) + r"/account/setup/\S+", body)

    member = browser.new_context(locale="ja-JP", timezone_id="Asia/Tokyo", viewport={"width": 360, "height": 800})
    try:
        mpage = member.new_page()
        mpage.set_default_timeout(10_000)
        mpage.goto(setup_link)
        mpage.get_by_label(re.compile(r"^新しいパスワード(必須)?$")).fill(NEW_PASSWORD)
        mpage.get_by_label(re.compile(r"^新しいパスワード（確認）")).fill(NEW_PASSWORD)
        mpage.get_by_role("button", name="パスワードを設定する").click()
        mpage.wait_for_url(base + f"/m/{NIIZA}/")
        assert mpage.get_by_text("パスワードを設定しました。ようこそ。").is_visible()

        # The link is single-use.
        mpage.goto(setup_link)
        assert mpage.get_by_role("heading", name="パスワードの設定").is_visible()
        assert mpage.get_by_role("button", name="パスワードを設定する").count() == 0

        # 4. Another day: log in with the new password and update the contact.
        member.clear_cookies()
        log_in(mpage, base, "misaki@hidamari.example.jp", NEW_PASSWORD, landing=f"/m/{NIIZA}/")
        mpage.get_by_role("link", name="担当者の情報を確認・更新する").click()
        mpage.get_by_role("link", name=re.compile(r"内容を直す.*架空 美咲さん")).click()
        mpage.get_by_label("電話番号").fill("048-999-0099")
        mpage.get_by_label("連絡がつく時間帯").fill("平日 10:00〜16:00")
        mpage.get_by_role("button", name="保存して確認済みにする").click()
        assert mpage.get_by_text("048-999-0099").first.is_visible()
        mpage.screenshot(path=str(SCREENSHOTS / f"registration-member-contacts-{database.name}.png"), full_page=True)
        menu = mpage.get_by_role("navigation", name="新座市のメニュー")
        menu.locator("summary").click()  # 360 px: the menu is one tap away
        menu.get_by_role("link", name="自分の団体").click()
        assert mpage.get_by_role("heading", name="NPO法人 子育てひだまり 見本").is_visible()
        mpage.screenshot(path=str(SCREENSHOTS / f"registration-member-organization-{database.name}.png"), full_page=True)
    finally:
        member.close()

    # 5. The desk sees who changed what in the audit trail.
    page.goto(base + f"/m/{NIIZA}/audit")
    shoot("registration-audit")
    row = page.locator("tbody tr").filter(has_text="048-999-0099").first
    assert row.is_visible()
    assert "misaki@hidamari.example.jp" in row.inner_text() or "架空 美咲" in row.inner_text()
    assert "048-999-0002" in row.inner_text()  # the value before

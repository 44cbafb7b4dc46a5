"""Issue 12 in the browser: the family's slip for each consent state (with the desk's
check before printing a 「同意不要」 slip), and a long text that is counted, never cut,
and answered by an error summary that takes the focus."""

import re

import pytest

from portal.accounts.models import Role
from tests import factories as f
from tests.browser.conftest import log_in
from tests.conftest import arranged, logged_in
from tests.support.handovers import post

pytestmark = pytest.mark.browser

M = f"/m/{f.NIIZA}"


@pytest.fixture
def niiza(app):
    with arranged(app):
        m = f.municipality(f.NIIZA)
        f.network(m, "新座市子育てネットワーク推進委員会")
        hoken = f.organization(m, "新座市保健センター", "hoken_center", phone="048-477-1111")
        f.contact(hoken, "山田 花子", phone="048-477-2222", title="保健師", is_primary=True)
        return {"desk": f.user(Role.DESK, m, email="desk@niiza.example.jp").email, "hoken": hoken.id}


def _handover(app, niiza, then_consent=None, **consultation) -> int:
    with arranged(app):
        c = f.consultation(niiza["desk"], **consultation)
        cid, hid = c.id, f.handover(c, niiza["hoken"]).id
    if then_consent:
        desk = logged_in(app, niiza["desk"])
        assert post(desk, f"{M}/handovers/consultations/{cid}/consent",
                    {"consent": then_consent, "consent_reason": ""}).status_code == 302
    return hid


def _both_widths(page, shoot, name):
    shoot(name)
    shoot(f"{name}-360", width=360)
    page.set_viewport_size({"width": 1280, "height": 900})


@pytest.mark.parametrize("state", ["given", "not_required", "not_given"])
def test_slip_for_each_consent_state(page, live_server, app, niiza, shoot, state):
    data = {"given": {}, "not_required": {"consent": "not_required", "consent_reason": "（架空）身体に複数のあざ。"},
            "not_given": {"then_consent": "not_given"}}[state]
    hid = _handover(app, niiza, **data)
    log_in(page, live_server, niiza["desk"], landing=M + "/")
    page.goto(live_server + f"{M}/handovers/{hid}")
    page.get_by_role("link", name="ご家族への説明用紙を印刷").click()
    if state != "given":
        assert page.get_by_test_id("slip").count() == 0
        assert page.get_by_test_id("slip-consent-warning").is_visible()
        _both_widths(page, shoot, f"slip-check-{state}")
        page.get_by_role("button", name="確認して印刷").click()
        summary = page.get_by_test_id("error-summary")
        assert summary.is_visible()
        assert page.evaluate("document.activeElement.dataset.testid") == "error-summary"
        summary.get_by_role("link").click()
        assert page.evaluate("document.activeElement.id") == "consent_ok"
        page.get_by_role("checkbox").first.check()
        page.get_by_role("button", name="確認して印刷").click()
    slip = page.get_by_test_id("slip")
    assert slip.get_attribute("data-consent") == state
    text = slip.inner_text()
    assert ("同意" in text) == (state == "given")
    assert "新座市 総合支援窓口" in page.get_by_test_id("slip-from").inner_text()
    assert page.get_by_test_id("slip-contact").inner_text().startswith("山田 花子")
    _both_widths(page, shoot, f"slip-{state}")


def test_long_text_is_counted_not_cut_and_the_error_summary_takes_the_focus(page, live_server, niiza, shoot):
    log_in(page, live_server, niiza["desk"], landing=M + "/")
    page.goto(live_server + f"{M}/handovers/consultations/new")
    for label in ("相談の区分", "子どもの年齢", "相談の概要"):
        assert "必須" in page.locator("label", has_text=label).first.inner_text()
    counter = page.locator('[data-count-for="summary"]')
    assert "2,000文字以内" in counter.inner_text()
    summary_box = page.get_by_label("相談の概要")
    assert summary_box.get_attribute("maxlength") is None
    summary_box.fill("あ" * 1990)
    assert "あと10文字" in counter.inner_text()
    too_long = "（架空）" + "い" * 2006  # 2,010 characters
    summary_box.fill(too_long)
    assert "10文字多すぎます" in counter.inner_text()
    assert len(summary_box.input_value()) == 2010  # nothing dropped by the browser
    shoot("form-counter")
    page.get_by_role("button", name="記録する").click()

    summary = page.get_by_test_id("error-summary")
    assert summary.is_visible()
    assert page.evaluate("document.activeElement.dataset.testid") == "error-summary"
    items = summary.get_by_role("listitem").all_inner_texts()
    assert any(i.startswith("相談の区分") for i in items)
    assert any(i.startswith("子どもの年齢") for i in items)
    assert any(i.startswith("相談の概要") and "2000文字以内" in i for i in items)
    assert any(i.startswith("本人同意") for i in items)
    assert page.get_by_label("相談の概要").input_value() == too_long  # shown again, whole
    _both_widths(page, shoot, "form-error-summary")
    summary.get_by_role("link", name=re.compile("^相談の概要")).click()
    assert page.evaluate("document.activeElement.id") == "summary"

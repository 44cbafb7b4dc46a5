"""The axe-core harness itself: it sees a violation on a new document without being asked."""

import pytest

from tests.browser import axe as axe_core

pytestmark = pytest.mark.browser


@pytest.mark.skipif(not axe_core.available(), reason="axe-core not installed (bin/setup-test-system)")
def test_a_violation_on_a_visited_page_is_reported(browser, page, live_server):
    page.goto(live_server + "/login")
    # Low contrast, added by script: the next screenshot is a state a person looks at.
    page.evaluate("""() => { const p = document.createElement('p'); p.className = 'axe-probe';
        p.textContent = '読みにくい文字'; p.style.color = '#bbbbbb'; document.querySelector('main').append(p); }""")
    page.screenshot()
    found = [(v.rule, v.target) for v in browser.axe.violations]
    assert ("color-contrast", ".axe-probe") in found, found
    assert "/login (screenshot, 1280 px)" in browser.axe.report()
    browser.axe.violations.clear()  # the probe was ours: the test itself must not fail at teardown

    page.get_by_label("メールアドレス").fill("nobody@example.jp")  # a new document follows the login attempt
    page.get_by_role("button", name="ログイン").click()
    page.get_by_role("heading", level=1).inner_text()
    assert browser.axe.states >= 3  # /login on arrival, at the screenshot, and the answer to the POST

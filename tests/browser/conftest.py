"""Browser tests: Debian's Chromium driven by Playwright against a live server.

The server runs in a thread on 127.0.0.1 with the test's own database (the
same SQLite/PostgreSQL parametrisation as every other test). Screenshots go
to test-artifacts/screenshots/ for people to look at.

Accessibility: axe-core (WCAG 2.1 A/AA) checks every page state a test
visits, without the test asking for it (tests/browser/axe.py). The `browser`
fixture is a per-test wrapper of the session's Chromium: every context it
opens — the `page` fixture's and any a test opens itself with
`browser.new_context()` — hands out pages that run axe on each new document
(at the next call the test makes on the page, never inside an event handler),
at each screenshot and at the end of the test. Any violation fails the test at
teardown with a list of rule, element, summary and page. A test that puts a
page into a new state by JavaScript alone and takes no screenshot can call
`page.axe_check("why")`. axe-core comes from npm (tests/browser/package.json,
installed by bin/setup-test-system); without it the checks are skipped with a
loud banner, and on CI (CI=true) the run fails instead.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests import live
from tests.browser import axe as axe_core
from tests.factories import PASSWORD

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"

# Chromium as root in a sandboxed, offline machine: no sandbox, no background
# traffic to Google's hosts (refused here, and slow to fail).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


_axe_missing: list[str] = []


@pytest.fixture(scope="session")
def chromium():
    if not axe_core.available():
        reason = f"axe-core not installed at {axe_core.AXE_JS} (run bin/setup-test-system)"
        if axe_core.required_on_ci():
            pytest.fail(f"{reason} — CI must check accessibility", pytrace=False)
        _axe_missing[:] = [reason]
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"Chromium not found at {CHROMIUM}; run bin/setup-test-system", pytrace=False)
        pytest.skip(f"!!! BROWSER TESTS SKIPPED: no Chromium at {CHROMIUM} (run bin/setup-test-system)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def pytest_terminal_summary(terminalreporter):
    if _axe_missing:
        terminalreporter.section("axe-core", sep="!", red=True, bold=True)
        terminalreporter.write_line(f"ACCESSIBILITY CHECKS OF THE BROWSER TESTS WERE SKIPPED: {_axe_missing[0]}",
                                    red=True, bold=True)


@pytest.fixture
def browser(chromium):
    """The session's Chromium for one test: its contexts' pages are checked by axe."""
    checked = axe_core.CheckedBrowser(chromium, axe_core.Axe())
    yield checked
    for context in checked.contexts:
        context.close()  # checks the last state of pages the test left open
    if checked.axe.violations:
        pytest.fail(checked.axe.report(), pytrace=False)


@pytest.fixture
def live_server(app):
    with live.live_server(app) as base:
        yield base


@pytest.fixture
def page(browser, request):
    context = browser.new_context(locale="ja-JP", timezone_id="Asia/Tokyo", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()  # runs axe on the last state first


@pytest.fixture
def shoot(page, request, database):
    """shoot("name") saves a full-page screenshot named after the test and database."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def _shoot(name: str, width: int | None = None) -> Path:
        if width:
            page.set_viewport_size({"width": width, "height": 800})
        path = SCREENSHOTS / f"{name}-{database.name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return _shoot


def log_in(page, base: str, email: str, password: str = PASSWORD, landing: str | None = None) -> None:
    """Log in through the form; with ``landing`` (a path), wait until the browser is there."""
    page.goto(base + "/login")
    page.get_by_label("メールアドレス").fill(email)
    page.get_by_label("パスワード").fill(password)
    page.get_by_role("button", name="ログイン").click()
    if landing is not None:
        page.wait_for_url(base + landing)

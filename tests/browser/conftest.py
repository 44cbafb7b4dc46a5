"""Browser tests: Debian's Chromium driven by Playwright against a live server.

The server runs in a thread on 127.0.0.1 with the test's own database (the
same SQLite/PostgreSQL parametrisation as every other test). Screenshots go
to test-artifacts/screenshots/ for people to look at.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

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


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"Chromium not found at {CHROMIUM}; run bin/setup-test-system", pytrace=False)
        pytest.skip(f"!!! BROWSER TESTS SKIPPED: no Chromium at {CHROMIUM} (run bin/setup-test-system)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def live_server(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def page(browser, request):
    context = browser.new_context(locale="ja-JP", timezone_id="Asia/Tokyo", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


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

"""Login throttling: the per-account limit holds under parallel attempts, and a
throttled address (a municipal office behind one NAT) does not lock out the
accounts that recently logged in from it."""

from __future__ import annotations

import re
import threading
import urllib.error
import urllib.parse
import urllib.request
from datetime import timedelta
from http.cookiejar import CookieJar

import pytest
from sqlalchemy import func, select, update

from portal.accounts.models import (
    LoginAttemptCounter,
    LoginFailure,
    LoginKnownAddress,
    Role,
)
from portal.extensions import db
from portal.mail.models import OutboxMessage
from portal.timeutil import utcnow
from tests import factories as f
from tests import live
from tests.conftest import arranged, csrf_token, login

CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


@pytest.fixture
def office(app):
    with arranged(app):
        niiza = f.municipality(f.NIIZA)
        return {"regular": f.user(Role.DESK, niiza, email="regular@example.jp").email,
                "newcomer": f.user(Role.DESK, niiza, email="newcomer@example.jp").email}


@pytest.fixture
def live_server(app):
    with live.live_server(app) as base:  # the shared threaded server of tests/live.py
        yield base


def _browser(base: str):
    """A urllib opener with its own cookies and CSRF token, as one browser tab."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
    html = opener.open(f"{base}/login", timeout=30).read().decode()
    return opener, CSRF.search(html).group(1)


def test_parallel_wrong_passwords_never_try_more_than_the_limit(app, office, live_server):
    browsers = [_browser(live_server) for _ in range(12)]
    barrier = threading.Barrier(len(browsers))
    statuses: list[int] = []

    def attempt(opener, token, n):
        body = urllib.parse.urlencode({"email": office["regular"], "password": f"wrong-password-{n}",
                                       "csrf_token": token}).encode()
        barrier.wait()
        try:
            statuses.append(opener.open(f"{live_server}/login", body, timeout=60).status)
        except urllib.error.HTTPError as e:
            statuses.append(e.code)

    threads = [threading.Thread(target=attempt, args=(*b, n)) for n, b in enumerate(browsers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(90)
    assert sorted(statuses) == [200] * 5 + [429] * 7  # 5 passwords tried and refused, 7 never tried
    with arranged(app):
        assert db.session.get(LoginAttemptCounter, office["regular"]).attempts == 5
        assert db.session.scalar(select(func.count(LoginFailure.id))) == 5
    # The right password is refused too until the window has passed.
    assert login(app.test_client(), office["regular"]).status_code == 429
    with arranged(app):
        db.session.execute(update(LoginAttemptCounter).values(window_started_at=utcnow() - timedelta(hours=1)))
    assert login(app.test_client(), office["regular"]).status_code == 302


def test_a_throttled_address_stays_open_to_accounts_that_logged_in_from_it(app, client, office):
    app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"] = 3
    assert login(app.test_client(), office["regular"]).status_code == 302  # an ordinary morning
    for i in range(3):  # someone behind the same NAT guesses
        login(client, f"guess{i}@example.jp", "wrong-password-123")
    assert login(app.test_client(), office["newcomer"]).status_code == 429
    assert login(app.test_client(), office["regular"]).status_code == 302
    # ... and the known account is still limited by its own count.
    for i in range(5):
        assert login(app.test_client(), office["regular"], f"wrong-password-{i}").status_code == 200
    response = login(app.test_client(), office["regular"])
    assert response.status_code == 429 and "しばらくログインできません" in response.get_data(as_text=True)


def test_known_addresses_expire(app, client, office):
    app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"] = 1
    assert login(app.test_client(), office["regular"]).status_code == 302
    login(client, "guess@example.jp", "wrong-password-123")
    with arranged(app):
        days = app.config["LOGIN_KNOWN_ADDRESS_DAYS"]
        db.session.execute(update(LoginKnownAddress).values(last_success_at=utcnow() - timedelta(days=days + 1)))
    assert login(app.test_client(), office["regular"]).status_code == 429


def _forgot(client, email):
    token = csrf_token(client)
    return client.post("/account/forgot", data={"email": email, "csrf_token": token})


def test_forgot_password_behind_a_throttled_address(app, client, office):
    app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"] = 3
    assert login(app.test_client(), office["regular"]).status_code == 302
    for i in range(3):
        _forgot(client, f"x{i}@example.jp")
    assert _forgot(app.test_client(), office["newcomer"]).status_code == 429
    assert _forgot(app.test_client(), office["regular"]).status_code == 200
    with arranged(app):
        sent_to = db.session.scalars(select(OutboxMessage.to_address)).all()
    assert sent_to == [office["regular"]]

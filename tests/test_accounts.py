"""Login, logout, throttling and session cookies."""

import pytest
from sqlalchemy import func, select

from portal.accounts.models import LoginFailure, Role, User
from portal.extensions import db
from tests import factories as f
from tests.conftest import arranged, csrf_token, login


@pytest.fixture
def people(app):
    with arranged(app):
        niiza = f.municipality(f.NIIZA)
        users = {
            "desk": f.user(Role.DESK, niiza, email="desk@example.jp"),
            "member": f.user(Role.MEMBER, niiza, email="member@example.jp"),
            "prefecture": f.user(Role.PREFECTURE, email="pref@example.jp"),
            "admin": f.user(Role.ADMIN, email="admin@example.jp"),
        }
        return {k: u.email for k, u in users.items()}


@pytest.mark.parametrize(
    "who,landing",
    [("desk", "/m/112305/"), ("member", "/m/112305/"), ("prefecture", "/dashboard/"), ("admin", "/dashboard/")],
)
def test_login_lands_on_the_home_of_the_role(client, people, who, landing):
    response = login(client, people[who])
    assert response.status_code == 302
    assert response.headers["Location"] == landing
    assert client.get(landing).status_code == 200


def test_login_is_case_insensitive_on_email(client, people):
    assert login(client, "  DESK@Example.JP ").status_code == 302


def test_wrong_password_is_refused_with_a_japanese_message(client, people):
    response = login(client, people["desk"], "wrong-password-123")
    assert response.status_code == 200
    assert "メールアドレスまたはパスワードが正しくありません。" in response.get_data(as_text=True)
    assert client.get("/m/112305/").status_code == 302  # still anonymous


def test_unknown_account_gets_the_same_message(client, people):
    response = login(client, "nobody@example.jp", "whatever-password")
    assert "メールアドレスまたはパスワードが正しくありません。" in response.get_data(as_text=True)


def test_empty_fields_are_explained(client, people):
    token = csrf_token(client)
    response = client.post("/login", data={"email": "", "password": "", "csrf_token": token})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "メールアドレスを入力してください。" in html
    assert "パスワードを入力してください。" in html


def test_passwords_are_argon2id_hashes(app, people):
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == people["desk"]))
        assert user.password_hash.startswith("$argon2id$")
        assert f.PASSWORD not in user.password_hash


def test_failed_logins_are_throttled_per_account(app, client, people):
    for _ in range(app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]):
        assert login(client, people["desk"], "wrong-password-123").status_code == 200
    # Now even the right password is refused until the window passes.
    response = login(client, people["desk"])
    assert response.status_code == 429
    assert "しばらくログインできません" in response.get_data(as_text=True)
    # Another account from another address is unaffected.
    other = app.test_client()
    token = csrf_token(other)
    response = other.post(
        "/login",
        data={"email": people["member"], "password": f.PASSWORD, "csrf_token": token},
        environ_base={"REMOTE_ADDR": "192.0.2.7"},
    )
    assert response.status_code == 302


def test_failed_logins_are_throttled_per_address(app, client, people):
    app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"] = 3
    for i in range(3):
        login(client, f"guess{i}@example.jp", "wrong-password-123")
    assert login(client, people["admin"]).status_code == 429


def test_success_clears_past_failures(app, client, people):
    login(client, people["desk"], "wrong-password-123")
    assert login(client, people["desk"]).status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count(LoginFailure.id))) == 0


@pytest.mark.parametrize(
    "target,expected",
    [
        ("/m/112305/", "/m/112305/"),
        ("https://evil.example/", "/dashboard/"),
        ("//evil.example/", "/dashboard/"),
        ("/\\evil.example", "/dashboard/"),
        ("javascript:alert(1)", "/dashboard/"),
    ],
)
def test_next_is_followed_only_within_the_site(client, people, target, expected):
    response = login(client, people["admin"], next_url=target)
    assert response.headers["Location"] == expected


def test_login_without_csrf_token_is_refused(client, people):
    response = client.post("/login", data={"email": people["desk"], "password": f.PASSWORD})
    assert response.status_code == 400
    assert "送信を受け付けられませんでした" in response.get_data(as_text=True)


def test_logout_needs_a_post_with_csrf_token(client, people):
    login(client, people["desk"])
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400  # no token
    token = csrf_token(client)
    response = client.post("/logout", data={"csrf_token": token})
    assert response.headers["Location"] == "/login"
    assert client.get("/m/112305/").status_code == 302


def test_session_cookie_is_httponly_and_samesite_lax(client, people):
    response = login(client, people["desk"])
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_demo_accounts_cannot_log_in_outside_development(app, client):
    with arranged(app):
        f.user(Role.PREFECTURE, email="demo@example.jp", is_demo=True)
    assert app.config["KOSODATE_ENV"] == "test"
    response = login(client, "demo@example.jp")
    assert response.status_code == 200
    assert "正しくありません" in response.get_data(as_text=True)


def test_deactivated_account_cannot_log_in(app, client, people):
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == people["desk"]))
        user.active = False
        db.session.commit()
    assert login(client, people["desk"]).status_code == 200


def test_password_change_signs_out_other_sessions(app, client, people):
    login(client, people["desk"])
    assert client.get("/m/112305/").status_code == 200
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == people["desk"]))
        from portal.accounts.models import new_session_token

        user.session_token = new_session_token()
        db.session.commit()
    assert client.get("/m/112305/").status_code == 302

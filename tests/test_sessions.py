"""Server-side sessions (issue 11): a copied cookie dies with the session it belongs to."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from portal.accounts.models import Role, User, UserSession
from portal.extensions import db
from portal.timeutil import utcnow
from tests import factories as f
from tests.conftest import arranged, csrf_token, logged_in, login

HOME = f"/m/{f.NIIZA}/"


@pytest.fixture
def people(app):
    with arranged(app):
        niiza = f.municipality(f.NIIZA)
        return {
            "desk": f.user(Role.DESK, niiza, email="desk@example.jp").email,
            "admin": f.user(Role.ADMIN, email="admin@example.jp").email,
        }


def at_home(app, email):
    """Logged in, and the user's home page opens."""
    client = logged_in(app, email)
    assert client.get(HOME if email.startswith("desk") else "/dashboard/").status_code == 200
    return client


def stolen_copy(app, client):
    """Another browser holding a copy of ``client``'s session cookie."""
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    assert thief.get(HOME).status_code == 200  # the copy works while the session lives
    return thief


def assert_signed_out(client):
    response = client.get(HOME)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def user_id(app, email):
    with app.app_context():
        return db.session.scalar(select(User.id).where(User.email == email))


def rows(app, email):
    with app.app_context():
        return db.session.execute(
            select(UserSession.ended_at, UserSession.ended_reason).where(UserSession.user_id == user_id(app, email))
            .order_by(UserSession.id)
        ).all()


def test_a_cookie_copied_before_logout_is_worthless_after(app, people):
    desk = at_home(app, people["desk"])
    thief = stolen_copy(app, desk)
    response = desk.post("/logout", data={"csrf_token": csrf_token(desk)})
    assert response.headers["Location"] == "/login"
    assert_signed_out(thief)
    assert_signed_out(desk)
    assert [r.ended_reason for r in rows(app, people["desk"])] == ["logout"]


def test_logout_ends_only_this_browser(app, people):
    desk, other = at_home(app, people["desk"]), at_home(app, people["desk"])
    desk.post("/logout", data={"csrf_token": csrf_token(desk)})
    assert other.get(HOME).status_code == 200


def test_the_session_key_is_stored_only_as_a_hash(app, people):
    desk = at_home(app, people["desk"])
    with desk.session_transaction() as s:
        key = s["session_key"]
    with app.app_context():
        hashes = db.session.scalars(select(UserSession.key_hash)).all()
    assert len(hashes) == 1 and key not in hashes[0] and len(hashes[0]) == 64


def test_password_change_ends_every_other_session(app, people):
    desk, other = at_home(app, people["desk"]), at_home(app, people["desk"])
    thief = stolen_copy(app, other)
    response = desk.post("/account/password", data={
        "current": f.PASSWORD, "password": "a-much-longer-new-passphrase", "confirm": "a-much-longer-new-passphrase",
        "csrf_token": csrf_token(desk),
    })
    assert response.status_code == 302, response.get_data(as_text=True)
    assert_signed_out(other)
    assert_signed_out(thief)
    assert desk.get(HOME).status_code == 200  # the browser that changed it stays signed in
    # Both old sessions ended; the new one of this browser pruned them, leaving only itself.
    assert [r.ended_reason for r in rows(app, people["desk"])] == [None]


def test_deactivation_ends_every_session(app, people):
    desk = at_home(app, people["desk"])
    thief = stolen_copy(app, desk)
    admin = at_home(app, people["admin"])
    target = user_id(app, people["desk"])
    response = admin.post(f"/admin/users/{target}/deactivate", data={"csrf_token": csrf_token(admin)})
    assert response.status_code == 302
    assert "利用を停止しました" in admin.get("/admin/users").get_data(as_text=True)
    assert_signed_out(desk)
    assert_signed_out(thief)
    assert login(app.test_client(), people["desk"]).status_code == 200  # refused: the form again
    assert [r.ended_reason for r in rows(app, people["desk"])] == ["deactivated"]


def test_a_deactivated_account_is_signed_out_even_if_set_inactive_directly(app, people):
    desk = at_home(app, people["desk"])
    with app.app_context():
        db.session.execute(update(User).where(User.email == people["desk"]).values(active=False))
        db.session.commit()
    assert_signed_out(desk)


def test_an_administrator_cannot_deactivate_themselves(app, people):
    admin = at_home(app, people["admin"])
    me = user_id(app, people["admin"])
    response = admin.post(f"/admin/users/{me}/deactivate", data={"csrf_token": csrf_token(admin)},
                          follow_redirects=True)
    assert "自分自身のアカウントは停止できません" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, me).active is True


def test_sign_out_everywhere_from_the_admin_page(app, people):
    desk, other = at_home(app, people["desk"]), at_home(app, people["desk"])
    thief = stolen_copy(app, desk)
    admin = at_home(app, people["admin"])
    page = admin.get("/admin/users").get_data(as_text=True)
    assert "すべての端末からログアウト" in page and "desk@example.jp" in page
    target = user_id(app, people["desk"])
    response = admin.post(f"/admin/users/{target}/sign-out-everywhere",
                          data={"csrf_token": csrf_token(admin)}, follow_redirects=True)
    assert "すべての端末からログアウトさせました（2 件）" in response.get_data(as_text=True)
    for client in (desk, other, thief):
        assert_signed_out(client)
    # The account itself still works: a fresh login is a new session.
    assert at_home(app, people["desk"]).get(HOME).status_code == 200
    assert admin.get("/admin/users").status_code == 200  # the administrator was not signed out


def test_only_administrators_reach_the_sessions_page(app, people):
    desk = at_home(app, people["desk"])
    assert desk.get("/admin/users").status_code == 403
    target = user_id(app, people["admin"])
    response = desk.post(f"/admin/users/{target}/sign-out-everywhere", data={"csrf_token": csrf_token(desk)})
    assert response.status_code == 403
    assert rows(app, people["admin"]) == []
    assert app.test_client().get("/admin/users").status_code == 302


def _age_sessions(app, email, **ago):
    with app.app_context():
        values = {column: utcnow() - delta for column, delta in ago.items()}
        db.session.execute(update(UserSession).where(UserSession.user_id == user_id(app, email)).values(**values))
        db.session.commit()


def test_idle_sessions_end(app, people):
    app.config["SESSION_IDLE_MINUTES"] = 30
    desk = at_home(app, people["desk"])
    _age_sessions(app, people["desk"], last_seen_at=timedelta(minutes=29))
    assert desk.get(HOME).status_code == 200  # within the idle time, and that request counts as activity
    with app.app_context():
        last_seen = db.session.scalar(select(func.max(UserSession.last_seen_at)))
    assert utcnow() - last_seen < timedelta(minutes=1)
    _age_sessions(app, people["desk"], last_seen_at=timedelta(minutes=31))
    assert_signed_out(desk)
    assert [r.ended_reason for r in rows(app, people["desk"])] == ["idle"]


def test_sessions_end_after_the_absolute_lifetime_however_active(app, people):
    app.config["SESSION_ABSOLUTE_HOURS"] = 10
    desk = at_home(app, people["desk"])
    _age_sessions(app, people["desk"], created_at=timedelta(hours=9, minutes=59))
    assert desk.get(HOME).status_code == 200
    _age_sessions(app, people["desk"], created_at=timedelta(hours=10, minutes=1))
    assert_signed_out(desk)
    assert [r.ended_reason for r in rows(app, people["desk"])] == ["absolute"]


def test_lifetimes_come_from_the_environment(monkeypatch, tmp_path):
    from portal.config import load_config

    monkeypatch.setenv("SESSION_IDLE_MINUTES", "15")
    monkeypatch.setenv("SESSION_ABSOLUTE_HOURS", "9")
    cfg = load_config(str(tmp_path), {"KOSODATE_ENV": "test", "SECRET_KEY": "x"})
    assert cfg["SESSION_IDLE_MINUTES"] == 15
    assert cfg["PERMANENT_SESSION_LIFETIME"] == timedelta(hours=9)  # the cookie lives no longer


def test_login_prunes_dead_sessions(app, people):
    for _ in range(3):
        c = at_home(app, people["desk"])
        c.post("/logout", data={"csrf_token": csrf_token(c)})
    at_home(app, people["desk"])
    assert [r.ended_reason for r in rows(app, people["desk"])] == [None]


def test_the_cookie_is_issued_at_login_for_the_absolute_lifetime_and_not_resent_on_every_page(app, people):
    """The session lives in the database; the cookie only carries its key. It is not re-signed on
    every response (issue 14): it expires when the server ends the session anyway."""
    from email.utils import parsedate_to_datetime

    client = app.test_client()
    response = login(client, people["desk"])
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    expires = parsedate_to_datetime(cookie.split("Expires=")[1].split(";")[0]).replace(tzinfo=None)
    assert abs(expires - (utcnow() + timedelta(hours=app.config["SESSION_ABSOLUTE_HOURS"]))) < timedelta(minutes=1)
    assert client.get(HOME).status_code == 200  # the first page stores the session's CSRF token
    for _ in range(3):
        response = client.get(HOME)
        assert response.status_code == 200
        assert not response.headers.getlist("Set-Cookie")
        assert response.headers["Cache-Control"] == "no-store"
    client.post("/logout", data={"csrf_token": csrf_token(client)})
    assert_signed_out(client)

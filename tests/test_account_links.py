"""Invitations, password resets and password changes: one-time links, no password by mail."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from portal.accounts import invitations
from portal.accounts.models import AccountToken, Role, User
from portal.accounts.passwords import password_problems
from portal.extensions import db
from portal.mail.models import OutboxMessage
from portal.timeutil import utcnow
from tests import factories as f
from tests.conftest import arranged, csrf_token, login

NEW_PASSWORD = "nobi-dome-sakura-2026"


@pytest.fixture
def invited(app):
    """A member user without a password, invited the way approval invites."""
    with arranged(app):
        m = f.municipality(f.NIIZA)
        org = f.organization(m, "見本保育園", "hoikusho")
        from portal.accounts import services

        user = services.create_user(email="hoikuen@example.jp", role=Role.MEMBER, password=None,
                                    municipality_id=m.id, member_organization_id=org.id, display_name="見本 花子")
        with app.test_request_context():
            invitations.send_invitation(user, organization_name=org.name, municipality_id=m.id)
        return user.email


def _last_link(app, kind):
    with app.app_context():
        msg = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id.desc())).first()
    match = re.search(r"http://127\.0\.0\.1:5000(/account/\w+/[\w-]+)", msg.body_text)
    assert match, msg.body_text
    return msg, match.group(1)


def _post(client, path, data):
    return client.post(path, data={**data, "csrf_token": csrf_token(client)})


def test_invitation_sets_a_password_once_and_logs_in(app, client, invited):
    msg, path = _last_link(app, "invitation")
    assert msg.to_address == "hoikuen@example.jp"
    assert "見本保育園の担当者として" in msg.body_text
    assert "パスワード:" not in msg.body_text
    assert "パスワードの設定" in client.get(path).get_data(as_text=True)
    response = _post(client, path, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/m/112305/"
    assert client.get("/m/112305/").status_code == 200
    # Single use: the same link now explains itself and sets nothing.
    other = app.test_client()
    response = other.get(path)
    assert response.status_code == 410
    assert "このリンクは既に使われています" in response.get_data(as_text=True)
    assert login(other, "hoikuen@example.jp", NEW_PASSWORD).status_code == 302


@pytest.mark.parametrize(
    "password,message",
    [
        ("short-pass", "12文字以上"),
        ("password1234", "推測されやすいパスワードです"),
        ("123456789012", "推測されやすいパスワードです"),
        ("hoikuen@example.jp", "推測されやすいパスワードです"),
    ],
)
def test_weak_passwords_are_refused_and_the_link_stays_usable(app, client, invited, password, message):
    _, path = _last_link(app, "invitation")
    response = _post(client, path, {"password": password, "confirm": password})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert _post(client, path, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 302


def test_mismatched_confirmation_is_explained(app, client, invited):
    _, path = _last_link(app, "invitation")
    response = _post(client, path, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD + "x"})
    assert response.status_code == 400
    assert "確認用のパスワードが一致しません" in response.get_data(as_text=True)


def test_forged_and_expired_tokens_are_refused(app, client, invited):
    response = client.get("/account/setup/not-a-real-token")
    assert response.status_code == 410
    assert "このリンクは無効です" in response.get_data(as_text=True)
    _, path = _last_link(app, "invitation")
    with app.app_context():
        db.session.execute(update(AccountToken).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    response = client.get(path)
    assert response.status_code == 410
    assert "有効期限が切れています" in response.get_data(as_text=True)
    # A reset link is not an invitation link, and the other way round.
    reset_path = path.replace("/setup/", "/reset/")
    assert client.get(reset_path).status_code == 410


def test_a_new_invitation_voids_the_old_link(app, client, invited):
    _, first = _last_link(app, "invitation")
    with app.app_context(), app.test_request_context():
        user = db.session.scalar(select(User).where(User.email == invited))
        invitations.send_invitation(user)
        db.session.commit()
    assert client.get(first).status_code == 410


def test_forgotten_password_flow_says_the_same_for_unknown_accounts(app, client, invited):
    response = _post(client, "/account/forgot", {"email": "nobody@example.jp"})
    assert "入力されたメールアドレスが登録されていれば" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "password_reset")) is None
    response = _post(client, "/account/forgot", {"email": "HOIKUEN@example.jp"})
    assert "入力されたメールアドレスが登録されていれば" in response.get_data(as_text=True)
    msg, path = _last_link(app, "password_reset")
    assert "/account/reset/" in path and NEW_PASSWORD not in msg.body_text
    assert _post(client, path, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 302


def test_forgot_form_is_throttled_per_address(app, client, invited):
    app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"] = 3
    for i in range(3):
        _post(client, "/account/forgot", {"email": f"x{i}@example.jp"})
    response = _post(client, "/account/forgot", {"email": "hoikuen@example.jp"})
    assert response.status_code == 429
    assert "しばらく待ってから" in response.get_data(as_text=True)


def test_change_password_signs_out_other_sessions(app, invited):
    with arranged(app):
        f.user(Role.DESK, f.municipality(f.NIIZA), email="desk@example.jp")
    here, elsewhere = app.test_client(), app.test_client()
    login(here, "desk@example.jp")
    login(elsewhere, "desk@example.jp")
    response = _post(here, "/account/password", {"current": "wrong-password-x", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 400 and "現在のパスワードが正しくありません" in response.get_data(as_text=True)
    response = _post(here, "/account/password", {"current": f.PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    assert here.get("/m/112305/").status_code == 200
    assert elsewhere.get("/m/112305/").status_code == 302  # signed out
    assert login(app.test_client(), "desk@example.jp", NEW_PASSWORD).status_code == 302


def test_password_policy():
    assert password_problems("nobi-dome-sakura-2026") == []
    assert password_problems("a" * 11)
    assert password_problems("tanakahanako", user_inputs=("tanaka.hanako@example.jp", "田中 花子"))

"""Account rules: creating users, logging in, throttling failed logins.

Functions here flush but never commit; the request boundary commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, func, select

from portal.accounts import invitations, sessions, tokens
from portal.accounts.models import MUNICIPAL_ROLES, LoginFailure, Role, TokenPurpose, User
from portal.accounts.passwords import hash_password, needs_rehash, password_problems, verify_password
from portal.extensions import db
from portal.timeutil import utcnow

class AccountError(ValueError):
    """A rule about accounts was broken; the message is shown to the user."""


def normalize_email(email: str) -> str:
    return (email or "").strip().lower()


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalize_email(email)))


def create_user(
    *,
    email: str,
    role: Role | str,
    password: str | None,
    municipality_id: int | None = None,
    member_organization_id: int | None = None,
    display_name: str = "",
    is_demo: bool = False,
) -> User:
    role = Role(role)
    email = normalize_email(email)
    if not email or "@" not in email:
        raise AccountError("メールアドレスの形式が正しくありません。")
    if find_user_by_email(email) is not None:
        raise AccountError(f"{email} は既に登録されています。")
    if role in MUNICIPAL_ROLES and municipality_id is None:
        raise AccountError(f"{role.label}には市町村の指定が必要です。")
    if role not in MUNICIPAL_ROLES and municipality_id is not None:
        raise AccountError(f"{role.label}は市町村に属しません。")
    if password is not None and not is_demo:
        problems = password_problems(password, user_inputs=(email, display_name))
        if problems:
            raise AccountError(problems[0])
    user = User(
        email=email,
        role=role.value,
        municipality_id=municipality_id,
        member_organization_id=member_organization_id,
        display_name=display_name,
        password_hash=hash_password(password) if password else None,
        is_demo=is_demo,
    )
    db.session.add(user)
    db.session.flush()
    return user


@dataclass(frozen=True)
class LoginResult:
    user: User | None
    throttled: bool = False


def _window_start():
    return utcnow() - timedelta(seconds=current_app.config["LOGIN_WINDOW_SECONDS"])


def is_throttled(email: str, address: str) -> bool:
    cfg = current_app.config
    since = _window_start()
    per_account = db.session.scalar(
        select(func.count(LoginFailure.id)).where(
            LoginFailure.email == email, LoginFailure.attempted_at >= since
        )
    )
    if per_account >= cfg["LOGIN_MAX_FAILURES_PER_ACCOUNT"]:
        return True
    per_address = db.session.scalar(
        select(func.count(LoginFailure.id)).where(
            LoginFailure.address == address, LoginFailure.attempted_at >= since
        )
    )
    return per_address >= cfg["LOGIN_MAX_FAILURES_PER_ADDRESS"]


def authenticate(email: str, password: str, address: str) -> LoginResult:
    """Check a login; records the failure or clears past failures."""
    email = normalize_email(email)
    if is_throttled(email, address):
        return LoginResult(user=None, throttled=True)
    user = find_user_by_email(email)
    ok = verify_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.is_active:
        # Old rows are useless once out of the window; prune as we go.
        db.session.execute(delete(LoginFailure).where(LoginFailure.attempted_at < _window_start()))
        db.session.add(LoginFailure(email=email, address=address))
        db.session.flush()
        return LoginResult(user=None)
    db.session.execute(delete(LoginFailure).where(LoginFailure.email == email))
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    db.session.flush()
    return LoginResult(user=user)


def set_password(user: User, password: str) -> None:
    """Set a new password (policy checked) and sign out every other session."""
    problems = password_problems(password, user_inputs=(user.email, user.display_name))
    if problems:
        raise AccountError(problems[0])
    user.password_hash = hash_password(password)
    sessions.end_all(user, "password")


def set_password_with_token(raw_token: str, purpose: TokenPurpose, password: str) -> User:
    """Invitation or reset: check the policy first, so a refused password keeps the link usable."""
    user = tokens.peek(raw_token, purpose).user
    problems = password_problems(password, user_inputs=(user.email, user.display_name))
    if problems:
        raise AccountError(problems[0])
    tokens.consume(raw_token, purpose)
    set_password(user, password)
    db.session.execute(delete(LoginFailure).where(LoginFailure.email == user.email))
    return user


def deactivate_user(user: User, by: User) -> None:
    """Stop an account: it cannot log in, and every session it has ends now."""
    if user.id == by.id:
        raise AccountError("自分自身のアカウントは停止できません。")
    user.active = False
    sessions.end_all(user, "deactivated")


def change_password(user: User, current: str, new: str) -> None:
    if not verify_password(user.password_hash, current):
        raise AccountError("現在のパスワードが正しくありません。")
    set_password(user, new)


def request_password_reset(email: str, address: str) -> None:
    """Send a reset link if the account exists; say nothing either way.

    Requests count against the same per-address window as failed logins, so
    the form cannot be used to flood someone's mailbox or probe for accounts.
    """
    email = normalize_email(email)
    db.session.add(LoginFailure(email=f"password-reset:{email}", address=address))
    user = find_user_by_email(email)
    if user is None or not user.is_active:
        db.session.flush()
        return
    recent = db.session.scalar(
        select(func.count(LoginFailure.id)).where(
            LoginFailure.email == f"password-reset:{email}", LoginFailure.attempted_at >= _window_start()
        )
    )
    if recent <= 3:  # a few retries are fine; beyond that, stop mailing this person
        invitations.send_password_reset(user)
    db.session.flush()

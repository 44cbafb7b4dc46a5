"""Account rules: creating users, logging in, throttling failed logins.

Functions here flush but never commit; the request boundary commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import case, delete, func, or_, select, update

from portal.accounts import invitations, sessions, tokens
from portal.accounts.models import (
    MUNICIPAL_ROLES,
    LoginAttemptCounter,
    LoginFailure,
    LoginKnownAddress,
    Role,
    TokenPurpose,
    User,
)
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


def _insert(model):
    """INSERT … ON CONFLICT for the database in use (both dialects spell it alike)."""
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(model)


def _reserve_attempt(email: str) -> bool:
    """Count one password attempt for ``email``, unless the window's limit is used up.

    One conditional UPDATE: the row lock makes parallel attempts wait for each
    other and re-read the count, so no more than the limit are ever tried.
    """
    now, since = utcnow(), _window_start()
    db.session.execute(
        _insert(LoginAttemptCounter)
        .values(email=email, attempts=0, window_started_at=now)
        .on_conflict_do_nothing(index_elements=["email"])
    )
    expired = LoginAttemptCounter.window_started_at < since
    result = db.session.execute(
        update(LoginAttemptCounter)
        .where(LoginAttemptCounter.email == email,
               or_(expired, LoginAttemptCounter.attempts < current_app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]))
        .values(attempts=case((expired, 1), else_=LoginAttemptCounter.attempts + 1),
                window_started_at=case((expired, now), else_=LoginAttemptCounter.window_started_at))
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def _account_exhausted(email: str) -> bool:
    counter = db.session.get(LoginAttemptCounter, email)
    return (counter is not None and counter.window_started_at >= _window_start()
            and counter.attempts >= current_app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"])


def _address_exhausted(address: str) -> bool:
    failures = db.session.scalar(
        select(func.count(LoginFailure.id)).where(
            LoginFailure.address == address, LoginFailure.attempted_at >= _window_start()
        )
    )
    return failures >= current_app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"]


def known_address(user: User | None, address: str) -> bool:
    """Did ``user`` log in successfully from ``address`` lately? (An office behind one NAT.)"""
    if user is None or not address:
        return False
    since = utcnow() - timedelta(days=current_app.config["LOGIN_KNOWN_ADDRESS_DAYS"])
    return db.session.scalar(
        select(func.count()).select_from(LoginKnownAddress).where(
            LoginKnownAddress.user_id == user.id, LoginKnownAddress.address == address,
            LoginKnownAddress.last_success_at >= since,
        )
    ) > 0


def is_throttled(email: str, address: str) -> bool:
    """For "forgot password": the account's attempts are used up, or the address's
    are and the account never logged in from it (others behind the same NAT go on)."""
    email = normalize_email(email)
    if _account_exhausted(email):
        return True
    return _address_exhausted(address) and not known_address(find_user_by_email(email), address)


def _remember_address(user: User, address: str) -> None:
    if not address:
        return
    now = utcnow()
    db.session.execute(
        _insert(LoginKnownAddress)
        .values(user_id=user.id, address=address, last_success_at=now)
        .on_conflict_do_update(index_elements=["user_id", "address"], set_={"last_success_at": now})
    )


def authenticate(email: str, password: str, address: str) -> LoginResult:
    """Check a login; records the failure or clears past failures.

    Too many failures from one address slow that address down, but an account
    that recently logged in from it may still try (within its own limit), so
    one attacker behind a municipal office's NAT does not lock out the office.
    """
    email = normalize_email(email)
    user = find_user_by_email(email)
    if _address_exhausted(address) and not known_address(user, address):
        return LoginResult(user=None, throttled=True)
    if not _reserve_attempt(email):
        return LoginResult(user=None, throttled=True)
    ok = verify_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.is_active:
        # Old rows are useless once out of the window; prune as we go.
        db.session.execute(delete(LoginFailure).where(LoginFailure.attempted_at < _window_start()))
        db.session.add(LoginFailure(email=email, address=address))
        db.session.flush()
        return LoginResult(user=None)
    _clear_failures(email)
    _remember_address(user, address)
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    db.session.flush()
    return LoginResult(user=user)


def _clear_failures(email: str) -> None:
    db.session.execute(delete(LoginFailure).where(LoginFailure.email == email))
    db.session.execute(
        update(LoginAttemptCounter).where(LoginAttemptCounter.email == email).values(attempts=0)
        .execution_options(synchronize_session=False)
    )


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
    _clear_failures(user.email)
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

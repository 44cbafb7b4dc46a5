"""Server-side sessions: a cookie is only worth what its row in user_sessions says.

The signed Flask cookie carries a random session key next to Flask-Login's
user id. Every request looks the key up (by its SHA-256): an ended row, an
idle one (no request for SESSION_IDLE_MINUTES) or an old one (started more
than SESSION_ABSOLUTE_HOURS ago) means "not logged in". Logout ends the
row, so a copy of the cookie taken before is worthless; a password change,
a deactivation or an administrator's "sign out everywhere" end every row of
the user. Nothing is held in process memory.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from functools import cache

from flask import current_app, session
from sqlalchemy import Select, bindparam, delete, or_, select, update

from portal.accounts.models import User, UserSession, new_session_token
from portal.extensions import db
from portal.timeutil import utcnow

COOKIE_KEY = "session_key"
# last_seen_at is written at most this often, not on every request.
TOUCH_EVERY = timedelta(minutes=1)


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _limits() -> tuple[timedelta, timedelta]:
    cfg = current_app.config
    return timedelta(minutes=cfg["SESSION_IDLE_MINUTES"]), timedelta(hours=cfg["SESSION_ABSOLUTE_HOURS"])


def start(user: User) -> None:
    """A new session for ``user`` in this browser (after login_user)."""
    now = utcnow()
    idle, absolute = _limits()
    # Rows of this user that can never be used again are pruned as we go.
    db.session.execute(delete(UserSession).where(
        UserSession.user_id == user.id,
        or_(UserSession.ended_at.is_not(None), UserSession.last_seen_at < now - idle,
            UserSession.created_at < now - absolute),
    ))
    key = secrets.token_urlsafe(32)
    db.session.add(UserSession(user_id=user.id, key_hash=_hash(key), created_at=now, last_seen_at=now))
    db.session.flush()
    session[COOKIE_KEY] = key


def _expiry_reason(row: UserSession, now: datetime) -> str | None:
    idle, absolute = _limits()
    if row.created_at <= now - absolute:
        return "absolute"
    if row.last_seen_at <= now - idle:
        return "idle"
    return None


@cache
def _user_and_session() -> Select:
    """load_user's statement, built once per process (it is code, not data: the cookie's values are
    its parameters); building it took longer than running it."""
    return (
        select(User, UserSession).join(UserSession, UserSession.user_id == User.id)
        .where(User.session_token == bindparam("session_token"), UserSession.key_hash == bindparam("key_hash"))
    )


def load_user(session_token: str) -> User | None:
    """The user of this request's cookie if its session is live (called for every request).

    One statement, user and session together, so checking the session costs no extra query.
    """
    key = session.get(COOKIE_KEY)
    if not key:
        return None
    found = db.session.execute(_user_and_session(), {"session_token": session_token, "key_hash": _hash(key)}).first()
    if found is None:
        return None
    user, row = found
    if row.ended_at is not None or not user.is_active:
        return None
    now = utcnow()
    reason = _expiry_reason(row, now)
    if reason:
        row.ended_at, row.ended_reason = now, reason
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now
    return user


def end_current(reason: str = "logout") -> None:
    key = session.get(COOKIE_KEY)
    if key:
        db.session.execute(
            update(UserSession).where(UserSession.key_hash == _hash(key), UserSession.ended_at.is_(None))
            .values(ended_at=utcnow(), ended_reason=reason)
        )


def end_all(user: User, reason: str) -> int:
    """End every session of ``user``; returns how many were live. Also rotates the session token."""
    ended = db.session.execute(
        update(UserSession).where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
        .values(ended_at=utcnow(), ended_reason=reason)
    ).rowcount
    user.session_token = new_session_token()
    db.session.flush()
    return ended


def live_counts() -> dict[int, int]:
    """Live sessions per user id (for the administrator's list)."""
    now = utcnow()
    idle, absolute = _limits()
    rows = db.session.execute(
        select(UserSession.user_id, db.func.count()).where(
            UserSession.ended_at.is_(None), UserSession.last_seen_at > now - idle,
            UserSession.created_at > now - absolute,
        ).group_by(UserSession.user_id)
    )
    return dict(rows.tuples().all())

"""User accounts and the record of failed logins."""

from __future__ import annotations

import secrets
from datetime import datetime
from enum import StrEnum

from flask import current_app
from flask_login import UserMixin
from sqlalchemy import Boolean, CheckConstraint, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.timeutil import utcnow


class Role(StrEnum):
    ADMIN = "admin"
    PREFECTURE = "prefecture"
    DESK = "desk"
    MEMBER = "member"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.ADMIN: "システム管理者",
    Role.PREFECTURE: "県の担当職員",
    Role.DESK: "総合支援窓口の職員",
    Role.MEMBER: "構成員（機関・団体）",
}

# Roles that belong to exactly one municipality.
MUNICIPAL_ROLES = (Role.DESK, Role.MEMBER)


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('admin', 'prefecture', 'desk', 'member')", name="role"),
        # desk and member users belong to a municipality; the others never do.
        CheckConstraint(
            "(role IN ('desk', 'member')) = (municipality_id IS NOT NULL)",
            name="municipality_for_municipal_roles",
        ),
        CheckConstraint(
            "role = 'member' OR member_organization_id IS NULL",
            name="organization_only_for_members",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(100), default="")
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    municipality_id: Mapped[int | None] = mapped_column(
        ForeignKey("municipalities.id", ondelete="RESTRICT"), index=True
    )
    # The member organisation a `member` user acts for.
    member_organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("member_organizations.id", ondelete="SET NULL"), index=True
    )
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Demo accounts can log in only in development mode.
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    # Rotated on password change, which signs out every other session.
    session_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_session_token)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime)

    municipality = db.relationship("Municipality", lazy="joined")

    def get_id(self) -> str:
        return self.session_token

    @property
    def is_active(self) -> bool:
        # Demo accounts (known passwords) work only in development.
        return self.active and not (self.is_demo and current_app.config["KOSODATE_ENV"] != "development")

    @property
    def role_enum(self) -> Role:
        return Role(self.role)

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"


class LoginFailure(db.Model):
    """One failed login, kept for the throttling window."""

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    address: Mapped[str] = mapped_column(String(45), index=True)
    attempted_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)


class LoginAttemptCounter(db.Model):
    """Password attempts per account in the current window, counted atomically.

    An attempt is reserved by one conditional UPDATE *before* the password is
    checked, so parallel requests cannot all pass a count read beforehand.
    """

    __tablename__ = "login_attempt_counters"

    email: Mapped[str] = mapped_column(String(254), primary_key=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    window_started_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class LoginKnownAddress(db.Model):
    """An address a user logged in from: it stays open to that user when the address is throttled."""

    __tablename__ = "login_known_addresses"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    address: Mapped[str] = mapped_column(String(45), primary_key=True)
    last_success_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)


class TokenPurpose(StrEnum):
    INVITE = "invite"
    RESET = "reset"


class AccountToken(db.Model):
    """A one-time link: only its SHA-256 is stored, so a database leak reveals no usable link."""

    __tablename__ = "account_tokens"
    __table_args__ = (CheckConstraint("purpose IN ('invite', 'reset')", name="purpose"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(10))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)

    user = db.relationship("User")


class UserSession(db.Model):
    """One signed-in browser. The cookie holds a random key; only its SHA-256 is stored.

    Checked on every request (portal/accounts/sessions.py), so ending the row
    ends the session even for a copy of the cookie taken earlier.
    """

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime)
    # logout, password, deactivated, signed_out_everywhere, idle, absolute
    ended_reason: Mapped[str | None] = mapped_column(String(30))

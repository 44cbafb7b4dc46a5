"""One-time links for invitations and password resets.

The raw token travels only in the e-mail; the database keeps its SHA-256, so
a copy of the database gives no usable link. A token works once, before it
expires, and only for its purpose. Issuing a new token of a purpose voids the
user's older ones of that purpose.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update

from portal.accounts.models import AccountToken, TokenPurpose, User
from portal.extensions import db
from portal.japanese import InputError
from portal.timeutil import utcnow

LIFETIMES = {
    TokenPurpose.INVITE: timedelta(days=7),
    TokenPurpose.RESET: timedelta(hours=1),
}


class TokenError(InputError):
    """The link cannot be used; the message says why, in Japanese."""


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def issue(user: User, purpose: TokenPurpose) -> str:
    """A new single-use token for ``user``; returns the raw value for the link."""
    now = utcnow()
    db.session.execute(
        update(AccountToken)
        .where(AccountToken.user_id == user.id, AccountToken.purpose == purpose.value, AccountToken.used_at.is_(None))
        .values(used_at=now)
    )
    raw = secrets.token_urlsafe(32)
    db.session.add(
        AccountToken(user_id=user.id, purpose=purpose.value, token_hash=_hash(raw), expires_at=now + LIFETIMES[purpose])
    )
    db.session.flush()
    return raw


def peek(raw: str, purpose: TokenPurpose) -> AccountToken:
    """The token if it can still be used, else TokenError. Does not use it up."""
    token = db.session.scalar(
        select(AccountToken).where(AccountToken.token_hash == _hash(raw or ""), AccountToken.purpose == purpose.value)
    )
    if token is None:
        raise TokenError("このリンクは無効です。メールに書かれたリンクをそのまま開いてください。")
    if token.used_at is not None:
        raise TokenError("このリンクは既に使われています。もう一度手続きをしてください。")
    if token.expires_at <= utcnow():
        raise TokenError("このリンクの有効期限が切れています。もう一度手続きをしてください。")
    return token


def consume(raw: str, purpose: TokenPurpose) -> User:
    """Use the token up (atomically: two tabs cannot both use it) and return its user."""
    token = peek(raw, purpose)
    used = db.session.execute(
        update(AccountToken)
        .where(AccountToken.id == token.id, AccountToken.used_at.is_(None))
        .values(used_at=utcnow())
    ).rowcount
    if used != 1:
        raise TokenError("このリンクは既に使われています。もう一度手続きをしてください。")
    return token.user


def link(endpoint_path: str) -> str:
    """An absolute link for e-mails, built from PUBLIC_BASE_URL (the worker has no request)."""
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + endpoint_path

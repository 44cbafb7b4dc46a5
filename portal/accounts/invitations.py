"""Inviting a person to set their own password. No password ever travels by e-mail."""

from __future__ import annotations

from flask import url_for

from portal.accounts import tokens
from portal.accounts.models import TokenPurpose, User
from portal.mail.services import enqueue


def send_invitation(user: User, *, organization_name: str = "", municipality_id: int | None = None) -> None:
    """Queue the invitation e-mail (in the caller's transaction)."""
    raw = tokens.issue(user, TokenPurpose.INVITE)
    url = tokens.link(url_for("accounts.setup_password", token=raw))
    who = f"{organization_name}の担当者として" if organization_name else ""
    body = (
        f"{user.display_name or user.email} 様\n\n"
        f"子育て支援ネットワークに{who}ご招待します。\n"
        "次のリンクを開き、ご自身でパスワードを設定してください（有効期限 7 日、1 回のみ有効）。\n\n"
        f"{url}\n\n"
        "心当たりがない場合は、このメールを破棄してください。\n"
    )
    enqueue(user.email, "【子育て支援ネットワーク】パスワード設定のご案内", body, kind="invitation",
            municipality_id=municipality_id)


def send_password_reset(user: User) -> None:
    raw = tokens.issue(user, TokenPurpose.RESET)
    url = tokens.link(url_for("accounts.reset_password", token=raw))
    body = (
        f"{user.display_name or user.email} 様\n\n"
        "パスワード再設定の手続きを受け付けました。\n"
        "次のリンクを開き、新しいパスワードを設定してください（有効期限 1 時間、1 回のみ有効）。\n\n"
        f"{url}\n\n"
        "この手続きに心当たりがない場合は、このメールを破棄してください。パスワードは変わりません。\n"
    )
    enqueue(user.email, "【子育て支援ネットワーク】パスワード再設定のご案内", body, kind="password_reset",
            municipality_id=user.municipality_id)

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from portal.accounts import services
from portal.accounts.forms import LoginForm, LogoutForm
from portal.accounts.models import Role, User
from portal.extensions import db, login_manager
from portal.security.policy import allow, public

bp = Blueprint("accounts", __name__)

login_manager.login_view = "accounts.login"
login_manager.login_message = "ログインしてください。"
login_manager.session_protection = "strong"


@login_manager.user_loader
def _load_user(session_token: str) -> User | None:
    from sqlalchemy import select

    return db.session.scalar(select(User).where(User.session_token == session_token))


def safe_next(target: str | None) -> str | None:
    """Only same-site paths: no scheme, no host, no protocol-relative //."""
    if not target:
        return None
    target = target.strip()
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/"):
        return None
    if target.startswith("//") or target.startswith("/\\") or "\\" in target:
        return None
    return target


def home_for(user: User) -> str:
    role = user.role_enum
    if role in (Role.DESK, Role.MEMBER):
        return url_for("municipality.home", code=user.municipality.code)
    return url_for("dashboard.index")


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        result = services.authenticate(form.email.data, form.password.data, request.remote_addr or "")
        if result.throttled:
            form.form_errors.append(
                "ログインの失敗が続いたため、しばらくログインできません。15分ほど待ってからお試しください。"
            )
            status = 429
        elif result.user is None:
            form.form_errors.append("メールアドレスまたはパスワードが正しくありません。")
        else:
            # A fresh session on login, so a planted session id is worthless.
            session.clear()
            login_user(result.user)
            session.permanent = True
            return redirect(safe_next(request.args.get("next")) or home_for(result.user))
    elif request.method == "POST":
        status = 400
    return render_template("accounts/login.html", form=form), status


@bp.post("/logout")
@allow(*Role)
def logout():
    form = LogoutForm()
    if form.validate_on_submit():
        logout_user()
        session.clear()
        flash("ログアウトしました。", "info")
    return redirect(url_for("accounts.login"))

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select

from portal.accounts import services, sessions, tokens
from portal.accounts.forms import ChangePasswordForm, ForgotPasswordForm, LoginForm, LogoutForm, NewPasswordForm
from portal.accounts.models import Role, TokenPurpose, User
from portal.extensions import db, login_manager
from portal.pagination import paginate
from portal.security.policy import allow, public

bp = Blueprint("accounts", __name__)

login_manager.login_view = "accounts.login"
login_manager.login_message = "ログインしてください。"
login_manager.session_protection = "strong"


@login_manager.user_loader
def _load_user(session_token: str) -> User | None:
    # The cookie alone proves nothing: its session must be live in the database.
    return sessions.load_user(session_token)


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
        return url_for("home.index", code=user.municipality.code)
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
            sessions.start(result.user)
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
        sessions.end_current("logout")
        logout_user()
        session.clear()
        flash("ログアウトしました。", "info")
    return redirect(url_for("accounts.login"))


def _token_page(token: str, purpose: TokenPurpose, title: str, done_message: str):
    """Invitation and reset links: set a password, then log in."""
    try:
        tokens.peek(token, purpose)
    except tokens.TokenError as e:
        return render_template("accounts/token_invalid.html", title=title, message=str(e)), 410
    form = NewPasswordForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = services.set_password_with_token(token, purpose, form.password.data)
        except services.AccountError as e:
            form.password.errors = [*form.password.errors, str(e)]
            status = 400
        except tokens.TokenError as e:
            return render_template("accounts/token_invalid.html", title=title, message=str(e)), 410
        else:
            session.clear()
            login_user(user)
            sessions.start(user)
            session.permanent = True
            flash(done_message, "success")
            return redirect(home_for(user))
    elif form.is_submitted():
        status = 400
    return render_template("accounts/set_password.html", form=form, title=title), status


@bp.route("/account/setup/<token>", methods=["GET", "POST"])
@public
def setup_password(token: str):
    return _token_page(token, TokenPurpose.INVITE, "パスワードの設定", "パスワードを設定しました。ようこそ。")


@bp.route("/account/reset/<token>", methods=["GET", "POST"])
@public
def reset_password(token: str):
    return _token_page(token, TokenPurpose.RESET, "パスワードの再設定", "新しいパスワードを設定しました。")


@bp.route("/account/forgot", methods=["GET", "POST"])
@public
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        if services.is_throttled(services.normalize_email(form.email.data), request.remote_addr or ""):
            form.form_errors.append("短い時間に多くの手続きがありました。しばらく待ってからお試しください。")
            return render_template("accounts/forgot.html", form=form), 429
        services.request_password_reset(form.email.data, request.remote_addr or "")
        return render_template("accounts/forgot_sent.html")
    return render_template("accounts/forgot.html", form=form), 400 if form.is_submitted() else 200


@bp.route("/account/password", methods=["GET", "POST"])
@allow(*Role)
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            services.change_password(current_user._get_current_object(), form.current.data, form.password.data)
        except services.AccountError as e:
            target = form.current if "現在の" in str(e) else form.password
            target.errors = [*target.errors, str(e)]
        else:
            # Every session ended with the password: sign this one in again, the others stay out.
            user = current_user._get_current_object()
            login_user(user)
            sessions.start(user)
            flash("パスワードを変更しました。ほかの端末ではログアウトされました。", "success")
            return redirect(home_for(current_user))
    return render_template("accounts/change_password.html", form=form), 400 if form.is_submitted() else 200


# ---------------------------------------------------------------------------
# The administrator: accounts and their sessions


@bp.get("/admin/users")
@allow(Role.ADMIN)
def admin_users():
    page = paginate(select(User).order_by(User.role, User.email), 50)
    return render_template(
        "accounts/admin_users.html", page=page, live=sessions.live_counts(), form=LogoutForm(),
    )


def _admin_target(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


@bp.post("/admin/users/<int:user_id>/sign-out-everywhere")
@allow(Role.ADMIN)
def sign_out_everywhere(user_id: int):
    user = _admin_target(user_id)
    if LogoutForm().validate_on_submit():
        ended = sessions.end_all(user, "signed_out_everywhere")
        flash(f"{user.email} をすべての端末からログアウトさせました（{ended} 件）。", "success")
    return redirect(url_for("accounts.admin_users"))


@bp.post("/admin/users/<int:user_id>/deactivate")
@allow(Role.ADMIN)
def deactivate(user_id: int):
    user = _admin_target(user_id)
    if LogoutForm().validate_on_submit():
        try:
            services.deactivate_user(user, current_user._get_current_object())
        except services.AccountError as e:
            flash(str(e), "error")
        else:
            flash(f"{user.email} の利用を停止しました。ログイン中の端末もすべてログアウトしました。", "success")
    return redirect(url_for("accounts.admin_users"))

from __future__ import annotations

from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, EqualTo, Length

from portal.forms import FlaskForm


class LoginForm(FlaskForm):
    email = EmailField(
        "メールアドレス",
        validators=[DataRequired("メールアドレスを入力してください。"), Length(max=254)],
        render_kw={"autocomplete": "username", "inputmode": "email"},
    )
    password = PasswordField(
        "パスワード",
        validators=[DataRequired("パスワードを入力してください。"), Length(max=1024)],
        render_kw={"autocomplete": "current-password"},
    )


class LogoutForm(FlaskForm):
    """Only the CSRF token: logging out is a POST so no other site can force it."""


class NewPasswordForm(FlaskForm):
    password = PasswordField(
        "新しいパスワード",
        validators=[DataRequired("パスワードを入力してください。"), Length(max=1024)],
        render_kw={"autocomplete": "new-password"},
        description="12文字以上。推測されにくいもの（関係のない複数の単語の組み合わせなど）にしてください。",
    )
    confirm = PasswordField(
        "新しいパスワード（確認）",
        validators=[DataRequired("確認のため、もう一度入力してください。"),
                    EqualTo("password", "確認用のパスワードが一致しません。")],
        render_kw={"autocomplete": "new-password"},
    )


class ChangePasswordForm(NewPasswordForm):
    current = PasswordField(
        "現在のパスワード",
        validators=[DataRequired("現在のパスワードを入力してください。"), Length(max=1024)],
        render_kw={"autocomplete": "current-password"},
    )


class ForgotPasswordForm(FlaskForm):
    email = EmailField(
        "メールアドレス",
        validators=[DataRequired("メールアドレスを入力してください。"), Length(max=254)],
        render_kw={"autocomplete": "username", "inputmode": "email"},
    )

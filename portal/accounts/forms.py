from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length


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

from __future__ import annotations

from wtforms import BooleanField, EmailField, StringField, TelField
from wtforms.validators import DataRequired, Length

from portal.concurrency import VERSION_FIELDS, VersionedForm
from portal.forms import FlaskForm
from tenants.members.services import ValidationError


def _max(n: int) -> Length:
    return Length(max=n, message=f"{n}文字以内で入力してください。")


class ContactForm(VersionedForm, FlaskForm):
    """A member organisation's own contact (担当者)."""

    name = StringField(
        "氏名", validators=[DataRequired("氏名を入力してください。"), _max(100)],
        render_kw={"autocomplete": "off"},
    )
    name_kana = StringField("ふりがな", validators=[_max(200)])
    title = StringField("役職・部署", validators=[_max(120)])
    phone = TelField("電話番号", validators=[_max(20)], render_kw={"autocomplete": "off"})
    email = EmailField("メールアドレス", validators=[_max(254)], render_kw={"autocomplete": "off"})
    reachable_hours = StringField("連絡がつく時間帯", validators=[_max(200)])
    is_primary = BooleanField("この団体の主担当（最初に連絡する人）にする")

    def data_for_service(self) -> dict:
        return {name: f.data for name, f in self._fields.items() if name != "csrf_token" and name not in VERSION_FIELDS}

    def show_errors(self, error: ValidationError) -> None:
        """The service's Japanese messages, each under its field."""
        for name, message in error.errors.items():
            field = self._fields.get(name)
            if field is not None and name != "csrf_token":
                field.errors = [*field.errors, message]
            else:
                self.form_errors.append(message)

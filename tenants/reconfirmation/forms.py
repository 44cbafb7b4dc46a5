from __future__ import annotations

from wtforms import BooleanField, EmailField, StringField, TelField
from wtforms.validators import DataRequired

from portal.concurrency import VersionedForm
from portal.forms import FlaskForm
from tenants.core.forms import length_of
from tenants.members.models import Contact


class ContactForm(VersionedForm, FlaskForm):
    """A member organisation's own contact (担当者)."""

    name = StringField(
        "氏名", validators=[DataRequired("氏名を入力してください。"), length_of(Contact, "name")],
        render_kw={"autocomplete": "off"},
    )
    name_kana = StringField("ふりがな", validators=[length_of(Contact, "name_kana")])
    title = StringField("役職・部署", validators=[length_of(Contact, "title")])
    phone = TelField("電話番号", validators=[length_of(Contact, "phone")], render_kw={"autocomplete": "off"})
    email = EmailField("メールアドレス", validators=[length_of(Contact, "email")], render_kw={"autocomplete": "off"})
    reachable_hours = StringField("連絡がつく時間帯", validators=[length_of(Contact, "reachable_hours")])
    is_primary = BooleanField("この団体の主担当（最初に連絡する人）にする")

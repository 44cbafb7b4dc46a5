from __future__ import annotations

from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    SelectField,
    SelectMultipleField,
    StringField,
    TelField,
    URLField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from portal.concurrency import VersionedForm
from portal.forms import FlaskForm
from tenants.members.models import STATUS_LABELS
from tenants.members.categories import CATEGORIES, CONSULTATION_TAGS, CORE, RELATED

_GROUP_LABELS = {CORE: "中核となる機関", RELATED: "関連する機関・団体"}


def category_choices() -> list[SelectChoice]:
    return [SelectChoice(c.code, c.name, optgroup=_GROUP_LABELS.get(c.group, "その他の機関・団体")) for c in CATEGORIES]


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _max(n: int) -> Length:
    return Length(max=n, message=f"{n}文字以内で入力してください。")


class OrganizationForm(VersionedForm, FlaskForm):
    name = StringField("名称", validators=[_max(120)], render_kw={"required": True})
    name_kana = StringField("ふりがな", validators=[_max(200)])
    category = SelectField("区分", choices=category_choices())
    status = SelectField("状態", choices=[SelectChoice(s.value, label) for s, label in STATUS_LABELS.items()], default="active")
    joined_on = DateField("加入日", validators=[Optional()])
    consultation_tags = MultiCheckboxField("対応できる相談", choices=[SelectChoice(t) for t in CONSULTATION_TAGS])
    postal_code = StringField("郵便番号", validators=[_max(10)], render_kw={"inputmode": "numeric", "autocomplete": "postal-code"})
    address = StringField("住所", validators=[_max(200)])
    phone = TelField("電話番号", validators=[_max(20)])
    email = EmailField("メールアドレス", validators=[_max(254)])
    website = URLField("ウェブサイト", validators=[_max(300)])
    public_consent = BooleanField("保護者向けの公開ページに掲載することに同意している")


class ContactForm(VersionedForm, FlaskForm):
    name = StringField("氏名", validators=[_max(100)], render_kw={"required": True})
    name_kana = StringField("ふりがな", validators=[_max(200)])
    title = StringField("役職・部署", validators=[_max(120)])
    phone = TelField("電話番号", validators=[_max(20)])
    email = EmailField("メールアドレス", validators=[_max(254)])
    reachable_hours = StringField("連絡がつく時間帯", validators=[_max(200)])
    is_primary = BooleanField("この団体の主担当（最初に連絡する人）")
    last_confirmed_on = DateField("最終確認日", validators=[Optional()])


class ConfirmForm(FlaskForm):
    """Only the CSRF token, for one-button actions."""

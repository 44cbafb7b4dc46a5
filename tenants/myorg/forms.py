from __future__ import annotations

from wtforms import (
    BooleanField,
    EmailField,
    SelectField,
    StringField,
    TelField,
    URLField,
)
from wtforms.validators import Length

from portal.concurrency import VersionedForm
from portal.forms import FlaskForm, Needed, TextAreaField
from tenants.members.forms import MultiCheckboxField, category_choices
from tenants.members.categories import CONSULTATION_TAGS


def _max(n: int) -> Length:
    return Length(max=n, message=f"{n}文字以内で入力してください。")


class MyOrganizationForm(VersionedForm, FlaskForm):
    """What a member organisation may change itself. Status and 加入日 are the desk's."""

    # Held for the desk's approval when changed.
    name = StringField("名称", validators=[_max(120)], render_kw={"required": True})
    # The service checks the category and tags (in Japanese), not WTForms.
    category = SelectField("区分", choices=category_choices(), validate_choice=False)
    # Applied at once.
    name_kana = StringField("ふりがな", validators=[_max(200)])
    consultation_tags = MultiCheckboxField(
        "対応できる相談", choices=list(CONSULTATION_TAGS), validate_choice=False
    )
    postal_code = StringField(
        "郵便番号", validators=[_max(10)], render_kw={"inputmode": "numeric", "autocomplete": "postal-code"}
    )
    address = StringField("住所", validators=[_max(200)])
    phone = TelField("電話番号", validators=[_max(20)])
    email = EmailField("メールアドレス", validators=[_max(254)])
    website = URLField("ウェブサイト", validators=[_max(300)])
    public_consent = BooleanField("保護者向けの公開ページに掲載することに同意する")


class RejectForm(FlaskForm):
    reason = TextAreaField("却下の理由", validators=[Needed(), _max(1000)], render_kw={"rows": 3})


class DecisionForm(FlaskForm):
    """Only the CSRF token, for the approve button."""

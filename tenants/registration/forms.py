from __future__ import annotations

from wtforms import (
    BooleanField,
    EmailField,
    SelectField,
    StringField,
    TelField,
    URLField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length

from portal.forms import FlaskForm, Needed, TextAreaField
from tenants.members.forms import MultiCheckboxField, category_choices
from tenants.members.categories import CONSULTATION_TAGS
from tenants.registration.services import DECLINE_REASON_MAX, INFO_OFFERED_MAX


def _max(n: int) -> Length:
    return Length(max=n, message=f"{n}文字以内で入力してください。")


class ApplicationForm(FlaskForm):
    """The public application (登録申請). Field names are the Registration columns."""

    org_name = StringField("団体・機関の名称", validators=[Needed(), _max(120)], render_kw={"autocomplete": "organization"})
    org_name_kana = StringField("ふりがな", validators=[_max(200)])
    # validate_choice=False: the service explains an unknown value in Japanese.
    category = SelectField("区分", choices=[SelectChoice("", "選んでください"), *category_choices()],
                           validators=[Needed()], validate_choice=False)
    consultation_tags = MultiCheckboxField("対応できる相談", choices=[SelectChoice(t) for t in CONSULTATION_TAGS],
                                           validate_choice=False)
    info_offered = TextAreaField("ネットワークに提供できる情報", validators=[_max(INFO_OFFERED_MAX)], render_kw={"rows": 5})
    postal_code = StringField("郵便番号", validators=[_max(10)], render_kw={"inputmode": "numeric", "autocomplete": "postal-code"})
    address = StringField("所在地", validators=[_max(200)], render_kw={"autocomplete": "street-address"})
    phone = TelField("代表電話番号", validators=[_max(20)])
    email = EmailField("代表メールアドレス", validators=[_max(254)])
    website = URLField("ウェブサイト", validators=[_max(300)])
    public_consent = BooleanField("保護者向けの公開ページに団体の名称・連絡先を掲載してもよい")

    contact_name = StringField("担当者の氏名", validators=[Needed(), _max(100)], render_kw={"autocomplete": "name"})
    contact_name_kana = StringField("ふりがな", validators=[_max(200)])
    contact_title = StringField("役職・部署", validators=[_max(120)])
    contact_phone = TelField("担当者の電話番号", validators=[_max(20)], render_kw={"autocomplete": "tel"})
    contact_email = EmailField("担当者のメールアドレス", validators=[Needed(), _max(254)], render_kw={"autocomplete": "email"})

    terms_accepted = BooleanField("参加にあたっての約束を読み、同意します", validators=[Needed()])


class DeclineForm(FlaskForm):
    reason = TextAreaField("お断りする理由", validators=[Needed(), _max(DECLINE_REASON_MAX)], render_kw={"rows": 4})


class DecisionForm(FlaskForm):
    """Only the CSRF token, for the approve button."""

from __future__ import annotations

from wtforms import BooleanField, EmailField, SelectField, StringField, TelField, URLField
from wtforms.fields.choices import SelectChoice

from portal.forms import FlaskForm, Needed, TextAreaField
from tenants.core.forms import POSTAL_CODE_TYPED, MultiCheckboxField, length_of
from tenants.members.categories import CONSULTATION_TAGS
from tenants.members.forms import category_choices
from tenants.registration.models import Registration


class ApplicationForm(FlaskForm):
    """The public application (登録申請). Field names are the Registration columns."""

    org_name = StringField("団体・機関の名称", validators=[Needed(), length_of(Registration, "org_name")],
                           render_kw={"autocomplete": "organization"})
    org_name_kana = StringField("ふりがな", validators=[length_of(Registration, "org_name_kana")])
    # validate_choice=False: the service explains an unknown value in Japanese.
    category = SelectField("区分", choices=[SelectChoice("", "選んでください"), *category_choices()],
                           validators=[Needed()], validate_choice=False)
    consultation_tags = MultiCheckboxField("対応できる相談", choices=[SelectChoice(t) for t in CONSULTATION_TAGS],
                                           validate_choice=False)
    info_offered = TextAreaField("ネットワークに提供できる情報", validators=[length_of(Registration, "info_offered")],
                                 render_kw={"rows": 5})
    postal_code = StringField("郵便番号", validators=[POSTAL_CODE_TYPED],
                              render_kw={"inputmode": "numeric", "autocomplete": "postal-code"})
    address = StringField("所在地", validators=[length_of(Registration, "address")],
                          render_kw={"autocomplete": "street-address"})
    phone = TelField("代表電話番号", validators=[length_of(Registration, "phone")])
    email = EmailField("代表メールアドレス", validators=[length_of(Registration, "email")])
    website = URLField("ウェブサイト", validators=[length_of(Registration, "website")])
    public_consent = BooleanField("保護者向けの公開ページに団体の名称・連絡先を掲載してもよい")

    contact_name = StringField("担当者の氏名", validators=[Needed(), length_of(Registration, "contact_name")],
                               render_kw={"autocomplete": "name"})
    contact_name_kana = StringField("ふりがな", validators=[length_of(Registration, "contact_name_kana")])
    contact_title = StringField("役職・部署", validators=[length_of(Registration, "contact_title")])
    contact_phone = TelField("担当者の電話番号", validators=[length_of(Registration, "contact_phone")],
                             render_kw={"autocomplete": "tel"})
    contact_email = EmailField("担当者のメールアドレス", validators=[Needed(), length_of(Registration, "contact_email")],
                               render_kw={"autocomplete": "email"})

    terms_accepted = BooleanField("参加にあたっての約束を読み、同意します", validators=[Needed()])


class DeclineForm(FlaskForm):
    reason = TextAreaField("お断りする理由", validators=[Needed(), length_of(Registration, "decline_reason")],
                           render_kw={"rows": 4})

from __future__ import annotations

from wtforms import BooleanField, DateField, EmailField, SelectField, StringField, TelField, URLField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from portal.concurrency import VersionedForm
from portal.forms import FlaskForm
from tenants.core.forms import POSTAL_CODE_TYPED, MultiCheckboxField, length_of
from tenants.members.categories import CATEGORIES, CONSULTATION_TAGS, CORE, RELATED
from tenants.members.models import Contact, MemberOrganization, MemberStatus

_GROUP_LABELS = {CORE: "中核となる機関", RELATED: "関連する機関・団体"}


def category_choices() -> list[SelectChoice]:
    return [SelectChoice(c.code, c.name, optgroup=_GROUP_LABELS.get(c.group, "その他の機関・団体")) for c in CATEGORIES]


class OrganizationForm(VersionedForm, FlaskForm):
    name = StringField("名称", validators=[length_of(MemberOrganization, "name")], render_kw={"required": True})
    name_kana = StringField("ふりがな", validators=[length_of(MemberOrganization, "name_kana")])
    category = SelectField("区分", choices=category_choices())
    status = SelectField("状態", choices=MemberStatus.choices(), default=MemberStatus.ACTIVE.value)
    joined_on = DateField("加入日", validators=[Optional()])
    consultation_tags = MultiCheckboxField("対応できる相談", choices=[SelectChoice(t) for t in CONSULTATION_TAGS])
    postal_code = StringField("郵便番号", validators=[POSTAL_CODE_TYPED],
                              render_kw={"inputmode": "numeric", "autocomplete": "postal-code"})
    address = StringField("住所", validators=[length_of(MemberOrganization, "address")])
    phone = TelField("電話番号", validators=[length_of(MemberOrganization, "phone")])
    email = EmailField("メールアドレス", validators=[length_of(MemberOrganization, "email")])
    website = URLField("ウェブサイト", validators=[length_of(MemberOrganization, "website")])
    public_consent = BooleanField("保護者向けの公開ページに掲載することに同意している")


class ContactForm(VersionedForm, FlaskForm):
    name = StringField("氏名", validators=[length_of(Contact, "name")], render_kw={"required": True})
    name_kana = StringField("ふりがな", validators=[length_of(Contact, "name_kana")])
    title = StringField("役職・部署", validators=[length_of(Contact, "title")])
    phone = TelField("電話番号", validators=[length_of(Contact, "phone")])
    email = EmailField("メールアドレス", validators=[length_of(Contact, "email")])
    reachable_hours = StringField("連絡がつく時間帯", validators=[length_of(Contact, "reachable_hours")])
    is_primary = BooleanField("この団体の主担当（最初に連絡する人）")
    last_confirmed_on = DateField("最終確認日", validators=[Optional()])

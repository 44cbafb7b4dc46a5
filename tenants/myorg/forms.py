from __future__ import annotations

from wtforms import BooleanField, EmailField, SelectField, StringField, TelField, URLField

from portal.concurrency import VersionedForm
from portal.forms import FlaskForm, Needed, TextAreaField
from tenants.core.forms import POSTAL_CODE_TYPED, MultiCheckboxField, length_of
from tenants.members.categories import CONSULTATION_TAGS
from tenants.members.forms import category_choices
from tenants.members.models import MemberOrganization, OrganizationChangeRequest


class MyOrganizationForm(VersionedForm, FlaskForm):
    """What a member organisation may change itself. Status and 加入日 are the desk's."""

    # Held for the desk's approval when changed.
    name = StringField("名称", validators=[length_of(MemberOrganization, "name")], render_kw={"required": True})
    # The service checks the category and tags (in Japanese), not WTForms.
    category = SelectField("区分", choices=category_choices(), validate_choice=False)
    # Applied at once.
    name_kana = StringField("ふりがな", validators=[length_of(MemberOrganization, "name_kana")])
    consultation_tags = MultiCheckboxField(
        "対応できる相談", choices=list(CONSULTATION_TAGS), validate_choice=False
    )
    postal_code = StringField(
        "郵便番号", validators=[POSTAL_CODE_TYPED], render_kw={"inputmode": "numeric", "autocomplete": "postal-code"}
    )
    address = StringField("住所", validators=[length_of(MemberOrganization, "address")])
    phone = TelField("電話番号", validators=[length_of(MemberOrganization, "phone")])
    email = EmailField("メールアドレス", validators=[length_of(MemberOrganization, "email")])
    website = URLField("ウェブサイト", validators=[length_of(MemberOrganization, "website")])
    public_consent = BooleanField("保護者向けの公開ページに掲載することに同意する")


class RejectForm(FlaskForm):
    reason = TextAreaField("却下の理由", validators=[Needed(), length_of(OrganizationChangeRequest, "reason")],
                           render_kw={"rows": 3})

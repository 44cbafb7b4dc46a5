"""Forms of 相談と引継ぎ. The services check choices and write the Japanese messages."""

from __future__ import annotations

from wtforms import HiddenField, RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice

from portal.forms import FlaskForm, Needed, TextAreaField
from tenants.core.forms import length_of
from tenants.handovers.models import AGE_BANDS, CATEGORIES, Consent, Consultation, Handover, Urgency

CONSENT_CHOICES = [
    SelectChoice(Consent.GIVEN.value, "同意あり — 本人（保護者）が、引継ぎ先に相談内容を伝えることに同意した"),
    SelectChoice(Consent.NOT_GIVEN.value, "同意なし・未確認 — このままでは引き継げません"),
    SelectChoice(Consent.NOT_REQUIRED.value, "同意不要 — 子どもの安全に関わるため、同意なしで引き継ぐ（理由が必要）"),
]


def _choices(pairs) -> list[SelectChoice]:
    return [SelectChoice("", "選んでください"), *(SelectChoice(v, label) for v, label in pairs)]


class ConsultationForm(FlaskForm):
    case_reference = StringField("受付番号（任意）", validators=[length_of(Consultation, "case_reference")])
    category = SelectField("相談の区分", choices=_choices(CATEGORIES), validators=[Needed()], validate_choice=False)
    urgency = RadioField(
        "緊急度", choices=[SelectChoice(Urgency.NORMAL.value, "通常（1業務日以内に回答）"),
                 SelectChoice(Urgency.URGENT.value, "至急（3業務時間以内に回答）")],
        default=Urgency.NORMAL.value, validators=[Needed()], validate_choice=False,
    )
    age_band = SelectField("子どもの年齢", choices=_choices(AGE_BANDS), validators=[Needed()], validate_choice=False)
    summary = TextAreaField("相談の概要", validators=[Needed(), length_of(Consultation, "summary")], render_kw={"rows": 5})
    contact_preference = StringField("ご家族への連絡方法（任意）", validators=[length_of(Consultation, "contact_preference")])
    consent = RadioField("本人同意", choices=CONSENT_CHOICES, validators=[Needed()], validate_choice=False)
    consent_reason = TextAreaField("同意不要とする理由", validators=[length_of(Consultation, "consent_reason")], render_kw={"rows": 3})


class ConsentForm(FlaskForm):
    consent = RadioField("本人同意", choices=CONSENT_CHOICES, validators=[Needed()], validate_choice=False)
    consent_reason = TextAreaField("同意不要とする理由", validators=[length_of(Consultation, "consent_reason")], render_kw={"rows": 3})


class SendForm(FlaskForm):
    recipient = SelectField("引継ぎ先", choices=[], validators=[Needed()], validate_choice=False)
    contact_id = HiddenField()
    message = TextAreaField("引継ぎ先への伝達事項（任意）", validators=[length_of(Handover, "message")], render_kw={"rows": 3})


class DeclineForm(FlaskForm):
    reason = TextAreaField("辞退の理由", validators=[Needed(), length_of(Handover, "decline_reason")], render_kw={"rows": 3})


class ResolveForm(FlaskForm):
    outcome = TextAreaField("対応の結果", validators=[Needed(), length_of(Handover, "outcome")], render_kw={"rows": 3})


class CloseForm(FlaskForm):
    outcome = TextAreaField("終了の理由・結果", validators=[Needed(), length_of(Consultation, "outcome")], render_kw={"rows": 3},
                            id="close_outcome")

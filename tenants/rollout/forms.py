from __future__ import annotations

from wtforms import BooleanField, DateField, IntegerField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from portal.concurrency import VersionedForm
from portal.forms import FlaskForm, TextAreaField
from tenants.rollout.models import NetworkStatus
from tenants.rollout.services import NOTE_MAX

_NOTE = Length(max=NOTE_MAX, message=f"メモは{NOTE_MAX}文字以内で入力してください。")


class JaDateField(DateField):
    """A date field whose parse error is Japanese (the browser sends YYYY-MM-DD)."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = None
            raise ValueError("日付は 2026-05-20 のように入力してください。") from None


class JaIntegerField(IntegerField):
    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = None
            raise ValueError("半角の数字で入力してください。") from None


class DeclarationForm(VersionedForm, FlaskForm):
    # A declaration adds to the history; it conflicts when another one changed the status meanwhile.
    versioned_fields = ("status",)

    status = SelectField("ネットワークの設置状況", choices=[SelectChoice(s.value, s.label) for s in NetworkStatus])
    declared_on = JaDateField("日付", validators=[Optional()],
                            description="その状況になった日（設置済なら設置した日）")
    note = TextAreaField("メモ", validators=[Optional(), _NOTE],
                         description="例: 要保護児童対策地域協議会を母体に準備会を開催")


class TownForm(VersionedForm, FlaskForm):
    one_stop_desk = BooleanField("総合支援窓口（ワンストップ窓口）がある")
    support_hubs = BooleanField("おおむね中学校区ごとに子育て支援拠点がある")
    network = BooleanField("子育て支援ネットワークがある")
    certified_on = JaDateField("認定日", validators=[Optional()], description="地域子育て応援タウンに認定された日（未認定なら空欄）")
    note = TextAreaField("メモ", validators=[Optional(), _NOTE])

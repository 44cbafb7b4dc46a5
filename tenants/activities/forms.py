from __future__ import annotations

from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from portal.concurrency import VersionedForm
from portal.forms import FlaskForm, TextAreaField
from tenants.activities.models import ActivityKind
from tenants.activities.services import NOTE_MAX, TITLE_MAX
from tenants.rollout.forms import JaDateField, JaIntegerField


class ActivityForm(VersionedForm, FlaskForm):
    kind = SelectField("種類", choices=[SelectChoice(k.value, k.label) for k in ActivityKind])
    held_on = JaDateField("開催日", validators=[Optional()], render_kw={"required": True})
    title = StringField("題名", validators=[Length(max=TITLE_MAX, message=f"題名は{TITLE_MAX}文字以内で入力してください。")],
                        render_kw={"required": True},
                        description="例: 第2回 情報交換会、発達相談の学習会")
    participants = JaIntegerField("参加者数", validators=[Optional()], render_kw={"inputmode": "numeric", "min": 0},
                                description="分からなければ空欄")
    note = TextAreaField("内容・メモ", validators=[Length(max=NOTE_MAX, message=f"メモは{NOTE_MAX}文字以内で入力してください。")],
                         description="話し合ったこと、次回の予定など（家庭の個人情報は書かないでください）")


class DeleteForm(FlaskForm):
    pass

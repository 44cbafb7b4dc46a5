from __future__ import annotations

from wtforms import SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from portal.concurrency import VersionedForm
from portal.forms import FlaskForm
from tenants.activities.models import ActivityKind
from tenants.rollout.forms import JaDateField, JaIntegerField


class ActivityForm(VersionedForm, FlaskForm):
    kind = SelectField("種類", choices=[SelectChoice(k.value, k.label) for k in ActivityKind])
    held_on = JaDateField("開催日", validators=[Optional()], render_kw={"required": True})
    title = StringField("題名", render_kw={"required": True, "maxlength": 120},
                        description="例: 第2回 情報交換会、発達相談の学習会")
    participants = JaIntegerField("参加者数", validators=[Optional()], render_kw={"inputmode": "numeric", "min": 0},
                                description="分からなければ空欄")
    note = TextAreaField("内容・メモ", description="話し合ったこと、次回の予定など（家庭の個人情報は書かないでください）")


class DeleteForm(FlaskForm):
    pass

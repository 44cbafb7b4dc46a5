from __future__ import annotations

from wtforms import SelectField, StringField
from wtforms.validators import Optional

from portal.concurrency import VersionedForm
from portal.forms import FlaskForm, TextAreaField
from tenants.activities.models import ActivityKind, NetworkActivity
from tenants.core.forms import JaDateField, JaIntegerField, length_of


class ActivityForm(VersionedForm, FlaskForm):
    kind = SelectField("種類", choices=ActivityKind.choices())
    held_on = JaDateField("開催日", validators=[Optional()], render_kw={"required": True})
    title = StringField("題名", validators=[length_of(NetworkActivity, "title", "題名")],
                        render_kw={"required": True},
                        description="例: 第2回 情報交換会、発達相談の学習会")
    participants = JaIntegerField("参加者数", validators=[Optional()], render_kw={"inputmode": "numeric", "min": 0},
                                description="分からなければ空欄")
    note = TextAreaField("内容・メモ", validators=[length_of(NetworkActivity, "note", "メモ")],
                         description="話し合ったこと、次回の予定など（家庭の個人情報は書かないでください）")

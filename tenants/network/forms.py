from __future__ import annotations

from wtforms import DateField, SelectField, StringField
from wtforms.validators import Optional

from portal.concurrency import VersionedForm
from portal.forms import FlaskForm, TextAreaField
from tenants.core.forms import POSTAL_CODE_TYPED, length_of
from tenants.network.models import Desk, Network, NetworkFormation


class NetworkForm(VersionedForm, FlaskForm):
    name = StringField("名称", validators=[length_of(Network, "name")], render_kw={"required": True})
    established_on = DateField("設置日", validators=[Optional()],
                               description="設置した日（分からなければ空欄）")
    formation = SelectField("設置の方法", choices=NetworkFormation.choices())
    existing_council = StringField("活用した協議会等", validators=[length_of(Network, "existing_council")],
                                   description="既存の協議会等を活用した場合: 例 要保護児童対策地域協議会、青少年健全育成協議会")
    activity_summary = TextAreaField("活動状況", validators=[length_of(Network, "activity_summary")],
                                     description="例: 情報交換、学習会、ガイドブックの編集など")


class DeskForm(VersionedForm, FlaskForm):
    name = StringField("窓口の名称", validators=[length_of(Desk, "name")], render_kw={"required": True})
    postal_code = StringField("郵便番号", validators=[POSTAL_CODE_TYPED],
                              render_kw={"autocomplete": "postal-code", "inputmode": "numeric"})
    address = StringField("所在地", validators=[length_of(Desk, "address")])
    phone = StringField("電話番号", validators=[length_of(Desk, "phone")], render_kw={"inputmode": "tel"})
    opening_hours = StringField("受付時間", validators=[length_of(Desk, "opening_hours")],
                                description="例: 平日 8:30〜17:15（祝日・年末年始を除く）")
    staff = TextAreaField("配置職員", validators=[length_of(Desk, "staff")], description="例: 子育てマネジャー 2名、保健師 1名")

from __future__ import annotations

from wtforms import BooleanField, SelectField
from wtforms.validators import Optional

from portal.concurrency import VersionedForm
from portal.forms import FlaskForm, TextAreaField
from tenants.core.forms import JaDateField, length_of
from tenants.rollout.models import NetworkStatus, NetworkStatusDeclaration, TownCertification


class DeclarationForm(VersionedForm, FlaskForm):
    # A declaration adds to the history; it conflicts when another one changed the status meanwhile.
    versioned_fields = ("status",)

    status = SelectField("ネットワークの設置状況", choices=NetworkStatus.choices())
    declared_on = JaDateField("日付", validators=[Optional()],
                            description="その状況になった日（設置済なら設置した日）")
    note = TextAreaField("メモ", validators=[Optional(), length_of(NetworkStatusDeclaration, "note", "メモ")],
                         description="例: 要保護児童対策地域協議会を母体に準備会を開催")


class TownForm(VersionedForm, FlaskForm):
    one_stop_desk = BooleanField("総合支援窓口（ワンストップ窓口）がある")
    support_hubs = BooleanField("おおむね中学校区ごとに子育て支援拠点がある")
    network = BooleanField("子育て支援ネットワークがある")
    certified_on = JaDateField("認定日", validators=[Optional()],
                               description="地域子育て応援タウンに認定された日（未認定なら空欄）")
    note = TextAreaField("メモ", validators=[Optional(), length_of(TownCertification, "note", "メモ")])

"""Demo data for development: 埼玉県 with the two networks of the source document.

Every name and address here is fictional; e-mail addresses use example.jp.
Loading twice changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from portal.accounts import services as accounts
from portal.accounts.models import Role
from portal.extensions import db
from tenants import municipalities
from tenants.models import Municipality
from tenants.network.models import Network, NetworkFormation

DEMO_PASSWORD = "demo-password"

SAITAMA = "111007"  # さいたま市
NIIZA = "112305"  # 新座市

NETWORKS = {
    SAITAMA: dict(
        name="さいたま市子育て支援ネットワーク全体会議",
        established_on=date(2009, 4, 1),
        formation=NetworkFormation.NEW.value,
        activity_summary="意見・情報交換、さいたま子育てWEBの構築など",
    ),
    NIIZA: dict(
        name="新座市子育てネットワーク推進委員会",
        established_on=date(2009, 7, 1),
        formation=NetworkFormation.NEW.value,
        activity_summary="情報交換、学習会など",
    ),
}


@dataclass(frozen=True)
class DemoLogin:
    label: str
    email: str
    password: str


DEMO_USERS = (
    ("システム管理者", "admin@example.jp", Role.ADMIN, None, "管理 太郎（デモ）"),
    ("県の担当職員", "pref@example.jp", Role.PREFECTURE, None, "埼玉 県子（デモ）"),
    ("さいたま市 総合支援窓口", "desk.saitama@example.jp", Role.DESK, SAITAMA, "見沼 花子（デモ）"),
    ("新座市 総合支援窓口", "desk.niiza@example.jp", Role.DESK, NIIZA, "野火止 一郎（デモ）"),
)


def load_demo() -> list[DemoLogin]:
    municipalities.load("11")
    by_code = {
        m.code: m
        for m in db.session.scalars(select(Municipality).where(Municipality.code.in_(list(NETWORKS))))
    }
    for code, values in NETWORKS.items():
        m = by_code[code]
        if db.session.scalar(select(Network).where(Network.municipality_id == m.id)) is None:
            db.session.add(Network(municipality_id=m.id, **values))
    logins = []
    for label, email, role, code, name in DEMO_USERS:
        if accounts.find_user_by_email(email) is None:
            accounts.create_user(
                email=email,
                role=role,
                password=DEMO_PASSWORD,
                municipality_id=by_code[code].id if code else None,
                display_name=name,
                is_demo=True,
            )
        logins.append(DemoLogin(label, email, DEMO_PASSWORD))
    db.session.flush()
    return logins

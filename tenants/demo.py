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
from portal.timeutil import today_jst
from tenants import municipalities
from tenants.models import Municipality
from tenants.members import services as members
from tenants.network.models import Desk, Network, NetworkFormation
from tenants.scoping import Scope, scoped

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


# Member organisations as the source document lists them; every contact is
# invented (見本・例示… are not real people), phones use the unassigned 048-999.
MEMBERS = {
    SAITAMA: [
        ("さいたま市私立幼稚園協会", "さいたましりつようちえんきょうかい", "yochien", ["育児不安", "一時預かり"]),
        ("さいたま市私立保育園協会", "さいたましりつほいくえんきょうかい", "hoikusho", ["保育所入所", "一時預かり"]),
        ("さいたま市子育てサークル連絡会", "さいたましこそだてさーくるれんらくかい", "circle", ["仲間づくり", "遊び場・イベント"]),
        ("青年さいたま市民会議", "せいねんさいたましみんかいぎ", "other", []),
        ("さいたま市主任児童委員連絡会", "さいたましゅにんじどういいんれんらくかい", "jido_iin", ["虐待の疑い", "育児不安"]),
        ("さいたま市社会福祉協議会", "さいたましゃかいふくしきょうぎかい", "shakyo", ["経済的困難", "ひとり親"]),
        ("さいたま市児童センター", "さいたましじどうせんたー", "jido_center", ["遊び場・イベント", "仲間づくり"]),
        ("地域子育て支援センター（ひろば）", "ちいきこそだてしえんせんたー", "shien_center", ["育児不安", "仲間づくり", "一時預かり"]),
        ("区支援課（家庭児童相談）", "くしえんか", "katei_jido", ["虐待の疑い", "ひとり親", "経済的困難"]),
        ("区保健センター", "くほけんせんたー", "hoken_center", ["発達相談", "健康・医療", "育児不安"]),
        ("さいたま市児童相談所", "さいたましじどうそうだんじょ", "jidosodanjo", ["虐待の疑い", "障害"]),
        ("さいたま市保健所", "さいたましほけんじょ", "hokenjo", ["健康・医療"]),
        ("教育委員会 生涯学習振興課", "きょういくいいんかい しょうがいがくしゅうしんこうか", "kyoiku_iinkai", ["学校・不登校"]),
        ("生涯学習総合センター", "しょうがいがくしゅうそうごうせんたー", "kominkan", ["仲間づくり"]),
        ("子育て支援総合コーディネーター", "こそだてしえんそうごうこーでぃねーたー", "supporter", ["育児不安"]),
    ],
    NIIZA: [
        ("新座市私立幼稚園協会", "にいざししりつようちえんきょうかい", "yochien", ["育児不安"]),
        ("新座市保育園連絡会", "にいざしほいくえんれんらくかい", "hoikusho", ["保育所入所", "一時預かり"]),
        ("見本大学 子ども学部（学識経験者）", "みほんだいがく", "gakushiki", []),
        ("新座市立見本小学校", "にいざしりつみほんしょうがっこう", "shogakko", ["学校・不登校"]),
        ("新座警察署 生活安全課", "にいざけいさつしょ せいかつあんぜんか", "keisatsu", ["虐待の疑い"]),
        ("NPO法人 子育てひだまり（見本）", "えぬぴーおーほうじん こそだてひだまり", "npo", ["育児不安", "仲間づくり", "一時預かり"]),
        ("新座市子育てサポーターの会", "にいざしこそだてさぽーたーのかい", "supporter", ["仲間づくり", "遊び場・イベント"]),
        ("新座市家庭児童相談室", "にいざしかていじどうそうだんしつ", "katei_jido", ["虐待の疑い", "ひとり親"]),
        ("新座市男女共同参画推進会議", "にいざしだんじょきょうどうさんかくすいしんかいぎ", "danjo", ["ひとり親"]),
        ("新座市保健センター", "にいざしほけんせんたー", "hoken_center", ["発達相談", "健康・医療", "育児不安"]),
        ("新座市教育委員会 生涯学習課", "にいざしきょういくいいんかい しょうがいがくしゅうか", "kyoiku_iinkai", ["学校・不登校", "仲間づくり"]),
    ],
}

# Clearly fictional people: 見本 (sample), 例示 (example), 仮野, 試田 ...
DEMO_PEOPLE = [
    ("見本 花子", "みほん はなこ"), ("例示 太郎", "れいじ たろう"), ("仮野 さくら", "かりの さくら"),
    ("試田 健一", "ためだ けんいち"), ("架空 美咲", "かくう みさき"), ("見本 次郎", "みほん じろう"),
    ("例示 由美", "れいじ ゆみ"), ("仮野 拓也", "かりの たくや"), ("試田 陽子", "ためだ ようこ"),
    ("架空 大輔", "かくう だいすけ"),
]

DESKS = {
    SAITAMA: dict(name="さいたま市 子育て総合支援窓口（見本）", postal_code="330-9588", address="さいたま市浦和区（見本）",
                  phone="048-999-0100", opening_hours="平日 8:30〜17:15（祝日・年末年始を除く）", staff="子育てマネジャー 3名"),
    NIIZA: dict(name="新座市 子育て総合支援窓口（見本）", postal_code="352-8623", address="新座市野火止（見本）",
                phone="048-999-0200", opening_hours="平日 8:30〜17:15（祝日・年末年始を除く）", staff="子育てマネジャー 2名、保健師 1名"),
}


def _load_members(municipality: Municipality, today: date) -> None:
    with scoped(db.session, Scope(municipality_id=municipality.id)):
        if db.session.scalar(select(Desk)) is None:
            db.session.add(Desk(**DESKS[municipality.code]))
        for i, (name, kana, category, tags) in enumerate(MEMBERS[municipality.code]):
            if members.find_organization_by_name(name) is not None:
                continue
            org = members.create_organization(
                {"name": name, "name_kana": kana, "category": category, "consultation_tags": tags,
                 "phone": f"048-999-{1000 + i * 10 + (0 if municipality.code == SAITAMA else 500):04d}",
                 "email": f"org{i + 1}@{'saitama' if municipality.code == SAITAMA else 'niiza'}.example.jp",
                 "public_consent": category not in ("keisatsu", "jidosodanjo")}
            )
            person, person_kana = DEMO_PEOPLE[i % len(DEMO_PEOPLE)]
            # A few contacts were last confirmed long ago, so staleness shows in the demo.
            confirmed = date(today.year - 2, 5, 1) if i % 5 == 4 else today
            members.create_contact(
                org,
                {"name": person, "name_kana": person_kana, "title": "担当係", "is_primary": True,
                 "phone": f"048-999-{2000 + i * 10 + (0 if municipality.code == SAITAMA else 500):04d}",
                 "email": f"contact{i + 1}@{'saitama' if municipality.code == SAITAMA else 'niiza'}.example.jp",
                 "reachable_hours": "平日 9:00〜17:00", "last_confirmed_on": confirmed},
            )


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
        _load_members(m, today_jst())
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

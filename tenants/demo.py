"""Demo data for development: 埼玉県 with the two networks of the source document.

    flask --app wsgi demo   # development mode only; create_app leaves it out in production

Every name and address here is fictional; e-mail addresses use example.jp.
Loading twice changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from portal.accounts import services as accounts
from portal.accounts.models import Role
from portal.extensions import db
from portal.timeutil import today_jst, utcnow
from tenants import municipalities
from tenants.activities.models import NetworkActivity
from tenants.handovers import daily
from tenants.handovers.deadlines import response_due
from tenants.handovers.models import Consultation, Handover
from tenants.members import services as members
from tenants.models import Municipality
from tenants.network.models import Desk, Network, NetworkFormation
from tenants.rollout.models import NetworkStatusDeclaration, TownCertification
from tenants.scoping import EVERYTHING, Scope, scoped

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


# Declared network status (県ダッシュボード): the two networks of the source document
# are 設置済 since they were set up; a few others are 準備中 (days before today).
DEMO_NOTE = "デモデータ（架空の申告）"
ESTABLISHED = {SAITAMA: date(2009, 4, 1), NIIZA: date(2009, 7, 1)}
PREPARING = {
    "112011": (200, "要保護児童対策地域協議会を母体に準備会を開催（デモ）"),  # 川越市
    "112275": (120, "子育て支援センターと保健センターで準備会（デモ）"),  # 朝霞市
    "112283": (60, "構成員の候補に打診中（デモ）"),  # 志木市
    "112071": (30, "庁内で検討を開始（デモ）"),  # 秩父市
}
# Activities in the last 12 months: (days ago, kind, title, participants)
ACTIVITIES = {
    SAITAMA: [(150, "exchange", "全体会議（意見・情報交換）", 24), (40, "other", "さいたま子育てWEBの更新会議", 8)],
    NIIZA: [(210, "exchange", "情報交換会", 18), (90, "study", "学習会「発達が気になる子への関わり」", 31),
            (20, "guidebook", "子育てガイドブック編集会議", 9)],
}


def _load_rollout(today: date) -> None:
    codes = [*ESTABLISHED, *PREPARING]
    by_code = {m.code: m for m in db.session.scalars(select(Municipality).where(Municipality.code.in_(codes)))}
    with scoped(db.session, Scope(everything=True)):
        declared = set(db.session.scalars(select(NetworkStatusDeclaration.municipality_id)))
        for code, on in ESTABLISHED.items():
            m = by_code[code]
            if m.id not in declared:
                db.session.add(NetworkStatusDeclaration(municipality_id=m.id, status="established", declared_on=on,
                                                        note=DEMO_NOTE))
        for code, (days, note) in PREPARING.items():
            m = by_code[code]
            if m.id not in declared:
                db.session.add(NetworkStatusDeclaration(municipality_id=m.id, status="preparing",
                                                        declared_on=today - timedelta(days=days), note=note))
        niiza = by_code[NIIZA]
        if db.session.scalar(select(TownCertification).where(TownCertification.municipality_id == niiza.id)) is None:
            db.session.add(TownCertification(municipality_id=niiza.id, one_stop_desk=True, support_hubs=True,
                                             network=True, certified_on=date(2012, 3, 1), note=DEMO_NOTE))
        for code, items in ACTIVITIES.items():
            m = by_code[code]
            if db.session.scalar(select(NetworkActivity.id).where(NetworkActivity.municipality_id == m.id).limit(1)):
                continue
            for days, kind, title, participants in items:
                db.session.add(NetworkActivity(municipality_id=m.id, kind=kind, held_on=today - timedelta(days=days),
                                               title=title, participants=participants, note="デモデータ"))


DEMO_SUMMARY = "（デモ）架空の相談です。"
# 新座市's handovers, relative to now: (hours ago it arrived, category, urgency, steps).
# Each step: (recipient name or None for the desk, outcome: sent/declined/accepted/resolved, hours to answer).
HANDOVERS = [
    (3, "development", "normal", [("新座市保健センター", "sent", None)]),
    (30 * 24, "anxiety", "normal", [("新座市保健センター", "declined", 2),
                                    ("NPO法人 子育てひだまり（見本）", "resolved", 1)]),
    (5 * 24, "daycare", "urgent", [("新座市保育園連絡会", "accepted", 1)]),
]


def _load_handovers(municipality: Municipality, desk_user_id: int) -> None:
    """A few fictional handovers, so the inboxes and the figures have something to show."""
    with scoped(db.session, Scope(municipality_id=municipality.id)):
        if db.session.scalar(select(Consultation.id).limit(1)) is not None:
            return
        now = utcnow()
        for n, (hours_ago, category, urgency, steps) in enumerate(HANDOVERS, start=1):
            at = now - timedelta(hours=hours_ago)
            c = Consultation(case_reference=f"デモ-{n:03d}", category=category, urgency=urgency, age_band="age1_2",
                             summary=DEMO_SUMMARY, contact_preference="（デモ）平日の午後に電話", consent="given",
                             created_at=at, created_by_id=desk_user_id, hop_count=len(steps))
            db.session.add(c)
            db.session.flush()
            for name, outcome, answer_hours in steps:
                h = Handover(consultation_id=c.id, recipient_organization_id=members.find_organization_by_name(name).id, sent_at=at,
                             sent_by_id=desk_user_id, response_due_at=response_due(at, urgency), status=outcome,
                             message="（デモ）よろしくお願いします。")
                if answer_hours is not None:
                    answered = at + timedelta(hours=answer_hours)
                    h.first_response_at, h.response_seconds = answered, answer_hours * 3600
                    if outcome == "declined":
                        h.declined_at, h.decline_reason = answered, "（デモ）担当外のため、ほかの機関をご検討ください。"
                    else:
                        h.accepted_at = answered
                    if outcome == "resolved":
                        h.resolved_at = answered + timedelta(days=3)
                        h.outcome = "（デモ）サロンを紹介し、参加につながった。"
                        c.status, c.closed_at, c.outcome = "resolved", h.resolved_at, h.outcome
                    at = answered
                db.session.add(h)
                db.session.flush()
                # The dashboard's per-day counts, as the services keep them.
                daily.count_sent(h)
                if h.first_response_at is not None:
                    daily.count_first_response(h)


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
    ("新座市保健センター（構成員）", "hoken.niiza@example.jp", Role.MEMBER, NIIZA, "栗原 保子（デモ）"),
)
DEMO_MEMBER_ORGANIZATIONS = {"hoken.niiza@example.jp": "新座市保健センター"}


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
    _load_rollout(today_jst())
    logins = []
    for label, email, role, code, name in DEMO_USERS:
        if accounts.find_user_by_email(email) is None:
            org_id = None
            if email in DEMO_MEMBER_ORGANIZATIONS:
                with scoped(db.session, Scope(municipality_id=by_code[code].id)):
                    org_id = members.find_organization_by_name(DEMO_MEMBER_ORGANIZATIONS[email]).id
            accounts.create_user(
                email=email,
                role=role,
                password=DEMO_PASSWORD,
                municipality_id=by_code[code].id if code else None,
                member_organization_id=org_id,
                display_name=name,
                is_demo=True,
            )
        logins.append(DemoLogin(label, email, DEMO_PASSWORD))
    db.session.flush()
    _load_handovers(by_code[NIIZA], accounts.find_user_by_email("desk.niiza@example.jp").id)
    return logins


@click.command("demo")
@with_appcontext
def demo_command() -> None:
    """Load demo data (development mode only) and print the demo logins."""
    if current_app.config["KOSODATE_ENV"] != "development":
        raise click.ClickException("デモデータは開発モード（KOSODATE_ENV=development）でのみ読み込めます。")
    with scoped(db.session, EVERYTHING):
        logins = load_demo()
        db.session.commit()
    click.echo("デモデータを読み込みました。デモ用ログイン（開発モードでのみ有効）:")
    for login in logins:
        click.echo(f"  {login.label:<24} {login.email:<32} {login.password}")

"""Synthetic data for the prefecture dashboard: a whole prefecture, or the whole country.

    flask --app wsgi synth --scale prefecture [--seed N]   # the 63 municipalities of 埼玉県
    flask --app wsgi synth --scale national [--seed N]     # all 1,741 municipalities

Per municipality (``SCALES``):

=================  ==========  ========
                   prefecture  national
=================  ==========  ========
organisations             300        30
contacts                  600        60
handovers               5,000       300
=================  ==========  ========

plus, per municipality: most have a network record and a desk; status
declarations with history (about 65 % 設置済, 20 % 準備中, 15 % 未着手 or never
declared); a 地域子育て応援タウン checklist row; 0–12 network activities; the
handovers' consultations (1–3 handovers each: earlier ones declined, the
last one resolved, withdrawn or — in the last fortnight — still open),
spread over the last two years with a per-municipality punctuality.

Everything is fictional: organisation and contact names carry 見本, e-mail
addresses are at ``example.jp``, free text is marked （架空）.

Where it may run: the command refuses in production mode (KOSODATE_ENV unset
or ``production``) and whenever any tenant data already exists (member
organisations, networks, declarations, consultations, handovers …), so
synthetic rows never mix with real or demo data. Use a scratch database
(``DATABASE_URL=... KOSODATE_ENV=development``) whose schema is migrated
(``flask --app wsgi db upgrade``). The municipalities are loaded from the
bundled list if they are not there yet.

Fast: rows are built as dicts and written with one COPY per table on
PostgreSQL, ``INSERT … VALUES`` batches (``session.execute(insert(Model), rows)``)
elsewhere. Ids of organisations, contacts, consultations and handovers are
assigned here (so children can point at parents without a round trip); the
PostgreSQL sequences are moved past them afterwards.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import Table, func, insert, select, text

from dashboard import summary
from portal.extensions import db
from portal.japanese import fold
from portal.timeutil import today_jst, utcnow
from tenants import municipalities, row_security
from tenants.activities.models import NetworkActivity
from tenants.handovers import daily, deadlines
from tenants.handovers.models import AGE_BAND_LABELS, CATEGORY_LABELS, Consultation, Handover
from tenants.members.categories import CATEGORIES, CORE, RELATED
from tenants.members.models import Contact, MemberOrganization
from tenants.models import Municipality
from tenants.network.models import Desk, Network
from tenants.rollout.models import NetworkStatusDeclaration, TownCertification
from tenants.scoping import EVERYTHING, scoped

DEFAULT_SEED = 20261124


@dataclass(frozen=True)
class Scale:
    """How much to make. ``prefecture_code`` None = every municipality of the country."""

    name: str
    prefecture_code: str | None
    organizations: int  # per municipality
    contacts: int  # per municipality
    handovers: int  # per municipality
    max_activities: int = 12  # per municipality, over two years
    municipalities: int | None = None  # only the first N (by code); for tests


SCALES = {
    "prefecture": Scale("prefecture", "11", organizations=300, contacts=600, handovers=5000),
    "national": Scale("national", None, organizations=30, contacts=60, handovers=300),
}


@dataclass
class Counts:
    municipalities: int = 0
    networks: int = 0
    desks: int = 0
    declarations: int = 0
    town_certifications: int = 0
    activities: int = 0
    organizations: int = 0
    contacts: int = 0
    consultations: int = 0
    handovers: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        return (f"{self.municipalities:,} 市町村: ネットワーク {self.networks:,}, 窓口 {self.desks:,}, "
                f"設置状況の申告 {self.declarations:,}, 応援タウン {self.town_certifications:,}, 活動 {self.activities:,}, "
                f"構成員 {self.organizations:,}, 担当者 {self.contacts:,}, 相談 {self.consultations:,}, "
                f"引継ぎ {self.handovers:,}（{self.seconds:.1f} 秒）")


class RefusedError(RuntimeError):
    """The database is not a place for synthetic data."""


# Every table this module writes (and that must be empty before it does).
TENANT_MODELS = (Network, Desk, NetworkStatusDeclaration, TownCertification, NetworkActivity,
                 MemberOrganization, Contact, Consultation, Handover)


def check_allowed(mode: str) -> None:
    """Refuse production mode and any database that already holds tenant data."""
    if mode not in ("development", "test"):
        raise RefusedError("合成データは開発・テストモード（KOSODATE_ENV=development または test）でのみ作成できます。")
    with scoped(db.session, EVERYTHING):
        for model in TENANT_MODELS:
            if db.session.scalar(select(model.id).limit(1)) is not None:
                raise RefusedError(
                    f"データベースに既にデータがあります（{model.__tablename__}）。合成データは空のデータベースにだけ作成します。")


# ------------------------------------------------------------------ vocabulary

PLACES = ["中央", "本町", "栄", "旭", "緑町", "若葉", "青葉", "桜台", "東", "西", "南", "北", "駅前", "新田", "富士見",
          "大原", "清水", "宮前", "東原", "西原", "山手", "川端", "松原", "柳町", "平和台"]
PLACE_KANA = ["ちゅうおう", "ほんちょう", "さかえ", "あさひ", "みどりちょう", "わかば", "あおば", "さくらだい", "ひがし", "にし",
              "みなみ", "きた", "えきまえ", "しんでん", "ふじみ", "おおはら", "しみず", "みやまえ", "ひがしはら", "にしはら",
              "やまて", "かわばた", "まつばら", "やなぎまち", "へいわだい"]
# How often each category occurs in a network (weights), and what an organisation of it is called.
CATEGORY_WEIGHTS = {
    "hoikusho": 16, "shien_center": 6, "hoken_center": 3, "kyoiku_iinkai": 2, "yochien": 8, "shogakko": 9,
    "keisatsu": 2, "npo": 6, "circle": 14, "kominkan": 4, "kodomoen": 4, "hokenjo": 1, "jidosodanjo": 1,
    "shakyo": 2, "jido_iin": 4, "jido_center": 3, "katei_jido": 1, "gakushiki": 1, "danjo": 1, "supporter": 3,
    "kigyo": 3, "other": 4,
}
TAGS = ["育児不安", "発達相談", "保育所入所", "一時預かり", "仲間づくり", "遊び場・イベント", "健康・医療", "ひとり親", "経済的困難"]
SURNAMES = [("見本", "みほん"), ("試験", "しけん"), ("仮野", "かりの"), ("例田", "れいだ"), ("模擬", "もぎ"), ("架空", "かくう"),
            ("標本", "ひょうほん"), ("雛形", "ひながた")]
GIVEN = [("花子", "はなこ"), ("太郎", "たろう"), ("陽子", "ようこ"), ("一郎", "いちろう"), ("恵", "めぐみ"), ("誠", "まこと"),
         ("さくら", "さくら"), ("翔", "しょう"), ("綾", "あや"), ("亮", "りょう")]
TITLES = ["係長", "主任", "保健師", "園長", "主任保育士", "教頭", "代表", "相談員", ""]
ACTIVITY_TITLES = {
    "exchange": "情報交換会（見本）", "study": "学習会（見本）", "guidebook": "子育てガイドブック編集会議（見本）",
    "other": "子育てフェスタ打合せ（見本）",
}
SUMMARIES = ["（架空）夜泣きが続き、保護者が眠れていない。", "（架空）言葉の発達が気になる。", "（架空）保育所入所について知りたい。",
             "（架空）転入したばかりで知り合いがいない。", "（架空）支援制度を知りたい。"]
COVERAGE = [c.code for c in CATEGORIES if c.group in (CORE, RELATED)]


# ------------------------------------------------------------------ writing


def _defaults(table: Table) -> dict[str, Any]:
    """Python-side column defaults (COPY does not apply them)."""
    out: dict[str, Any] = {}
    for column in table.columns:
        d = column.default
        if d is None or column.primary_key:
            continue
        if d.is_scalar:
            out[column.name] = d.arg
        elif d.is_callable:
            out[column.name] = d.arg(None)
    return out


def bulk(model: type, rows: list[dict[str, Any]], chunk: int = 5000) -> None:
    """Write rows (dicts with the same keys) fast: COPY on PostgreSQL, batched INSERTs elsewhere."""
    if not rows:
        return
    table: Table = model.__table__
    defaults = _defaults(table)
    keys = list(dict.fromkeys([*rows[0], *(k for k in defaults if k not in rows[0])]))
    missing = [k for k in keys if k not in rows[0]]
    if missing:
        rows = [{**r, **{k: defaults[k] for k in missing}} for r in rows]
    connection = db.session.connection()
    # PostgreSQL refuses COPY FROM into a table under row-level security for a role the policies bind.
    if connection.dialect.name == "postgresql" and not row_security.bound_by_row_security(connection):
        import json

        json_columns = {c.name for c in table.columns if c.type.__class__.__name__ == "JSON"}
        columns = ", ".join(f'"{k}"' for k in keys)
        cursor = connection.connection.driver_connection.cursor()
        with cursor.copy(f'COPY "{table.name}" ({columns}) FROM STDIN') as copy:
            for r in rows:
                copy.write_row([json.dumps(r[k], ensure_ascii=False) if k in json_columns else r[k] for k in keys])
        return
    for start in range(0, len(rows), chunk):
        db.session.execute(insert(model), rows[start:start + chunk])


def _next_id(model: type) -> int:
    return (db.session.scalar(select(func.max(model.id))) or 0) + 1


def _move_sequences() -> None:
    if db.session.connection().dialect.name != "postgresql":
        return
    for model in TENANT_MODELS:
        name = model.__tablename__
        db.session.execute(text(
            f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), COALESCE((SELECT max(id) FROM \"{name}\"), 0) + 1, false)"))


# ------------------------------------------------------------------ the generator


def generate(scale: Scale | str, seed: int = DEFAULT_SEED, today: date | None = None, now: datetime | None = None,
             echo=None) -> Counts:
    """Fill the database with synthetic data at ``scale``. Flushes, never commits.

    Runs under an everything-scope (restored afterwards). The caller checks
    that it may (``check_allowed``) and commits.
    """
    if isinstance(scale, str):
        scale = SCALES[scale]
    rng = random.Random(seed)
    today = today or today_jst()
    now = now or utcnow()
    started = time.perf_counter()
    say = echo or (lambda _msg: None)
    with scoped(db.session, EVERYTHING):
        municipalities.load(scale.prefecture_code)
        stmt = select(Municipality.id, Municipality.code, Municipality.kind).order_by(Municipality.code)
        if scale.prefecture_code is not None:
            stmt = stmt.where(Municipality.prefecture_code == scale.prefecture_code)
        if scale.municipalities is not None:
            stmt = stmt.limit(scale.municipalities)
        places = db.session.execute(stmt).all()
        counts = Counts(municipalities=len(places))

        networks, desks, declarations, towns, activities = [], [], [], [], []
        for mid, code, kind in places:
            _rollout(rng, mid, code, kind, today, networks, desks, declarations, towns, activities, scale)
        for model, rows in ((Network, networks), (Desk, desks), (NetworkStatusDeclaration, declarations),
                            (TownCertification, towns), (NetworkActivity, activities)):
            bulk(model, rows)
        counts.networks, counts.desks, counts.declarations = len(networks), len(desks), len(declarations)
        counts.town_certifications, counts.activities = len(towns), len(activities)
        say(f"ネットワーク・申告・応援タウン・活動: {time.perf_counter() - started:.1f} 秒")

        ids = {m: _next_id(m) for m in (MemberOrganization, Contact, Consultation, Handover)}
        # Per batch of municipalities, so memory stays flat at national scale.
        batch = max(1, 60_000 // max(scale.handovers, 1))
        for start in range(0, len(places), batch):
            orgs, contacts, consultations, handovers = [], [], [], []
            for mid, code, _kind in places[start:start + batch]:
                active = _members(rng, mid, code, scale, today, now, ids, orgs, contacts)
                _handovers(rng, mid, active, scale.handovers, now, ids, consultations, handovers)
            bulk(MemberOrganization, orgs)
            bulk(Contact, contacts)
            bulk(Consultation, consultations)
            bulk(Handover, handovers)
            counts.organizations += len(orgs)
            counts.contacts += len(contacts)
            counts.consultations += len(consultations)
            counts.handovers += len(handovers)
            say(f"{min(start + batch, len(places)):,}/{len(places):,} 市町村: {time.perf_counter() - started:.1f} 秒")
        _move_sequences()
        daily.rebuild()  # the dashboard's per-day counts, as the services keep them
        summary.rebuild(db.session)  # and its per-municipality figures, as the dashboard keeps them
        db.session.flush()
    counts.seconds = time.perf_counter() - started
    return counts


def _rollout(rng: random.Random, mid: int, code: str, kind: str, today: date, networks: list, desks: list,
             declarations: list, towns: list, activities: list, scale: Scale) -> None:
    status = rng.choices(["established", "preparing", "not_started", None], [65, 20, 10, 5])[0]
    start = today - timedelta(days=rng.randrange(365 * 2, 365 * 16))
    # History: a municipality got to its current status through the earlier ones.
    steps = {"established": ["not_started", "preparing", "established"], "preparing": ["not_started", "preparing"],
             "not_started": ["not_started"], None: []}[status]
    if steps and rng.random() < 0.5:
        steps = steps[1:] or steps  # many declared for the first time when they started preparing
    day = start
    for i, step in enumerate(steps):
        declarations.append(dict(municipality_id=mid, status=step, declared_on=day, declared_by_id=None,
                                 note="（架空）合成データ" if i == 0 else ""))
        day = min(today, day + timedelta(days=rng.randrange(90, 900)))
    established_on = declarations[-1]["declared_on"] if status == "established" else None
    has_network = {"established": 0.96, "preparing": 0.5, "not_started": 0.05, None: 0.05}[status] > rng.random()
    if has_network:
        networks.append(dict(municipality_id=mid, name=f"見本市町村{code} 子育て支援ネットワーク", established_on=established_on,
                             formation=rng.choice(["new", "existing_council", "registration"]),
                             activity_summary="（架空）合成データ"))
    if rng.random() < 0.85:
        desks.append(dict(municipality_id=mid, name=f"子育て総合支援窓口（見本{code}）", phone="",
                          staff="（架空）子育てマネジャー 2名"))
    town_network = status == "established"
    town_desk = rng.random() < 0.8
    town_hubs = rng.random() < 0.5
    certified = town_network and town_desk and town_hubs and rng.random() < 0.6
    towns.append(dict(municipality_id=mid, one_stop_desk=town_desk, support_hubs=town_hubs, network=town_network,
                      certified_on=today - timedelta(days=rng.randrange(30, 700)) if certified else None,
                      note="", updated_by_id=None))
    n = rng.randrange(0, scale.max_activities + 1) if status == "established" else rng.randrange(0, 3)
    for _ in range(n):
        kind_ = rng.choices(["exchange", "study", "guidebook", "other"], [6, 3, 1, 1])[0]
        activities.append(dict(municipality_id=mid, kind=kind_, held_on=today - timedelta(days=rng.randrange(0, 730)),
                               title=ACTIVITY_TITLES[kind_], participants=rng.randrange(5, 60), note=""))


def _members(rng: random.Random, mid: int, code: str, scale: Scale, today: date, now: datetime, ids: dict,
             orgs: list, contacts: list) -> list[int]:
    codes = list(CATEGORY_WEIGHTS)
    weights = list(CATEGORY_WEIGHTS.values())
    labels = {c.code: c for c in CATEGORIES}
    # Every coverage category at least once in most municipalities, then by weight.
    chosen = (COVERAGE if rng.random() < 0.7 else []) + rng.choices(codes, weights, k=scale.organizations)
    chosen = chosen[:scale.organizations]
    active: list[int] = []
    first = ids[MemberOrganization]
    people: dict[int, list[tuple[str, str]]] = {}
    for i, category in enumerate(chosen):
        oid = ids[MemberOrganization]
        ids[MemberOrganization] += 1
        c = labels[category]
        p = rng.randrange(len(PLACES))
        name = f"見本{PLACES[p]}{c.name} {i + 1}"
        kana = f"みほん{PLACE_KANA[p]}{c.kana} {i + 1}"
        status = rng.choices(["active", "suspended", "applying", "left"], [90, 4, 3, 3])[0]
        if status == "active":
            active.append(oid)
        tags = sorted(rng.sample(TAGS, rng.randrange(0, 3)), key=TAGS.index)
        orgs.append(dict(
            id=oid, municipality_id=mid, name=name, name_kana=kana, name_key=fold(name), category=category,
            postal_code="", address="", phone="", email=f"org{oid}@{code}.example.jp", website="",
            status=status, joined_on=today - timedelta(days=rng.randrange(30, 365 * 15)), consultation_tags=tags,
            public_consent=rng.random() < 0.7, search_text="", created_at=now, updated_at=now,
        ))
    # Contacts: about two per organisation, some organisations none.
    for _ in range(scale.contacts):
        oid = first + rng.randrange(len(chosen))
        taken = people.setdefault(oid, [])
        (s, sk), (g, gk) = rng.choice(SURNAMES), rng.choice(GIVEN)
        name, kana = f"{s} {g}", f"{sk} {gk}"
        if any(n == name for n, _ in taken):
            name, kana = f"{name}{len(taken) + 1}", f"{kana}{len(taken) + 1}"
        taken.append((name, kana))
        cid = ids[Contact]
        ids[Contact] += 1
        contacts.append(dict(
            id=cid, municipality_id=mid, organization_id=oid, name=name, name_kana=kana, name_key=fold(name),
            title=rng.choice(TITLES), phone="", email=f"contact{cid}@{code}.example.jp", reachable_hours="",
            is_primary=len(taken) == 1,
            last_confirmed_on=today - timedelta(days=rng.randrange(0, 800)) if rng.random() < 0.97 else None,
            created_at=now, updated_at=now,
        ))
    # What 誰に連絡？ searches: folded names, category, tags and contact names (as the member services store it).
    for org in orgs[len(orgs) - len(chosen):]:
        c = labels[org["category"]]
        parts = [org["name"], org["name_kana"], *org["consultation_tags"], c.name, c.kana, *c.aliases]
        for n, k in people.get(org["id"], []):
            parts += [n, k]
        org["search_text"] = "|".join(fold(x) for x in parts if x)
    return active


def _handovers(rng: random.Random, mid: int, org_ids: list[int], n: int, now: datetime, ids: dict,
               consultations: list, handovers: list) -> None:
    """Consultations with 1–3 handovers each until ``n`` handovers, over the last two years."""
    if not org_ids:
        return
    categories, bands = list(CATEGORY_LABELS), list(AGE_BAND_LABELS)
    punctual = rng.uniform(0.6, 0.98)  # this municipality's share of first responses on time
    made = 0
    two_years = 2 * 365 * 24 * 60
    while made < n:
        hops = min(rng.choices([1, 2, 3], [82, 14, 4])[0], n - made)
        created = now - timedelta(minutes=rng.randrange(180, two_years))
        urgency = "urgent" if rng.random() < 0.1 else "normal"
        coordinator = None if rng.random() < 0.6 else rng.choice(org_ids)
        recent = created > now - timedelta(days=14)
        cid = ids[Consultation]
        ids[Consultation] += 1
        sent = created + timedelta(minutes=rng.randrange(5, 120))
        last = "sent"
        for k in range(hops):
            recipient = rng.choice(org_ids)
            if recipient == coordinator:
                recipient = None  # to the desk
            due = deadlines.response_due(sent, urgency)
            if k < hops - 1:
                status = "declined"
            elif recent:
                status = rng.choices(["sent", "accepted", "in_progress", "resolved"], [3, 2, 2, 3])[0]
            else:
                status = rng.choices(["resolved", "withdrawn", "in_progress"], [94, 3, 3])[0]
            if status in ("sent", "withdrawn"):
                answered = None
            elif rng.random() < punctual:
                answered = sent + (due - sent) * rng.uniform(0.02, 0.95)
            else:
                answered = due + timedelta(minutes=rng.expovariate(1 / (60 * 20)) + 1)
            if answered is not None and answered > now:
                answered = None
                status = "sent"
            handovers.append(dict(
                id=ids[Handover], municipality_id=mid, consultation_id=cid, sender_organization_id=coordinator,
                recipient_organization_id=recipient, recipient_contact_id=None, status=status,
                message="（架空）よろしくお願いします。", sent_at=sent, sent_by_id=None, response_due_at=due,
                first_response_at=answered,
                response_seconds=int((answered - sent).total_seconds()) if answered else None,
                accepted_at=answered if status in ("accepted", "in_progress", "resolved") else None, accepted_by_id=None,
                started_at=answered if status in ("in_progress",) else None, started_by_id=None,
                resolved_at=min(now, answered + timedelta(days=rng.randrange(1, 30))) if status == "resolved" else None,
                resolved_by_id=None, outcome="（架空）対応した" if status == "resolved" else None,
                declined_at=answered if status == "declined" else None, declined_by_id=None,
                decline_reason="（架空）対象外のため" if status == "declined" else None,
                withdrawn_at=sent + timedelta(days=1) if status == "withdrawn" else None, withdrawn_by_id=None,
                escalated_at=None,
            ))
            ids[Handover] += 1
            last = status
            if status == "sent":  # still waiting (the chain ends here, at most one active handover)
                hops = k + 1
                break
            sent = (answered or sent) + timedelta(minutes=rng.randrange(10, 600))
            if sent >= now:
                hops = k + 1
                break
        made += hops
        closed = last in ("resolved", "withdrawn")
        consultations.append(dict(
            id=cid, municipality_id=mid, case_reference=f"見本-{cid:07d}", received_by_organization_id=coordinator,
            category=rng.choice(categories), urgency=urgency, age_band=rng.choice(bands), summary=rng.choice(SUMMARIES),
            contact_preference="（架空）平日午後", consent="given", consent_reason="",
            status="resolved" if last == "resolved" else ("closed" if closed else "open"),
            hop_count=hops, outcome="", created_at=created, created_by_id=None,
            closed_at=sent if closed else None, closed_by_id=None, purged_at=None,
        ))


# ------------------------------------------------------------------ the command


@click.command("synth")
@click.option("--scale", "scale_name", type=click.Choice(list(SCALES)), required=True,
              help="prefecture = 埼玉県 63 市町村（各 300 構成員・5,000 引継ぎ）, national = 全国 1,741 市区町村（各 30 構成員・300 引継ぎ）")
@click.option("--seed", type=int, default=DEFAULT_SEED, show_default=True, help="乱数の種（同じ種なら同じデータ）")
@with_appcontext
def synth_command(scale_name: str, seed: int) -> None:
    """Fill an EMPTY development/test database with fictional data (dashboard benchmarks)."""
    try:
        check_allowed(current_app.config["KOSODATE_ENV"])
    except RefusedError as e:
        raise click.ClickException(str(e)) from e
    counts = generate(SCALES[scale_name], seed=seed, echo=click.echo)
    db.session.commit()
    click.echo("合成データ（架空）を作成しました: " + counts.summary())


def scaled(name: str, **changes: Any) -> Scale:
    """A named scale with some numbers changed (e.g. a tiny one for tests)."""
    return replace(SCALES[name], **changes)


__all__ = ["SCALES", "Counts", "RefusedError", "Scale", "bulk", "check_allowed", "generate", "scaled", "synth_command"]

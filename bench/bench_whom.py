#!/usr/bin/env python
"""Benchmark 誰に連絡？: 2,000 organisations and 6,000 contacts in one municipality.

    .venv/bin/python bench/bench_whom.py                       # a temporary SQLite file
    .venv/bin/python bench/bench_whom.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/kosodate_bench

The target (from the issue): the answer to "whom do I call?" takes under 20 ms
median server time. Each request runs in-process through Flask's test client
(access policy, tenant scope, both SQL statements, template, transaction
boundary), timed around ``client.get``. Exit status 0 on PASS, 1 on FAIL.

A PostgreSQL database that does not exist is created and dropped afterwards;
one that exists must be empty (no tables) and is emptied again afterwards.
--keep leaves the data in place for a look.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from flask import Flask  # noqa: E402
from sqlalchemy import event, func, inspect, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from portal import create_app  # noqa: E402
from portal.accounts import services as accounts  # noqa: E402
from portal.accounts.models import Role  # noqa: E402
from portal.extensions import db  # noqa: E402
from tenants import municipalities  # noqa: E402
from tenants.members.categories import CATEGORIES  # noqa: E402
from tenants.members.models import Contact, MemberOrganization  # noqa: E402
from tenants.members.services import refresh_search_text  # noqa: E402
from tenants.models import Municipality  # noqa: E402
from tenants.scoping import EVERYTHING, Scope, set_scope  # noqa: E402
from tenants.whom import services as whom  # noqa: E402

TARGET_MS = 20.0
CODE = "112305"  # 新座市
OTHER_CODE = "111007"  # さいたま市: a neighbour's data in the same tables
PASSWORD = "bench-password-not-secret"

QUERIES = (
    ("ほけん", "hiragana"),
    ("ﾎｹﾝ", "half-width katakana"),
    ("発達", "a consultation tag"),
    ("わたなべ", "a contact's surname"),
    ("ほいく さくら", "two terms"),
    ("該当しないことば", "no hit"),
)

# ------------------------------------------------------------------ fake data
# Fictional but realistic: place names of the area, common surnames, the kind
# of names organisations in a child-rearing network have.

PLACES = [
    ("野火止", "のびどめ"), ("栗原", "くりはら"), ("片山", "かたやま"), ("道場", "どうじょう"), ("大和田", "おおわだ"),
    ("石神", "しゃくじい"), ("畑中", "はたなか"), ("東北", "とうほく"), ("馬場", "ばば"), ("西堀", "にしぼり"),
    ("北野", "きたの"), ("池田", "いけだ"), ("堀ノ内", "ほりのうち"), ("本多", "ほんだ"), ("菅沢", "すがさわ"),
    ("新堀", "しんぼり"), ("中野", "なかの"), ("東", "ひがし"), ("栄", "さかえ"), ("新塚", "しんづか"),
    ("陣屋", "じんや"), ("西原", "にしはら"), ("南町", "みなみちょう"), ("北町", "きたまち"), ("緑ヶ丘", "みどりがおか"),
    ("若葉台", "わかばだい"), ("中央", "ちゅうおう"), ("本町", "ほんちょう"), ("旭", "あさひ"), ("富士見", "ふじみ"),
    ("大原", "おおはら"), ("清水", "しみず"), ("宮前", "みやまえ"), ("新田", "しんでん"), ("青葉", "あおば"),
    ("桜台", "さくらだい"), ("東原", "ひがしはら"), ("西口", "にしぐち"), ("駅前", "えきまえ"), ("平林寺", "へいりんじ"),
]
NICKNAMES = [
    "ひまわり", "さくら", "たんぽぽ", "すみれ", "わかば", "なかよし", "にこにこ", "すくすく", "のびのび", "あおぞら",
    "こすもす", "どんぐり", "つくし", "ひかり", "みらい", "こばと", "ぽかぽか", "きらきら", "ゆりかご", "おひさま",
    "つばさ", "ふたば", "めばえ", "どれみ", "ぴよぴよ",
]
NUMERALS = ["第一", "第二", "第三", "第四", "第五"]
NUMERAL_KANA = ["だいいち", "だいに", "だいさん", "だいよん", "だいご"]

# category code -> (weight, [(name pattern, reading pattern)], typical consultation tags)
ORG_KINDS = {
    "hoikusho": (16, [("{n}保育園", "{nk}ほいくえん"), ("市立{p}保育園", "しりつ{pk}ほいくえん"), ("{p}{num}保育所", "{pk}{numk}ほいくしょ")],
                 ["保育所入所", "一時預かり", "育児不安"]),
    "shien_center": (6, [("{p}地域子育て支援センター", "{pk}ちいきこそだてしえんせんたー"), ("子育てひろば{n}", "こそだてひろば{nk}")],
                     ["育児不安", "仲間づくり", "一時預かり", "遊び場・イベント"]),
    "hoken_center": (3, [("{p}保健センター", "{pk}ほけんせんたー"), ("{p}母子保健相談室", "{pk}ぼしほけんそうだんしつ")],
                     ["発達相談", "健康・医療", "育児不安"]),
    "kyoiku_iinkai": (3, [("教育委員会 {p}教育相談室", "きょういくいいんかい {pk}きょういくそうだんしつ")], ["学校・不登校", "発達相談"]),
    "yochien": (9, [("{n}幼稚園", "{nk}ようちえん"), ("{p}幼稚園", "{pk}ようちえん"), ("{p}{n}幼稚園", "{pk}{nk}ようちえん")],
                ["育児不安", "一時預かり"]),
    "shogakko": (9, [("市立{p}小学校", "しりつ{pk}しょうがっこう"), ("市立{p}{num}小学校", "しりつ{pk}{numk}しょうがっこう")],
                 ["学校・不登校", "発達相談"]),
    "keisatsu": (2, [("{p}交番", "{pk}こうばん"), ("{p}警察署 生活安全課", "{pk}けいさつしょ せいかつあんぜんか")], ["虐待の疑い"]),
    "npo": (6, [("NPO法人 {n}の会", "えぬぴーおーほうじん {nk}のかい"), ("NPO法人 子育て{n}{p}", "えぬぴーおーほうじん こそだて{nk}{pk}")],
            ["育児不安", "仲間づくり", "ひとり親", "経済的困難"]),
    "circle": (14, [("子育てサークル {n}", "こそだてさーくる {nk}"), ("{p}ママの会", "{pk}ままのかい"), ("{p}{n}クラブ", "{pk}{nk}くらぶ")],
               ["仲間づくり", "遊び場・イベント"]),
    "kominkan": (4, [("{p}公民館", "{pk}こうみんかん"), ("{p}{num}公民館", "{pk}{numk}こうみんかん")], ["仲間づくり", "遊び場・イベント"]),
    "kodomoen": (4, [("認定こども園 {n}", "にんていこどもえん {nk}"), ("{p}こども園", "{pk}こどもえん")], ["保育所入所", "一時預かり"]),
    "hokenjo": (1, [("{p}保健所", "{pk}ほけんじょ")], ["健康・医療", "障害"]),
    "jidosodanjo": (1, [("{p}児童相談所", "{pk}じどうそうだんじょ")], ["虐待の疑い", "障害", "発達相談"]),
    "shakyo": (2, [("{p}地区社会福祉協議会", "{pk}ちくしゃかいふくしきょうぎかい")], ["経済的困難", "ひとり親"]),
    "jido_iin": (4, [("{p}地区主任児童委員", "{pk}ちくしゅにんじどういいん"),
                     ("{p}地区民生委員・児童委員協議会", "{pk}ちくみんせいいいん じどういいんきょうぎかい")],
                 ["虐待の疑い", "育児不安", "ひとり親"]),
    "jido_center": (3, [("{p}児童センター", "{pk}じどうせんたー"), ("{p}児童館", "{pk}じどうかん")], ["遊び場・イベント", "仲間づくり"]),
    "katei_jido": (1, [("家庭児童相談室 {p}分室", "かていじどうそうだんしつ {pk}ぶんしつ")], ["虐待の疑い", "ひとり親", "育児不安"]),
    "gakushiki": (1, [("{p}大学 子ども学部", "{pk}だいがく こどもがくぶ")], ["発達相談"]),
    "danjo": (1, [("{p}男女共同参画の会", "{pk}だんじょきょうどうさんかくのかい")], ["ひとり親"]),
    "supporter": (3, [("{p}子育てサポーターの会", "{pk}こそだてさぽーたーのかい")], ["仲間づくり", "一時預かり"]),
    "kigyo": (3, [("株式会社{n}ベビー", "かぶしきがいしゃ{nk}べびー"), ("{p}ファミリー商店会", "{pk}ふぁみりーしょうてんかい")], ["遊び場・イベント"]),
    "other": (4, [("{p}子ども会育成会", "{pk}こどもかいいくせいかい"), ("{p}自治会 子育て部会", "{pk}じちかい こそだてぶかい")],
              ["遊び場・イベント", "仲間づくり"]),
}
assert set(ORG_KINDS) == {c.code for c in CATEGORIES}, "every category gets organisations"

SURNAMES = [
    ("佐藤", "さとう", "sato"), ("鈴木", "すずき", "suzuki"), ("高橋", "たかはし", "takahashi"), ("田中", "たなか", "tanaka"),
    ("伊藤", "いとう", "ito"), ("渡辺", "わたなべ", "watanabe"), ("山本", "やまもと", "yamamoto"), ("中村", "なかむら", "nakamura"),
    ("小林", "こばやし", "kobayashi"), ("加藤", "かとう", "kato"), ("吉田", "よしだ", "yoshida"), ("山田", "やまだ", "yamada"),
    ("佐々木", "ささき", "sasaki"), ("山口", "やまぐち", "yamaguchi"), ("松本", "まつもと", "matsumoto"), ("井上", "いのうえ", "inoue"),
    ("木村", "きむら", "kimura"), ("林", "はやし", "hayashi"), ("斎藤", "さいとう", "saito"), ("清水", "しみず", "shimizu"),
    ("山崎", "やまざき", "yamazaki"), ("森", "もり", "mori"), ("池田", "いけだ", "ikeda"), ("橋本", "はしもと", "hashimoto"),
    ("阿部", "あべ", "abe"), ("石川", "いしかわ", "ishikawa"), ("前田", "まえだ", "maeda"), ("小川", "おがわ", "ogawa"),
    ("岡田", "おかだ", "okada"), ("長谷川", "はせがわ", "hasegawa"), ("村上", "むらかみ", "murakami"), ("近藤", "こんどう", "kondo"),
]
GIVEN_NAMES = [
    ("花子", "はなこ"), ("陽子", "ようこ"), ("美香", "みか"), ("健一", "けんいち"), ("大輔", "だいすけ"), ("直美", "なおみ"),
    ("恵", "めぐみ"), ("誠", "まこと"), ("裕子", "ゆうこ"), ("拓也", "たくや"), ("真由美", "まゆみ"), ("浩二", "こうじ"),
    ("由紀", "ゆき"), ("翔太", "しょうた"), ("さくら", "さくら"), ("明美", "あけみ"), ("隆", "たかし"), ("綾", "あや"),
    ("智子", "ともこ"), ("亮", "りょう"),
]
TITLES = ["係長", "主任", "保健師", "園長", "副園長", "主任保育士", "教頭", "生活安全課 係員", "事務局長", "代表", "相談員", "指導主事", ""]
HOURS = ["平日 9:00〜17:00", "平日 8:30〜17:15", "月〜金 10:00〜16:00", "火・木 13:00〜17:00", "平日 9:00〜12:00（午後は会議が多い）", ""]


def make_organizations(rng: random.Random, municipality_id: int, n_orgs: int, n_contacts: int,
                       today: date, domain: str) -> list[MemberOrganization]:
    codes = list(ORG_KINDS)
    weights = [ORG_KINDS[c][0] for c in codes]
    names: set[str] = set()
    orgs: list[MemberOrganization] = []
    for i in range(n_orgs):
        # A category, then a name not taken yet (small categories run out of
        # names sooner: then another category is drawn).
        for _ in range(1000):
            category = rng.choices(codes, weights)[0]
            _, patterns, tags = ORG_KINDS[category]
            pattern, kana_pattern = rng.choice(patterns)
            (p, pk), n, k = rng.choice(PLACES), rng.choice(NICKNAMES), rng.randrange(len(NUMERALS))
            values = dict(p=p, pk=pk, n=n, nk=n, num=NUMERALS[k], numk=NUMERAL_KANA[k])
            name, kana = pattern.format(**values), kana_pattern.format(**values)
            if name not in names:
                names.add(name)
                break
        else:
            raise RuntimeError("could not invent a new organisation name; lower --orgs")
        status = rng.choices(["active", "suspended", "applying", "left"], [90, 4, 3, 3])[0]
        orgs.append(MemberOrganization(
            municipality_id=municipality_id,
            name=name,
            name_kana=kana,
            name_key=None,  # filled below with the real fold()
            category=category,
            phone=f"048-4{rng.randrange(60, 99)}-{rng.randrange(10000):04d}",
            email=f"info{i + 1}@{domain}",
            address=f"{rng.choice(PLACES)[0]}{rng.randrange(1, 9)}-{rng.randrange(1, 30)}-{rng.randrange(1, 20)}",
            status=status,
            joined_on=date(rng.randrange(2009, 2026), rng.randrange(1, 13), 1),
            consultation_tags=sorted(rng.sample(tags, rng.randrange(0, len(tags) + 1)), key=tags.index),
            public_consent=rng.random() < 0.7,
        ))
    # Contacts land on random organisations: about three each, some none.
    people: dict[int, set[str]] = {}
    for _ in range(n_contacts):
        at = rng.randrange(n_orgs)
        org = orgs[at]
        taken = people.setdefault(at, set())
        for _ in range(50):
            (s, sk, sr), (g, gk) = rng.choice(SURNAMES), rng.choice(GIVEN_NAMES)
            if f"{s} {g}" not in taken:
                break
        taken.add(f"{s} {g}")
        org.contacts.append(Contact(
            municipality_id=municipality_id,
            name=f"{s} {g}",
            name_kana=f"{sk} {gk}",
            title=rng.choice(TITLES),
            phone=f"048-47{rng.randrange(10)}-{rng.randrange(10000):04d}" if rng.random() < 0.9 else "",
            email=f"{sr}.{len(taken)}{at}@{domain}" if rng.random() < 0.8 else "",
            reachable_hours=rng.choice(HOURS),
            # The first contact is the primary one, except where the flag got lost.
            is_primary=len(org.contacts) == 0 and rng.random() < 0.95,
            last_confirmed_on=today - timedelta(days=rng.randrange(0, 800)) if rng.random() < 0.97 else None,
        ))
    from portal.japanese import fold

    for org in orgs:
        org.name_key = fold(org.name)
        for c in org.contacts:
            c.name_key = fold(c.name)
        refresh_search_text(org)  # exactly what the member services store
    return orgs


# ------------------------------------------------------------------ databases

T = TypeVar("T")


class Database:
    """Where the benchmark runs, and how to leave the place as it was."""

    def __init__(self, url: str | None, keep: bool) -> None:
        self.keep = keep
        self.created = False
        self.tmpdir = None
        if url is None:
            self.tmpdir = tempfile.TemporaryDirectory(prefix="bench_whom_")
            self.url = f"sqlite:///{self.tmpdir.name}/bench.sqlite3"
            self.label = "SQLite (temporary file)"
            return
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url[len("postgresql://"):]
        self.url = url
        parsed = make_url(url)
        if parsed.get_backend_name() != "postgresql":
            raise SystemExit("--database-url: only PostgreSQL URLs (postgresql+psycopg://...) are supported")
        self.dbname = parsed.database
        self.admin = parsed.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
        with psycopg.connect(self.admin, autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (self.dbname,)).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{self.dbname}" ENCODING \'UTF8\' TEMPLATE template0')
                self.created = True
            version = conn.execute("SHOW server_version").fetchone()[0]
        self.label = f"PostgreSQL {version} (database {self.dbname}{', created for this run' if self.created else ''})"

    def run(self, measure: Callable[[Flask], T], **config: Any) -> T:
        """Build the app on this database, run ``measure(app)``, and leave the place as it was.

        Password hashing is made cheap: logins are set-up here, not what is measured.
        """
        app = create_app({
            "KOSODATE_ENV": "test",
            "SECRET_KEY": "bench-secret",
            "SQLALCHEMY_DATABASE_URI": self.url,
            "ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 1024, "ARGON2_PARALLELISM": 1,
            **config,
        })
        try:
            if self.tmpdir is None:
                self.check_empty(app)
            return measure(app)
        finally:
            self.cleanup(app)

    def check_empty(self, app) -> None:
        with app.app_context():
            tables = inspect(db.engine).get_table_names()
        if tables:
            raise SystemExit(f"database {self.dbname} already has tables ({', '.join(tables[:5])}…); "
                             "give an empty scratch database")

    def cleanup(self, app) -> None:
        with app.app_context():
            if not self.keep and self.tmpdir is None and not self.created:
                db.drop_all()
            db.session.remove()
            db.engine.dispose()
        if self.keep:
            print(f"kept: {self.url}")
            return
        if self.tmpdir is not None:
            self.tmpdir.cleanup()
        elif self.created:
            with psycopg.connect(self.admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.dbname}" WITH (FORCE)')


# ------------------------------------------------------------------ the run


def login(client, email: str) -> None:
    html = client.get("/login").get_data(as_text=True)
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', html).group(1)
    response = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    if response.status_code != 302:
        raise SystemExit(f"login failed: {response.status_code}")


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[94] if len(values) > 1 else values[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="PostgreSQL URL (default: a temporary SQLite file)")
    parser.add_argument("--orgs", type=int, default=2000, help="organisations in the municipality (2000)")
    parser.add_argument("--contacts", type=int, default=6000, help="contacts in the municipality (6000)")
    parser.add_argument("--other-orgs", type=int, default=500, help="organisations in a neighbouring municipality (500)")
    parser.add_argument("--runs", type=int, default=200, help="timed requests per query (200)")
    parser.add_argument("--seed", type=int, default=20261124)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args(argv)

    database = Database(args.database_url, args.keep)
    return database.run(lambda app: run(app, database, args))


def run(app, database: Database, args) -> int:
    rng = random.Random(args.seed)
    today = date.today()
    t0 = time.perf_counter()
    with app.app_context():
        db.create_all()
        set_scope(db.session, EVERYTHING)
        municipalities.load("11")
        m = db.session.scalar(select(Municipality).where(Municipality.code == CODE))
        other = db.session.scalar(select(Municipality).where(Municipality.code == OTHER_CODE))
        db.session.add_all(make_organizations(rng, m.id, args.orgs, args.contacts, today, "niiza.example.jp"))
        db.session.flush()
        if args.other_orgs:
            db.session.add_all(make_organizations(rng, other.id, args.other_orgs, args.other_orgs * 3, today,
                                                  "saitama.example.jp"))
        accounts.create_user(email="desk@bench.example.jp", role=Role.DESK, password=PASSWORD,
                             municipality_id=m.id, display_name="ベンチ 窓口")
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            # What autovacuum does shortly after a bulk load; SQLite gets no statistics (worst case).
            db.session.execute(text("ANALYZE"))
            db.session.commit()
        set_scope(db.session, Scope(municipality_id=m.id))
        n_orgs = db.session.scalar(select(func.count(MemberOrganization.id)))
        n_contacts = db.session.scalar(select(func.count(Contact.id)))
        municipality_name = m.name
        db.session.remove()
    print(f"database: {database.label}")
    print(f"data:     {n_orgs:,} organisations and {n_contacts:,} contacts in {municipality_name} ({CODE}), "
          f"+{args.other_orgs:,} organisations elsewhere; loaded in {time.perf_counter() - t0:.1f} s")

    with app.app_context():
        engine = db.engine
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))

    client = app.test_client()
    login(client, "desk@bench.example.jp")
    url = f"/m/{CODE}/whom/results"

    # What each query finds, and a warm-up (templates compiled, connections pooled).
    found = {}
    with app.app_context():
        set_scope(db.session, Scope(municipality_id=m.id))
        for q, _ in QUERIES:
            r = whom.search(q, today)
            found[q] = (r.total, len(r))
        db.session.remove()
    for q, _ in QUERIES:
        for _ in range(20):
            response = client.get(url, query_string={"q": q})
            assert response.status_code == 200, response.status_code
        html = response.get_data(as_text=True)
        assert html.count('data-testid="whom-result"') == found[q][1], q
        assert "<html" not in html

    print(f"runs:     {args.runs} timed requests per query, GET {url}?q=… in-process (Flask test client)\n")
    print(f"{'query':<18} {'kind':<20} {'hits':>5} {'shown':>5} {'median ms':>10} {'p95 ms':>8} {'CPU ms':>7} {'SQL/req':>8}")
    every: list[float] = []
    every_cpu: list[float] = []
    for q, kind in QUERIES:
        times: list[float] = []
        cpu: list[float] = []
        sql_counts: set[int] = set()
        for _ in range(args.runs):
            statements.clear()
            start, start_cpu = time.perf_counter(), time.process_time()
            response = client.get(url, query_string={"q": q})
            times.append((time.perf_counter() - start) * 1000)
            cpu.append((time.process_time() - start_cpu) * 1000)
            assert response.status_code == 200
            sql_counts.add(len(statements))
        every += times
        every_cpu += cpu
        total, shown = found[q]
        sql = "/".join(str(n) for n in sorted(sql_counts))
        print(f"{q:<{18 - _wide(q)}} {kind:<20} {total:>5} {shown:>5} {statistics.median(times):>10.2f} "
              f"{p95(times):>8.2f} {statistics.median(cpu):>7.2f} {sql:>8}")

    median = statistics.median(every)
    print(f"{'overall':<18} {'':<20} {'':>5} {'':>5} {median:>10.2f} {p95(every):>8.2f} {statistics.median(every_cpu):>7.2f}")
    print("(median/p95: wall-clock time around client.get; CPU ms: this process's CPU time, median —\n"
          " the SQL server's own work is not in it. SQL/req: statements per request — the user,\n"
          " the municipality, then the search's one.)")
    print(f"load average while measuring: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    verdict = "PASS" if median < TARGET_MS else "FAIL"
    print(f"\n{verdict}: median {median:.2f} ms {'<' if median < TARGET_MS else '>='} {TARGET_MS:.0f} ms target")
    return 0 if verdict == "PASS" else 1


def _wide(text: str) -> int:
    """Extra columns taken by full-width characters, for aligned output."""
    import unicodedata

    return sum(1 for ch in text if unicodedata.east_asian_width(ch) in "WF")


if __name__ == "__main__":
    sys.exit(main())

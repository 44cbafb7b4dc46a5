#!/usr/bin/env python
"""Benchmark the municipal pages that read many rows, in-process, on the synthetic prefecture.

    .venv/bin/python bench/bench_staff_pages.py                  # a temporary SQLite file
    .venv/bin/python bench/bench_staff_pages.py \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/kosodate_bench_staff
    .venv/bin/python bench/bench_staff_pages.py --profile members   # + cProfile of one request

The desk home, the member list (page 1, page 2, a search, a category), 誰に連絡？
(the page and the as-you-type fragment), a member organisation's page (the one
with the most contacts) and, as its member user, 自分の団体 and the member's home,
each timed around ``client.get`` through Flask's test client (access policy,
tenant scope, SQL, template, transaction boundary). Prints median / p95 wall
clock, this process's CPU time and the SQL statements per request. Data: the
desk's municipality (the first synthetic one with a network) has 300
organisations and 600 contacts, as at ``flask synth --scale prefecture``;
``--scale small`` builds 8 municipalities with the same data each (the pages
read the same rows; loading takes seconds instead of a minute).

No verdict (issue 14's targets are over HTTP, bench/bench_http.py): this is the
in-process direction finder. ``--keep`` leaves the data; ``--reuse`` measures a
database kept that way (``--database-url sqlite:///path`` for SQLite).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_whom import PASSWORD, Database, login, p95  # noqa: E402
from sqlalchemy import event, func, select, text  # noqa: E402

from portal import create_app  # noqa: E402
from portal.accounts import services as accounts  # noqa: E402
from portal.accounts.models import Role, User  # noqa: E402
from portal.extensions import db  # noqa: E402
from tenants.members.models import Contact  # noqa: E402
from tenants.models import Municipality  # noqa: E402
from tenants.network.models import Network  # noqa: E402
from tenants.scoping import EVERYTHING, set_scope  # noqa: E402
from tools import synth  # noqa: E402

SCALES = {"prefecture": synth.SCALES["prefecture"], "small": synth.scaled("prefecture", municipalities=8)}
DESK = "desk@bench-staff.example.jp"
MEMBER = "member@bench-staff.example.jp"

# key, who, path ({code}, {org}), a string the body must contain
PAGES = (
    ("home", DESK, "/m/{code}/", "活動中の構成員"),
    ("members", DESK, "/m/{code}/members", 'data-testid="member-table"'),
    ("members_p2", DESK, "/m/{code}/members?page=2", 'data-testid="member-table"'),
    ("members_q", DESK, "/m/{code}/members?q=ほいく", 'data-testid="member-table"'),
    ("members_cat", DESK, "/m/{code}/members?category=hoikusho", 'data-testid="member-table"'),
    ("whom", DESK, "/m/{code}/whom?q=ほいく", 'data-testid="whom-result"'),
    ("whom_results", DESK, "/m/{code}/whom/results?q=ほいく", 'data-testid="whom-result"'),
    ("org", DESK, "/m/{code}/members/{org}", "担当者（"),
    ("myorg", MEMBER, "/m/{code}/my/organization", 'data-testid="open-tasks"'),
    ("member_home", MEMBER, "/m/{code}/", "所属する団体"),
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="PostgreSQL URL, or sqlite:///path with --reuse/--keep "
                                               "(default: a temporary SQLite file)")
    parser.add_argument("--scale", choices=list(SCALES), default="prefecture")
    parser.add_argument("--runs", type=int, default=50, help="timed requests per page (50)")
    parser.add_argument("--seed", type=int, default=synth.DEFAULT_SEED)
    parser.add_argument("--pages", default=",".join(p[0] for p in PAGES), help="comma-separated subset")
    parser.add_argument("--profile", metavar="PAGE", help="cProfile one request of PAGE and print the top 30")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--reuse", action="store_true", help="measure a database kept by --keep (no loading)")
    args = parser.parse_args(argv)
    wanted = {k.strip() for k in args.pages.split(",") if k.strip()}
    pages = [p for p in PAGES if p[0] in wanted]
    url = args.database_url
    if url and url.startswith("sqlite:///"):
        if not (args.reuse or args.keep):
            parser.error("a SQLite URL needs --keep (to build it) or --reuse")
        app = _app(url)
        if not args.reuse:
            if Path(url[len("sqlite:///"):]).exists():
                parser.error(f"{url} exists: --reuse it or remove it")
            with app.app_context():
                db.create_all()
            build(app, args)
        measure(app, url, args, pages)
        return 0
    if args.reuse:
        if not url:
            parser.error("--reuse needs --database-url")
        measure(_app(url), url, args, pages)
        return 0
    database = Database(url, args.keep)

    def run(app):
        with app.app_context():
            db.create_all()
        build(app, args)
        measure(app, database.label, args, pages)

    database.run(run)
    return 0


def _app(url: str):
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return create_app({
        "KOSODATE_ENV": "test", "SECRET_KEY": "bench-secret", "SQLALCHEMY_DATABASE_URI": url,
        "ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 1024, "ARGON2_PARALLELISM": 1,
    })


def build(app, args) -> None:
    with app.app_context():
        counts = synth.generate(SCALES[args.scale], seed=args.seed)
        set_scope(db.session, EVERYTHING)
        m = _desk_municipality()
        # The member user belongs to the organisation with the most contacts (its pages list them all).
        org_id = db.session.scalar(
            select(Contact.organization_id).where(Contact.municipality_id == m.id)
            .group_by(Contact.organization_id).order_by(func.count().desc(), Contact.organization_id).limit(1))
        accounts.create_user(email=DESK, role=Role.DESK, password=PASSWORD, municipality_id=m.id,
                             display_name="ベンチ 窓口")
        accounts.create_user(email=MEMBER, role=Role.MEMBER, password=PASSWORD, municipality_id=m.id,
                             member_organization_id=org_id, display_name="ベンチ 構成員")
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("ANALYZE"))  # what autovacuum does shortly after a bulk load
            db.session.commit()
        db.session.remove()
    print(f"data:     {counts.summary()}; loaded in {counts.seconds:.1f} s")


def _desk_municipality() -> Municipality:
    code = db.session.scalar(select(Municipality.code).join(Network, Network.municipality_id == Municipality.id)
                             .order_by(Municipality.code).limit(1))
    return db.session.scalar(select(Municipality).where(Municipality.code == code))


def measure(app, label: str, args, pages) -> None:
    with app.app_context():
        set_scope(db.session, EVERYTHING)
        code = _desk_municipality().code
        org_id = db.session.scalar(select(User.member_organization_id).where(User.email == MEMBER))
        engine = db.engine
        db.session.remove()
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    clients = {}
    for who in (DESK, MEMBER):
        clients[who] = app.test_client()
        login(clients[who], who)

    def path(p) -> str:
        return urllib.parse.quote(p.format(code=code, org=org_id), safe="/?=&")

    print(f"database: {label}")
    print(f"desk:     municipality {code}; member user's organisation {org_id}")
    for key, who, p, expect in pages:  # warm-up: templates compiled, connections pooled
        for _ in range(5):
            response = clients[who].get(path(p))
            assert response.status_code == 200, (key, response.status_code)
        assert expect in response.get_data(as_text=True), (key, expect)

    if args.profile:
        import cProfile
        import pstats

        key, who, p, _ = next(x for x in PAGES if x[0] == args.profile)
        profiler = cProfile.Profile()
        profiler.enable()
        clients[who].get(path(p))
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)

    print(f"runs:     {args.runs} timed requests per page, in-process (Flask test client)\n")
    print(f"{'page':<14} {'path':<44} {'bytes':>8} {'median ms':>10} {'p95 ms':>8} {'CPU ms':>7} {'SQL/req':>8}")
    for key, who, p, _ in pages:
        times, cpu, sql_counts, size = [], [], set(), 0
        for _ in range(args.runs):
            statements.clear()
            start, start_cpu = time.perf_counter(), time.process_time()
            response = clients[who].get(path(p))
            times.append((time.perf_counter() - start) * 1000)
            cpu.append((time.process_time() - start_cpu) * 1000)
            assert response.status_code == 200
            size = len(response.get_data())
            sql_counts.add(len(statements))
        shown = p.format(code=code, org=org_id)
        print(f"{key:<14} {shown:<{44 - sum(1 for ch in shown if ord(ch) > 0x2E80)}} {size:>8,} "
              f"{statistics.median(times):>10.2f} {p95(times):>8.2f} {statistics.median(cpu):>7.2f} "
              f"{'/'.join(str(n) for n in sorted(sql_counts)):>8}")
    print("(median/p95: wall clock around client.get; CPU ms: this process's CPU time, median; SQL/req:\n"
          " statements per request, the session's user included)")
    print(f"load average while measuring: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    sys.exit(main())

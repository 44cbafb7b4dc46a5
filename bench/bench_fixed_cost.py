#!/usr/bin/env python
"""Benchmark what every request pays: the login page, the public join form and light staff pages, in-process.

    .venv/bin/python bench/bench_fixed_cost.py                       # a temporary SQLite file
    .venv/bin/python bench/bench_fixed_cost.py \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/kosodate_bench_fixed
    .venv/bin/python bench/bench_fixed_cost.py --profile login,join    # + cProfile of one request each

These pages read little or nothing from the database, so their time is the
fixed cost of a request (session, user, CSRF, access policy, tenant context,
input checks, headers, transaction boundary) plus the template. The app runs in
production configuration (KOSODATE_ENV=production, a SECRET_KEY; the data is
loaded by a test-mode app beforehand, as ``flask synth`` refuses production);
each request goes through Flask's test client over https, timed around
``client.get``. Prints the median and p95 wall-clock, the median CPU time and
the SQL statements per request. Informational: no target, exit status 0.
``--dump DIR`` writes each page's HTML (CSRF tokens replaced by a fixed text),
to compare two versions of the code.

A PostgreSQL database that does not exist is created and dropped afterwards;
one that exists must be empty.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_whom import PASSWORD, Database, p95  # noqa: E402
from sqlalchemy import event, select, text  # noqa: E402

from portal import app_role, create_app  # noqa: E402
from portal.accounts import services as accounts  # noqa: E402
from portal.accounts.models import Role  # noqa: E402
from portal.extensions import db  # noqa: E402
from tenants import row_security  # noqa: E402
from tenants.models import Municipality  # noqa: E402
from tenants.network.models import Network  # noqa: E402
from tenants.scoping import EVERYTHING, set_scope  # noqa: E402
from tools import synth  # noqa: E402

DESK = "desk@bench-fixed.example.jp"
APP_ROLE = "kosodate_bench_app"  # the role bench_http and bench_row_security connect as
SCALES = {
    "prefecture": synth.SCALES["prefecture"],
    "small": synth.scaled("prefecture", municipalities=8),
    "tiny": synth.scaled("prefecture", municipalities=3, organizations=30, contacts=60, handovers=300),
}
# key, path ({code}: the desk's municipality), logged in as the desk?
PAGES = (
    ("login", "/login", False),
    ("join", "/m/{code}/join", False),
    ("password", "/account/password", True),
    ("network-edit", "/m/{code}/network/edit", True),
    ("network", "/m/{code}/network", True),
)
CSRF = re.compile(r'(name="csrf[-_]token" (?:content|value)="|id="csrf_token" name="csrf_token" type="hidden" value=")([^"]+)"')


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="PostgreSQL URL (default: a temporary SQLite file)")
    parser.add_argument("--scale", choices=sorted(SCALES), default="tiny",
                        help="synthetic data (tools/synth.py); these pages barely read it (tiny)")
    parser.add_argument("--runs", type=int, default=200, help="timed requests per page (200)")
    parser.add_argument("--pages", default=",".join(p[0] for p in PAGES))
    parser.add_argument("--profile", default="", help="comma-separated pages to cProfile (one request each)")
    parser.add_argument("--profile-lines", type=int, default=30)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--dump", help="write each page's HTML here (CSRF tokens masked)")
    args = parser.parse_args(argv)
    pages = [p for p in PAGES if p[0] in args.pages.split(",")]
    database = Database(args.database_url, keep=args.keep)
    database.run(lambda app: run(app, database, args, pages))
    return 0


def run(setup_app, database: Database, args, pages) -> None:
    with setup_app.app_context():
        db.create_all()
        counts = synth.generate(SCALES[args.scale])
        set_scope(db.session, EVERYTHING)
        code = db.session.scalar(select(Municipality.code).join(Network, Network.municipality_id == Municipality.id)
                                 .order_by(Municipality.code).limit(1))
        municipality_id = db.session.scalar(select(Municipality.id).where(Municipality.code == code))
        accounts.create_user(email=DESK, role=Role.DESK, password=PASSWORD, municipality_id=municipality_id,
                             display_name="ベンチ 窓口")
        db.session.commit()
        url, connects_as = database.url, "SQLite file"
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("ANALYZE"))
            db.session.commit()
            # As in production: the app's own role, bound by row-level security.
            with db.engine.begin() as conn:
                row_security.install(conn)
                app_role.grant_app_role(conn, APP_ROLE)
            url = db.engine.url.set(username=APP_ROLE, password=None).render_as_string(hide_password=False)
            connects_as = f"app role {APP_ROLE} (row-level security)"
        db.session.remove()

    app = create_app({"KOSODATE_ENV": "production", "SECRET_KEY": "bench-fixed-cost-secret-" + "x" * 32,
                      "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        engine = db.engine
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))

    anonymous = app.test_client(use_cookies=False)  # like wrk, and like a first visit: no session yet
    desk = app.test_client()
    html = desk.get("/login", base_url="https://localhost").get_data(as_text=True)
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', html).group(1)
    response = desk.post("/login", data={"email": DESK, "password": PASSWORD, "csrf_token": token},
                         base_url="https://localhost", headers={"Referer": "https://localhost/login"})
    assert response.status_code == 302, response.status_code

    print(f"database: {database.label}; connects as {connects_as}")
    print(f"data:     {counts.summary()}; desk of {code}")
    print(f"app:      KOSODATE_ENV=production; {args.runs} timed GETs per page (Flask test client, https)\n")
    print(f"{'page':<14} {'path':<26} {'bytes':>7} {'median ms':>10} {'p95 ms':>7} {'CPU ms':>7} {'SQL/req':>8}")
    for key, path, logged_in in pages:
        client = desk if logged_in else anonymous
        url = path.format(code=code)
        for _ in range(5):  # warm-up: templates compiled, connections pooled
            response = client.get(url, base_url="https://localhost")
            assert response.status_code == 200, (url, response.status_code)
        if args.dump:
            os.makedirs(args.dump, exist_ok=True)
            body = CSRF.sub(lambda m: m.group(1) + 'TOKEN"', response.get_data(as_text=True))
            Path(args.dump, f"{key}.html").write_text(body)
            headers = "".join(f"{k}: {v}\n" for k, v in sorted(response.headers.items()) if k != "Set-Cookie")
            Path(args.dump, f"{key}.headers").write_text(headers)
        times, cpu, sql = [], [], set()
        for _ in range(args.runs):
            statements.clear()
            start, start_cpu = time.perf_counter(), time.process_time()
            response = client.get(url, base_url="https://localhost")
            times.append((time.perf_counter() - start) * 1000)
            cpu.append((time.process_time() - start_cpu) * 1000)
            assert response.status_code == 200
            sql.add(len(statements))
        size = len(response.get_data())
        print(f"{key:<14} {url:<26} {size:>7,} {statistics.median(times):>10.2f} {p95(times):>7.2f} "
              f"{statistics.median(cpu):>7.2f} {'/'.join(map(str, sorted(sql))):>8}", flush=True)
    print(f"load average while measuring: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")

    for key in filter(None, args.profile.split(",")):
        path, logged_in = next((p, li) for k, p, li in pages if k == key)
        _profile(desk if logged_in else anonymous, path.format(code=code), key, args.profile_lines)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _profile(client, url: str, key: str, lines: int) -> None:
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    for _ in range(20):  # 20 requests, so one-off costs do not dominate
        profiler.enable()
        client.get(url, base_url="https://localhost")
        profiler.disable()
    print(f"\n--- cProfile: 20 × GET {url} ({key}), by own time")
    pstats.Stats(profiler).sort_stats("tottime").print_stats(lines)
    print(f"--- cProfile: 20 × GET {url} ({key}), cumulative")
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(lines)


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python
"""What row-level security costs: the same pages as the owner (RLS bypassed) and as the app's role.

    .venv/bin/python bench/bench_dashboard.py --scale prefecture --keep \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/kosodate_bench_rls
    .venv/bin/python bench/bench_row_security.py \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/kosodate_bench_rls

The first command leaves 埼玉県's synthetic data (tools/synth.py) and a prefecture
login in place. This script puts the policies on it (tenants.row_security), grants
the app's role, adds a desk login for 新座市, then times each page through Flask's
test client, alternating between a connection as the owner (a superuser: no
policy applies) and one as the app's role (every tenant row goes through the
policy), so both see the same machine load. Target: the policy adds at most 25 %
to the dashboard's median. Exit status 0 on PASS, 1 on FAIL.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_dashboard import PASSWORD  # noqa: E402
from bench_whom import login, p95  # noqa: E402
from sqlalchemy import select  # noqa: E402

from portal import app_role, create_app  # noqa: E402
from portal.accounts import services as accounts  # noqa: E402
from portal.accounts.models import Role, User  # noqa: E402
from portal.extensions import db  # noqa: E402
from tenants import row_security  # noqa: E402
from tenants.models import Municipality  # noqa: E402
from tenants.scoping import EVERYTHING, set_scope  # noqa: E402

APP_ROLE = "kosodate_bench_app"
MAX_COST = 0.25  # the policy may add at most a quarter to the dashboard's median
DESK = "desk.niiza@bench.example.jp"
PAGES = {
    "prefecture@bench.example.jp": ["/dashboard/", "/dashboard/m/112305"],
    DESK: ["/m/112305/", "/m/112305/members", "/m/112305/handovers", "/m/112305/handovers/metrics"],
}


def _app(url: str):
    return create_app({"KOSODATE_ENV": "test", "SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": url,
                       "ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 1024, "ARGON2_PARALLELISM": 1})


def prepare(owner_url: str) -> str:
    app = _app(owner_url)
    with app.app_context():
        with db.engine.begin() as conn:
            row_security.install(conn)
            app_role.grant_app_role(conn, APP_ROLE)
        set_scope(db.session, EVERYTHING)
        if db.session.scalar(select(User).where(User.email == DESK)) is None:
            niiza = db.session.scalar(select(Municipality).where(Municipality.code == "112305"))
            accounts.create_user(email=DESK, role=Role.DESK, password=PASSWORD, municipality_id=niiza.id,
                                 display_name="ベンチ 窓口")
        db.session.commit()
        url = db.engine.url.set(username=APP_ROLE, password=None).render_as_string(hide_password=False)
        db.engine.dispose()
    return url


def _clients(url: str):
    app = _app(url)
    clients = {}
    for email in PAGES:
        clients[email] = app.test_client()
        login(clients[email], email)
    return app, clients


def _get(client, page: str) -> float:
    start = time.perf_counter()
    response = client.get(page)
    elapsed = (time.perf_counter() - start) * 1000
    assert response.status_code == 200, page
    return elapsed


def measure(owner_url: str, app_url: str, runs: int) -> dict[str, tuple[list[float], list[float]]]:
    """Owner and app-role requests alternate, so both see the same machine load."""
    apps, clients = zip(_clients(owner_url), _clients(app_url), strict=True)
    out = {}
    for email, pages in PAGES.items():
        for page in pages:
            for _ in range(3):  # warm-up: templates compiled, connections pooled, plans cached
                for c in clients:
                    _get(c[email], page)
            owner, role = [], []
            for _ in range(runs):
                owner.append(_get(clients[0][email], page))
                role.append(_get(clients[1][email], page))
            out[page] = (owner, role)
    for app in apps:
        with app.app_context():
            db.engine.dispose()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True, help="the owner's URL of a kept bench_dashboard database")
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    results = measure(args.database_url, prepare(args.database_url), args.runs)
    print(f"{'page':<32} {'owner median/p95 ms':>20} {'app role median/p95 ms':>24} {'cost':>7}")
    for page, (owner, role) in results.items():
        a, b = statistics.median(owner), statistics.median(role)
        print(f"GET {page:<28} {a:>9.1f} / {p95(owner):>6.1f} {b:>13.1f} / {p95(role):>6.1f} {100 * (b - a) / a:>+6.0f}%")
    print(f"load average while measuring: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    owner, role = (statistics.median(t) for t in results["/dashboard/"])
    ok = role <= owner * (1 + MAX_COST)
    print(f"\n{'PASS' if ok else 'FAIL'}: /dashboard/ as the app's role {role:.1f} ms vs owner {owner:.1f} ms"
          f" (target: at most +{MAX_COST:.0%})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

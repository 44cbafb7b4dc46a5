#!/usr/bin/env python
"""HTTP benchmark: the staff pages under gunicorn, as a fraction of a Flask hello-world under the same gunicorn.

    bench/http                                        # set up, both databases, 埼玉県's synthetic prefecture
    bench/http --scale tiny --duration 2 --rounds 1   # a smoke run (a few minutes)
    bench/http --database postgresql --json out.json  # one database; every wrk run as JSON too

(bench/http runs bin/setup, then this script with the venv's Python.)

What it does, per database (a temporary SQLite file; a PostgreSQL database
created for the run at 127.0.0.1:5432 and dropped afterwards, see
bench_whom.Database):

1. migrates the schema with ``flask db upgrade`` and loads tools/synth.py's
   data, in-process with the generator ``flask synth`` runs (``--scale
   prefecture``, the default, is ``flask synth --scale prefecture``: 63
   municipalities × 300 organisations, 600 contacts, 5,000 handovers), plus a
   desk login for the first synthetic municipality with a network and a
   prefecture login; on PostgreSQL the app connects as its own role
   (``flask db create-app-role``), so row-level security binds it as in
   production;
2. starts the project (wsgi:app, KOSODATE_ENV=production) and bench/hello_app.py
   under the same gunicorn command (2 sync workers, bin/serve's other flags,
   127.0.0.1 only);
3. logs in through the real form (GET /login, CSRF token, POST, session cookie);
4. checks every page answers 200 with its expected content as the right
   identity — a redirect to the login page fails the run, it is not measured;
5. runs ``wrk -t2 -c32 -d10s`` against hello-world, then each page, then
   hello-world again (one block of pages per round, ``--rounds`` 3); every
   answer other than 200 during a run fails it too (bench/wrk_report.lua);
6. prints req/s, p50, p99 and the ratio to hello-world per page, as a Markdown
   table for README (``--json FILE`` also writes every run).

A page's ratio is its req/s over the mean of the two hello-world runs around
its block; the table shows the median over the rounds of req/s, p50, p99 and
ratio. Exit status 1 when a setup step, a check or a run failed (socket
errors and timeouts are counted and flagged ⚠ in the table, not failed), 130
when interrupted — gunicorn stopped and the scratch database removed either
way; there are no targets here (issue 14 states them; the figures are for
reading).
"""

from __future__ import annotations

import argparse
import ctypes
import http.client
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from contextlib import ExitStack, suppress
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

from bench_whom import PASSWORD, Database, _wide  # noqa: E402
from sqlalchemy import func, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from portal.accounts import services as accounts  # noqa: E402
from portal.accounts.models import Role  # noqa: E402
from portal.extensions import db  # noqa: E402
from tenants.models import Municipality  # noqa: E402
from tenants.network.models import Network  # noqa: E402
from tenants.scoping import EVERYTHING, set_scope  # noqa: E402
from tools import synth  # noqa: E402

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/kosodate_bench_http"
APP_ROLE = "kosodate_bench_app"  # cluster-wide, like bench_row_security's; created once, never dropped
LOCAL_HOSTS = ("127.0.0.1", "localhost")
VENV = ROOT / ".venv" / "bin"
LUA = BENCH / "wrk_report.lua"

# Per municipality, `small` and the full prefecture have the same data (so the
# desk pages read as many rows); `small` has fewer municipalities, which only
# the dashboard and anything unscoped notice. `tiny` is for a smoke run.
SCALES = {
    "prefecture": synth.SCALES["prefecture"],
    "small": synth.scaled("prefecture", municipalities=8),
    "tiny": synth.scaled("prefecture", municipalities=3, organizations=30, contacts=60, handovers=300),
}

DESK = "desk@bench-http.example.jp"
PREFECTURE = "prefecture@bench-http.example.jp"
NAMES = {DESK: "ベンチ 窓口", PREFECTURE: "ベンチ 県"}

# bin/serve's gunicorn command, less what would make the figures measure something else:
# --threads (bin/serve's gthread workers; issue 14 measures sync workers — see --gunicorn-threads),
# --max-requests (recycling a worker every ~2,000 requests would make a 10-s run against
# hello-world a benchmark of worker boots) and the access log (on both or neither; neither).
GUNICORN_FLAGS = [
    "--bind", "127.0.0.1:{port}",
    "--timeout", "30", "--graceful-timeout", "20",
    "--limit-request-line", "8190", "--limit-request-field_size", "16380",
    # gunicorn 27's control socket defaults to one path per user (~/.gunicorn/gunicorn.ctl):
    # two servers side by side (and anyone else's) would fight over it.
    "--no-control-socket",
]
WRK_TIMEOUT = "30s"  # = gunicorn's --timeout: a slow answer is counted, not dropped at wrk's default 2 s
HTTP_TIMEOUT = 30.0  # every request of the checks and logins
BOOT_TIMEOUT = 90.0  # gunicorn up and answering
CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)"')  # the tag tests/live.py reads too


@dataclass(frozen=True)
class Page:
    key: str
    label: str
    path: str  # {code}: the desk's municipality
    who: str | None  # None = anonymous; else the e-mail of the login
    expect: tuple[str, ...]  # in the body; {municipalities}: how many the data has

    def url_path(self, code: str) -> str:
        return urllib.parse.quote(self.path.format(code=code), safe="/?=&")


PAGES = (
    Page("login", "login (no SQL)", "/login", None, ('name="password"', 'name="csrf-token"')),
    Page("join", "public join form", "/m/{code}/join", None, ('name="org_name"', 'name="csrf-token"')),
    Page("home", "desk home", "/m/{code}/", DESK, ('id="quick-q"', "活動中の構成員")),
    Page("members", "member list", "/m/{code}/members", DESK, ('data-testid="member-table"',)),
    Page("whom", "誰に連絡？", "/m/{code}/whom?q=ほいく", DESK, ('data-testid="whom-result"',)),
    Page("inbox", "handover inbox", "/m/{code}/handovers", DESK, ('data-testid="count-to-route"',)),
    Page("dashboard", "prefecture dashboard", "/dashboard/", PREFECTURE,
         ('data-testid="headline"', "市町村一覧（{municipalities}）")),
)
CEILING = Page("hello", "hello-world (ceiling)", "/", None, ("Hello, World!",))


class BenchError(RuntimeError):
    """Something the figures cannot be trusted after; the run stops."""


# ------------------------------------------------------------------ wrk


def ensure_wrk() -> str:
    """wrk on PATH, installing Debian's package when missing (the benchmark's setup, not the app's)."""
    found = shutil.which("wrk")
    if found:
        return found
    if not shutil.which("apt-get"):
        raise SystemExit("wrk not found and no apt-get here: install wrk (https://github.com/wg/wrk) and rerun")
    sudo: list[str] = []
    if os.geteuid() != 0:
        if not shutil.which("sudo"):
            raise SystemExit("wrk not found: install it as root (apt-get install wrk) and rerun")
        sudo = ["sudo"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = [*sudo, "apt-get", "install", "-y", "-qq", "--no-install-recommends", "wrk"]
    print("==> installing wrk (Debian package) for the benchmark", flush=True)
    if subprocess.run(install, env=env, timeout=600, stdout=subprocess.DEVNULL).returncode != 0:
        subprocess.run([*sudo, "apt-get", "update", "-qq"], env=env, timeout=600, check=True)
        subprocess.run(install, env=env, timeout=600, check=True, stdout=subprocess.DEVNULL)
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("apt-get installed wrk, but it is not on PATH")
    return found


@dataclass
class Run:
    """One wrk run."""

    page: str
    round: int
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    errors: dict[str, int]
    raw: dict = field(repr=False)


def wrk(binary: str, port: int, path: str, cookie: str | None, args, page: str, rnd: int,
        duration: float | None = None) -> Run:
    duration = args.duration if duration is None else duration
    command = [binary, f"-t{args.wrk_threads}", f"-c{args.connections}", f"-d{duration:g}s",
               "--timeout", WRK_TIMEOUT, "-s", str(LUA)]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    command.append(f"http://127.0.0.1:{port}{path}")
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=duration + 60)
    except subprocess.TimeoutExpired as e:
        raise BenchError(f"wrk did not finish within {duration + 60:g} s on {path}") from e
    line = next((x for x in done.stdout.splitlines() if x.startswith("WRK_JSON ")), None)
    if done.returncode != 0 or line is None:
        raise BenchError(f"wrk failed on {path} (exit {done.returncode}):\n{done.stdout}{done.stderr}")
    raw = json.loads(line[len("WRK_JSON "):])
    if raw["not_200"]:
        raise BenchError(f"{path}: {raw['not_200']:,} of {raw['requests']:,} answers were not 200 during the run "
                         f"(the last: {raw['last_not_200_status']}) — figures discarded")
    seconds = raw["duration_us"] / 1e6
    return Run(page=page, round=rnd, requests=raw["requests"], seconds=seconds,
               rps=raw["requests"] / seconds if seconds else 0.0,
               p50_ms=raw["latency_us"]["p50"] / 1000, p99_ms=raw["latency_us"]["p99"] / 1000,
               errors={k: v for k, v in raw["errors"].items() if v}, raw=raw)


# ------------------------------------------------------------------ gunicorn


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent() -> None:  # in the child, before exec: gunicorn ends if this script is killed outright
    with suppress(OSError, AttributeError):  # Linux only; elsewhere the finally blocks have to do
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGINT)  # PR_SET_PDEATHSIG


class Gunicorn:
    """One gunicorn in its own process group, stopped (group and all) when the benchmark ends, however it ends."""

    def __init__(self, name: str, app: str, env: dict[str, str], args, logdir: Path, ready_path: str,
                 pythonpath: Path | None = None) -> None:
        self.name = name
        self.port = _free_port()
        self.log = logdir / f"gunicorn-{name}.log"
        workers = ["--workers", str(args.gunicorn_workers)]
        if args.gunicorn_threads > 1:
            workers += ["--worker-class", "gthread", "--threads", str(args.gunicorn_threads)]
        else:
            workers += ["--worker-class", "sync"]
        command = [str(VENV / "gunicorn"), *workers, *(f.format(port=self.port) for f in GUNICORN_FLAGS),
                   "--error-logfile", str(self.log)]
        if pythonpath:
            command += ["--pythonpath", str(pythonpath)]
        command.append(app)
        self.command = command
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                                        start_new_session=True, preexec_fn=_die_with_parent)
        try:
            self._wait_ready(ready_path)
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self, path: str) -> None:
        deadline = time.monotonic() + BOOT_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(f"gunicorn ({self.name}) exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                status, _, _ = fetch(self.port, path, timeout=5)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise BenchError(f"gunicorn ({self.name}) did not answer 200 on {path} within {BOOT_TIMEOUT:g} s:\n"
                         f"{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        """SIGINT (gunicorn's quick shutdown) to the master; the whole group killed if that is not enough."""
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            # The master is alive and not yet reaped, so the group id is still this group's own.
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=15)


# ------------------------------------------------------------------ HTTP (127.0.0.1 only, no redirects followed)


def fetch(port: int, path: str, cookie: str | None = None, form: dict | None = None,
          timeout: float = HTTP_TIMEOUT) -> tuple[int, http.client.HTTPMessage, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        headers = {"Cookie": cookie} if cookie else {}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request("POST" if form is not None else "GET", path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.headers, response.read().decode("utf-8", errors="replace")
    finally:
        conn.close()


def _session_cookie(headers: http.client.HTTPMessage) -> str | None:
    """``session=…`` from the answer's Set-Cookie (Secure in production mode: no cookie jar would send it over http)."""
    for header in headers.get_all("Set-Cookie") or []:
        pair = header.split(";", 1)[0].strip()
        if pair.startswith("session="):
            return pair
    return None


def login(port: int, email: str) -> str:
    """Log in through the form, as a browser does; the session cookie to send."""
    status, headers, html = fetch(port, "/login")
    token, cookie = CSRF.search(html), _session_cookie(headers)
    if status != 200 or not token or not cookie:
        raise BenchError(f"GET /login answered {status}, CSRF token {'found' if token else 'missing'}, "
                         f"session cookie {'set' if cookie else 'missing'}")
    status, headers, html = fetch(port, "/login", cookie=cookie,
                                  form={"email": email, "password": PASSWORD, "csrf_token": token.group(1)})
    location = headers.get("Location", "")
    if status != 302 or "/login" in location:
        raise BenchError(f"login of {email} answered {status} (Location {location!r}); the form said: "
                         f"{' '.join(re.findall(r'notice--error[^>]*>(.*?)<', html, re.S))[:300]!r}")
    cookie = _session_cookie(headers)
    if not cookie:
        raise BenchError(f"login of {email}: no session cookie in the answer")
    return cookie


def check(port: int, page: Page, path: str, cookie: str | None, facts: dict) -> int:
    """The page answers 200 with its expected content, as the expected identity; its size in bytes."""
    status, headers, html = fetch(port, path, cookie=cookie)
    if status != 200:
        where = headers.get("Location", "")
        hint = " — the session is not valid: this would benchmark the login page" if "/login" in where else ""
        raise BenchError(f"{page.label}: GET {path} answered {status}{f' → {where}' if where else ''}{hint}")
    missing = [e for e in (x.format(**facts) for x in page.expect) if e not in html]
    if page.who:
        if NAMES[page.who] not in html:
            missing.append(f"the logged-in name {NAMES[page.who]}")
        if 'name="password"' in html:
            missing.append("no login form")
    if missing:
        raise BenchError(f"{page.label}: GET {path} answered 200 without {', '.join(missing)}")
    return len(html.encode())


# ------------------------------------------------------------------ one database


def _server_env(database_url: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    """A clean environment: nothing of the caller's app settings (DATABASE_URL, SMTP_HOST, …) leaks in."""
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "TZ")
    env = {k: os.environ[k] for k in keep if k in os.environ}
    env.update({
        "KOSODATE_ENV": "production", "SECRET_KEY": secrets.token_hex(32), "DATABASE_URL": database_url,
        "PREFECTURE_CODE": "11", "FLASK_APP": "wsgi", "PYTHONDONTWRITEBYTECODE": "1",
    })
    env.update(extra or {})
    return env


def _flask(env: dict[str, str], *command: str, timeout: float = 900) -> None:
    done = subprocess.run([str(VENV / "flask"), "--app", "wsgi", *command], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise BenchError(f"flask {' '.join(command)} failed ({done.returncode}):\n{done.stdout}{done.stderr}")


def prepare(app, database: Database, args) -> dict:
    """Schema by migration, synthetic data, two logins; facts the checks and the table need."""
    t0 = time.perf_counter()
    _flask(_server_env(database.url), "db", "upgrade")
    migrated = time.perf_counter() - t0
    with app.app_context():
        synth.check_allowed(app.config["KOSODATE_ENV"])
        counts = synth.generate(SCALES[args.scale], seed=args.seed)
        set_scope(db.session, EVERYTHING)
        code = db.session.scalar(
            select(Municipality.code).join(Network, Network.municipality_id == Municipality.id)
            .order_by(Municipality.code).limit(1))
        if code is None:
            raise BenchError("the synthetic data has no municipality with a network")
        municipality = db.session.scalar(select(Municipality).where(Municipality.code == code))
        accounts.create_user(email=DESK, role=Role.DESK, password=PASSWORD, municipality_id=municipality.id,
                             display_name=NAMES[DESK])
        accounts.create_user(email=PREFECTURE, role=Role.PREFECTURE, password=PASSWORD,
                             display_name=NAMES[PREFECTURE])
        name = municipality.name
        # The dashboard lists every municipality of the prefecture, with synthetic data or not.
        listed = db.session.scalar(select(func.count(Municipality.id)).where(Municipality.prefecture_code == "11"))
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            # What autovacuum does shortly after a bulk load; SQLite gets no statistics (as in bench_dashboard).
            db.session.execute(text("ANALYZE"))
            db.session.commit()
        db.session.remove()
        db.engine.dispose()
    server_url, connects_as = database.url, "SQLite file"
    if database.url.startswith("postgresql"):
        connects_as = "owner (row-level security bypassed)"
        if not args.as_owner:
            _flask(_server_env(database.url), "db", "create-app-role", APP_ROLE)
            server_url = make_role_url(database.url, APP_ROLE)
            connects_as = f"app role {APP_ROLE} (row-level security)"
    return {"code": code, "municipality": name, "municipalities": listed,
            "data": counts.summary(), "migrated_s": round(migrated, 1), "server_url": server_url,
            "connects_as": connects_as}


def make_role_url(url: str, role: str) -> str:
    return make_url(url).set(username=role, password=None).render_as_string(hide_password=False)


def measure(app, database: Database, args, wrk_binary: str, pages: tuple[Page, ...]) -> dict:
    if database.tmpdir is None and not database.created:
        # A database given empty is left empty: Database.cleanup drops the models' tables, this the migrations' one.
        def drop_alembic_version() -> None:
            with app.app_context(), db.engine.begin() as conn:
                conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        try:
            return _prepare_and_measure(app, database, args, wrk_binary, pages)
        finally:
            drop_alembic_version()
    return _prepare_and_measure(app, database, args, wrk_binary, pages)


def _prepare_and_measure(app, database: Database, args, wrk_binary: str, pages: tuple[Page, ...]) -> dict:
    facts = prepare(app, database, args)
    print(f"data:     {facts['data']}")
    print(f"desk:     {facts['municipality']} ({facts['code']}); server connects as {facts['connects_as']}",
          flush=True)
    with ExitStack() as stack:  # unwound in reverse: both servers stopped, then their logs removed
        logdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench_http_")))
        hello = Gunicorn("hello", "hello_app:app", _server_env(facts["server_url"]), args, logdir, "/",
                         pythonpath=BENCH)
        stack.callback(hello.stop)
        project = Gunicorn("project", "wsgi:app", _server_env(facts["server_url"]), args, logdir, "/healthz")
        stack.callback(project.stop)
        try:
            return _measure(args, wrk_binary, pages, database, facts, hello, project)
        except BenchError as e:
            raise BenchError(f"{e}\n--- the project's gunicorn log, last lines:\n{project.log_tail()}") from None


def _measure(args, wrk_binary: str, pages: tuple[Page, ...], database: Database, facts: dict,
             hello: Gunicorn, project: Gunicorn) -> dict:
    cookies = {who: login(project.port, who) for who in {p.who for p in pages if p.who}}
    targets = [(p, project.port, p.url_path(facts["code"]), cookies.get(p.who)) for p in pages]
    sizes = {}
    for page, port, path, cookie in [(CEILING, hello.port, "/", None), *targets]:
        sizes[page.key] = check(port, page, path, cookie, facts)
        if args.warmup > 0:  # templates compiled, pools filled, plans cached — in both workers
            wrk(wrk_binary, port, path, cookie, args, page.key, 0, duration=args.warmup)
    print(f"load:     {os.getloadavg()[0]:.2f} before timing, {os.cpu_count()} CPUs", flush=True)

    def timed(page: Page, port: int, path: str, cookie: str | None, rnd: int) -> Run:
        check(port, page, path, cookie, facts)
        run = wrk(wrk_binary, port, path, cookie, args, page.key, rnd)
        check(port, page, path, cookie, facts)  # the session outlived the run
        errors = f"  errors {run.errors}" if run.errors else ""
        label = f"{page.label:<{24 - _wide(page.label)}}"
        print(f"  round {rnd}  {label} {run.rps:>9.1f} req/s  p50 {run.p50_ms:>8.1f} ms  "
              f"p99 {run.p99_ms:>8.1f} ms{errors}", flush=True)
        return run

    ceiling = [timed(CEILING, hello.port, "/", None, 1)]
    runs: dict[str, list[Run]] = {p.key: [] for p in pages}
    for rnd in range(1, args.rounds + 1):
        for page, port, path, cookie in targets:
            runs[page.key].append(timed(page, port, path, cookie, rnd))
        ceiling.append(timed(CEILING, hello.port, "/", None, rnd))
    load_after = os.getloadavg()[0]
    return {"label": database.label, "facts": facts, "sizes": sizes, "load_after": load_after,
            "ceiling": ceiling, "runs": runs,
            "paths": {p.key: p.url_path(facts["code"]) for p in pages}}


def summarise(result: dict, pages: tuple[Page, ...]) -> dict[str, dict]:
    ceiling = result["ceiling"]
    out = {CEILING.key: {"rps": statistics.median(r.rps for r in ceiling),
                         "p50_ms": statistics.median(r.p50_ms for r in ceiling),
                         "p99_ms": statistics.median(r.p99_ms for r in ceiling), "ratio": 1.0,
                         "errors": _sum_errors(ceiling)}}
    for page in pages:
        runs = result["runs"][page.key]
        ratios = [r.rps / ((ceiling[i].rps + ceiling[i + 1].rps) / 2) for i, r in enumerate(runs)]
        out[page.key] = {"rps": statistics.median(r.rps for r in runs),
                         "p50_ms": statistics.median(r.p50_ms for r in runs),
                         "p99_ms": statistics.median(r.p99_ms for r in runs),
                         "ratio": statistics.median(ratios), "errors": _sum_errors(runs)}
    return out


def _sum_errors(runs: list[Run]) -> dict[str, int]:
    total: dict[str, int] = {}
    for r in runs:
        for k, v in r.errors.items():
            total[k] = total.get(k, 0) + v
    return total


# ------------------------------------------------------------------ the table


def _rps(v: float) -> str:
    return f"{v:,.0f}" if v >= 100 else f"{v:.1f}"


def _ms(v: float) -> str:
    return f"{v:,.0f}" if v >= 100 else f"{v:.1f}"


def markdown(results: dict[str, dict], summaries: dict[str, dict], pages: tuple[Page, ...], args) -> str:
    names = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
    dbs = list(results)
    head = "| page | URL |" + "".join(f" {names[d]} req/s | {names[d]} % | {names[d]} p50 / p99 ms |" for d in dbs)
    lines = [head, "|---|---|" + "---:|---:|---:|" * len(dbs)]
    first = next(iter(results.values()))
    for page in (CEILING, *pages):
        path = "/" if page is CEILING else first["paths"][page.key]
        row = f"| {page.label} | `{urllib.parse.unquote(path)}` |"
        for d in dbs:
            s = summaries[d][page.key]
            mark = " ⚠" if s["errors"] else ""
            row += f" {_rps(s['rps'])}{mark} | {100 * s['ratio']:.1f} % | {_ms(s['p50_ms'])} / {_ms(s['p99_ms'])} |"
        lines.append(row)
    workers = (f"{args.gunicorn_workers} sync workers" if args.gunicorn_threads == 1
               else f"{args.gunicorn_workers} gthread workers × {args.gunicorn_threads} threads")
    facts = first["facts"]
    lines += [
        "",
        f"gunicorn: {workers}, hello-world (bench/hello_app.py) and wsgi:app side by side; "
        f"`wrk -t{args.wrk_threads} -c{args.connections} -d{args.duration:g}s`, {args.rounds} round(s), "
        "hello-world before and after each block of pages; % = req/s ÷ the mean of those two hello-world runs; "
        "median over the rounds.",
        f"Data: `--scale {args.scale}` — {facts['data']}; desk pages as the desk of {facts['municipality']} "
        f"({facts['code']}), the dashboard as a prefecture user.",
        "Load average before / after: " + ", ".join(
            f"{names[d]} {r['load_before']:.2f} / {r['load_after']:.2f}" for d, r in results.items())
        + f" on {os.cpu_count()} CPUs; Python {platform.python_version()}; "
        + f"{datetime.now(UTC).astimezone().strftime('%Y-%m-%d %H:%M %Z')}.",
    ]
    if any(s["errors"] for summary in summaries.values() for s in summary.values()):
        lines.append("⚠ socket errors or timeouts during the run: " + "; ".join(
            f"{names[d]} {k}: {s['errors']}" for d, summary in summaries.items()
            for k, s in summary.items() if s["errors"]))
    return "\n".join(lines)


# ------------------------------------------------------------------ main


def _local(url: str) -> str:
    parsed = make_url(url.replace("postgresql://", "postgresql+psycopg://", 1))
    if parsed.get_backend_name() != "postgresql" or (parsed.host or "127.0.0.1") not in LOCAL_HOSTS:
        raise SystemExit("--postgres-url: a PostgreSQL URL on 127.0.0.1 (the benchmark talks to nothing else)")
    return parsed.render_as_string(hide_password=False)


def _interrupt(signum: int, _frame) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--postgres-url", default=PG_URL,
                        help="created for the run and dropped afterwards when it does not exist; "
                             f"else it must be empty (default {PG_URL})")
    parser.add_argument("--scale", choices=list(SCALES), default="prefecture",
                        help="prefecture = flask synth --scale prefecture (default); small = 8 of its municipalities, "
                             "the same data each; tiny = 3 municipalities × 30 organisations (smoke runs)")
    parser.add_argument("--seed", type=int, default=synth.DEFAULT_SEED)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run (10)")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections (32)")
    parser.add_argument("--wrk-threads", type=int, default=2, help="wrk threads (2)")
    parser.add_argument("--rounds", type=int, default=3, help="blocks of pages, each between two hello-world runs (3)")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of untimed wrk per server and page first (2)")
    parser.add_argument("--pages", default=",".join(p.key for p in PAGES),
                        help="comma-separated subset of: " + ", ".join(p.key for p in PAGES))
    parser.add_argument("--gunicorn-workers", type=int, default=2)
    parser.add_argument("--gunicorn-threads", type=int, default=1,
                        help="1 = sync workers (default, as issue 14 measured); N > 1 = gthread as bin/serve runs (4)")
    parser.add_argument("--as-owner", action="store_true",
                        help="PostgreSQL: the server connects as the owner (no row-level security), not the app's role")
    parser.add_argument("--json", metavar="FILE", help="also write every run and the summary as JSON")
    args = parser.parse_args(argv)
    wanted = [k.strip() for k in args.pages.split(",") if k.strip()]
    unknown = set(wanted) - {p.key for p in PAGES}
    if unknown or not wanted:
        parser.error(f"--pages: unknown {', '.join(sorted(unknown)) or '(none given)'}")
    pages = tuple(p for p in PAGES if p.key in wanted)
    if args.connections < args.wrk_threads or args.duration <= 0 or args.rounds < 1:
        parser.error("need --connections >= --wrk-threads, --duration > 0 and --rounds >= 1")
    postgres_url = _local(args.postgres_url)

    wrk_binary = ensure_wrk()
    # Ctrl-C raises KeyboardInterrupt; SIGTERM and SIGHUP end the same way, through every finally.
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _interrupt)

    kinds = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    results: dict[str, dict] = {}
    try:
        for kind in kinds:
            database = Database(None if kind == "sqlite" else postgres_url, keep=False)
            print(f"== {database.label}, --scale {args.scale} ==", flush=True)
            load_before = os.getloadavg()[0]
            results[kind] = database.run(lambda app, d=database: measure(app, d, args, wrk_binary, pages))
            results[kind]["load_before"] = load_before
            print()
    except BenchError as e:
        print(f"\nFAIL: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted: servers stopped, scratch database removed", file=sys.stderr)
        return 130

    summaries = {kind: summarise(r, pages) for kind, r in results.items()}
    table = markdown(results, summaries, pages, args)
    print(table)
    if args.json:
        Path(args.json).write_text(json.dumps({
            "config": dict(vars(args)),
            "gunicorn_flags": GUNICORN_FLAGS,
            "databases": {kind: {
                "label": r["label"], "facts": {k: v for k, v in r["facts"].items() if k != "server_url"},
                "bytes": r["sizes"], "paths": r["paths"],
                "load_before": r["load_before"], "load_after": r["load_after"],
                "summary": summaries[kind],
                "ceiling_runs": [asdict(x) for x in r["ceiling"]],
                "page_runs": {k: [asdict(x) for x in v] for k, v in r["runs"].items()},
            } for kind, r in results.items()},
            "markdown": table,
        }, ensure_ascii=False, indent=2) + "\n")
        print(f"\nJSON: {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

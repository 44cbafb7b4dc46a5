"""Fixtures, and the helpers most tests use (arranged, logged_in, csrf_token, outbox, ...).

Every database test runs once on SQLite and once on PostgreSQL. Without
PostgreSQL the PostgreSQL half is skipped, loudly; on CI (CI=true) an
unreachable PostgreSQL fails the run instead. Test data: tests/factories.py;
helpers of a few modules: tests/support/.
"""

from __future__ import annotations

import os
import re
import secrets
from contextlib import contextmanager

import pytest
from flask import g
from flask_wtf.csrf import generate_csrf
from jinja2 import BytecodeCache
from sqlalchemy import event, select

from portal import create_app
from portal.extensions import db
from portal.mail.models import OutboxMessage
from tenants.models import Municipality
from tenants.scoping import EVERYTHING, Scope, set_scope
from tests import databases
from tests.factories import NIIZA, PASSWORD

TEST_CONFIG = {
    "KOSODATE_ENV": "test",
    "SECRET_KEY": "test-secret",
    # Cheap hashing keeps the suite fast; production uses RFC 9106 defaults.
    "ARGON2_TIME_COST": 1,
    "ARGON2_MEMORY_COST": 1024,
    "ARGON2_PARALLELISM": 1,
}

_pg_skip_reason: list[str] = []


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database(request, tmp_path_factory):
    if request.param == "sqlite":
        yield databases.SqliteDatabase(tmp_path_factory.mktemp("sqlite"))
        return
    reason = databases.pg_unreachable_reason()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"{reason} — CI must run the suite on PostgreSQL", pytrace=False)
        _pg_skip_reason[:] = [reason]
        pytest.skip(f"!!! POSTGRESQL HALF SKIPPED: {reason}")
    pg = databases.PostgresDatabase()
    yield pg
    pg.close()


def pytest_terminal_summary(terminalreporter):
    if _pg_skip_reason:
        terminalreporter.section("PostgreSQL", sep="!", red=True, bold=True)
        terminalreporter.write_line(
            f"THE POSTGRESQL HALF OF THE SUITE WAS SKIPPED: {_pg_skip_reason[0]}", red=True, bold=True
        )


class _CompiledTemplates(BytecodeCache):
    """Compiled templates kept for the session: every test's new app would compile them again.

    Keyed by template name and checked against the source, as Jinja's own caches are.
    """

    def __init__(self) -> None:
        self.code: dict[str, bytes] = {}

    def load_bytecode(self, bucket) -> None:
        if bucket.key in self.code:
            bucket.bytecode_from_string(self.code[bucket.key])

    def dump_bytecode(self, bucket) -> None:
        self.code[bucket.key] = bucket.bytecode_to_string()


_COMPILED_TEMPLATES = _CompiledTemplates()


@pytest.fixture
def app(database):
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": database.new_url()})
    app.jinja_env.bytecode_cache = _COMPILED_TEMPLATES
    database.prepare(app)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@contextmanager
def arranged(app):
    """Arrange test data under an explicit everything-scope, then commit.

    A context manager rather than a fixture on purpose: an app context left
    pushed would be reused by the test client's requests (sharing `g` and the
    session), which would make isolation tests meaningless.
    """
    with app.app_context():
        set_scope(db.session, EVERYTHING)
        yield db.session
        db.session.commit()


@contextmanager
def in_municipality(app, code: str = NIIZA):
    """Service calls and reads as a request of that municipality would make them, then commit."""
    with app.app_context():
        m = db.session.scalar(select(Municipality).where(Municipality.code == code))
        set_scope(db.session, Scope(municipality_id=m.id))
        yield db.session
        db.session.commit()


CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
CSRF_INPUT = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def csrf_token(client) -> str:
    """The CSRF token any page would give ``client`` now, made without a request.

    Flask-WTF keeps a raw token in the (cookie) session and signs it for each
    page; its own generate_csrf signs the client's, in a request carrying the
    client's cookie. Tokens on the pages themselves are still read by
    form_fields and tests/live.py.
    """
    app = client.application
    with client.session_transaction() as session:
        session.setdefault("csrf_token", secrets.token_hex(20))
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    with app.test_request_context(headers={"Cookie": f"{cookie.key}={cookie.value}"}):
        g.pop("csrf_token", None)  # cached per app context, which an enclosing one would share
        return generate_csrf()


VERSION_INPUT = re.compile(r'<input[^>]*name="(version|version_loaded)"[^>]*value="([^"]*)"')


def form_fields(client, path: str) -> dict:
    """The hidden inputs an edit form at ``path`` carries: CSRF token, the version it was loaded with."""
    html = client.get(path, follow_redirects=True).get_data(as_text=True)
    match = CSRF_META.search(html) or CSRF_INPUT.search(html)
    assert match, f"no CSRF token on {path}"
    return {"csrf_token": match.group(1), **dict(VERSION_INPUT.findall(html))}


def login(client, email: str, password: str = PASSWORD, next_url: str | None = None):
    token = csrf_token(client)
    url = "/login" + (f"?next={next_url}" if next_url else "")
    return client.post(url, data={"email": email, "password": password, "csrf_token": token})


def logged_in(app, email: str, password: str = PASSWORD):
    """A new test client (a browser of its own), logged in as ``email``."""
    client = app.test_client()
    response = login(client, email, password)
    assert response.status_code == 302, f"login of {email} answered {response.status_code}"
    return client


def outbox(app, kind: str | None = None) -> list[OutboxMessage]:
    """The messages queued so far, oldest first (detached), of one kind if told."""
    with app.app_context():
        stmt = select(OutboxMessage).order_by(OutboxMessage.id)
        if kind:
            stmt = stmt.where(OutboxMessage.kind == kind)
        messages = list(db.session.scalars(stmt))
        db.session.expunge_all()
        return messages


@contextmanager
def count_queries(app):
    """Counts SQL statements sent to the database inside the block."""
    statements: list[str] = []

    def _count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", _count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", _count)


@pytest.fixture
def smtp(app):
    """A real SMTP server on loopback; the app is configured to deliver to it."""
    from tests.smtp import SmtpServer

    server = SmtpServer().start()
    server.configure(app)
    yield server
    server.stop()

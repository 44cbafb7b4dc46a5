"""The two databases every test runs on: SQLite (embedded) and PostgreSQL."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import psycopg
from sqlalchemy import create_engine, exc, text
from sqlalchemy.engine import make_url

from portal import app_role
from portal.extensions import db
from tenants import row_security

PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
# The role the application connects as in production: no superuser, no BYPASSRLS, owns
# nothing, so row-level security binds it. A cluster-wide role, created once, never dropped.
APP_ROLE = os.environ.get("TEST_POSTGRES_APP_ROLE", "kosodate_test_app")
# The PostgreSQL half runs as that role, so the policies bind every test as they bind
# production (schema and truncation still by the owner); TEST_POSTGRES_AS_APP_ROLE=0 runs it as the owner.
AS_APP_ROLE = os.environ.get("TEST_POSTGRES_AS_APP_ROLE", "1") not in ("", "0")


def pg_unreachable_reason() -> str | None:
    try:
        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3):
            return None
    except psycopg.Error as e:
        return f"PostgreSQL unreachable at {PG_ADMIN_URL}: {e}".strip()


def _pg_url(dbname: str) -> str:
    base, _, _ = PG_ADMIN_URL.rpartition("/")
    return base.replace("postgresql://", "postgresql+psycopg://", 1) + "/" + dbname


def pg_create(dbname: str) -> str:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{dbname}" ENCODING \'UTF8\' TEMPLATE template0')
    return _pg_url(dbname)


def as_role(url: str, role: str) -> str:
    return make_url(url).set(username=role, password=None).render_as_string(hide_password=False)


def pg_grant_app_role(url: str, role: str = APP_ROLE) -> str:
    """Grant the application's role its privileges on the database at ``url``; its URL."""
    engine = create_engine(url)
    try:
        for attempt in range(3):  # two test processes may create the role at the same moment
            try:
                with engine.begin() as conn:
                    app_role.grant_app_role(conn, role)
                break
            except (exc.IntegrityError, exc.ProgrammingError):
                if attempt == 2:
                    raise
    finally:
        engine.dispose()
    return as_role(url, role)


def pg_drop(dbname: str) -> None:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


class SqliteDatabase:
    name = "sqlite"

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.template: Path | None = None

    def new_url(self) -> str:
        # A new file per test: the cleanest possible database, and shareable
        # with the live server thread of the browser tests.
        return f"sqlite:///{self.folder / (uuid.uuid4().hex + '.sqlite3')}"

    def prepare(self, app) -> None:
        # The schema is made once per session; each test gets a copy of that file
        # (the app has not connected yet: create_app opens no connection).
        if self.template is None:
            template = self.folder / "template.sqlite3"
            engine = create_engine(f"sqlite:///{template}")
            try:
                db.metadata.create_all(engine)
            finally:
                engine.dispose()
            self.template = template
        shutil.copyfile(self.template, make_url(app.config["SQLALCHEMY_DATABASE_URI"]).database)

    def close(self) -> None:
        pass


class PostgresDatabase:
    name = "postgresql"

    def __init__(self) -> None:
        self.dbname = f"kosodate_test_{os.getpid()}"
        self.url = pg_create(self.dbname)  # the owner's (superuser's) URL
        self.owner = create_engine(self.url)
        self.schema_ready = False

    def new_url(self) -> str:
        return as_role(self.url, APP_ROLE) if AS_APP_ROLE else self.url

    def prepare(self, app) -> None:
        # Schema and emptying as the owner, whichever role the app connects as.
        if not self.schema_ready:
            with self.owner.begin() as conn:
                db.metadata.create_all(conn)
                row_security.install(conn)  # what migration 8c4f1e2a9b73 does
            if AS_APP_ROLE:
                pg_grant_app_role(self.url)
            self.schema_ready = True
            return
        # Empty only what the last test wrote, children first: a test writes a few
        # small tables, and DELETE of those is some ten times quicker than a
        # TRUNCATE of every table. Every sequence used since is restarted (also
        # one a rolled-back insert advanced), so ids start at 1 as before.
        names = [t.name for t in db.metadata.sorted_tables]
        written = " UNION ALL ".join(f"SELECT '{n}' WHERE EXISTS (SELECT FROM \"{n}\")" for n in names)
        with self.owner.begin() as conn:
            dirty = set(conn.scalars(text(written)))
            for n in reversed(names):
                if n in dirty:
                    conn.execute(text(f'DELETE FROM "{n}"'))
            for (sequence,) in conn.execute(text(
                "SELECT quote_ident(schemaname) || '.' || quote_ident(sequencename) FROM pg_sequences"
                " WHERE last_value IS NOT NULL"
            )):
                conn.execute(text(f"ALTER SEQUENCE {sequence} RESTART"))

    def close(self) -> None:
        self.owner.dispose()
        pg_drop(self.dbname)

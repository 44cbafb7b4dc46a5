"""The two databases every test runs on: SQLite (embedded) and PostgreSQL."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import psycopg
from sqlalchemy import text

from portal.extensions import db

PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


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


def pg_drop(dbname: str) -> None:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


class SqliteDatabase:
    name = "sqlite"

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def new_url(self) -> str:
        # A new file per test: the cleanest possible database, and shareable
        # with the live server thread of the browser tests.
        return f"sqlite:///{self.folder / (uuid.uuid4().hex + '.sqlite3')}"

    def prepare(self, app) -> None:
        with app.app_context():
            db.create_all()

    def close(self) -> None:
        pass


class PostgresDatabase:
    name = "postgresql"

    def __init__(self) -> None:
        self.dbname = f"kosodate_test_{os.getpid()}"
        self.url = pg_create(self.dbname)
        self.schema_ready = False

    def new_url(self) -> str:
        return self.url

    def prepare(self, app) -> None:
        with app.app_context():
            if not self.schema_ready:
                db.create_all()
                self.schema_ready = True
                return
            tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
            # On a plain connection: text() naming tenant tables is refused by the session's scoping.
            with db.engine.begin() as conn:
                conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))

    def close(self) -> None:
        pg_drop(self.dbname)

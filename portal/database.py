"""Database connections: real transactions, timeouts and write locks on both databases.

SQLite (pysqlite) by default emits no ``BEGIN`` before a ``SAVEPOINT`` and
commits on its own around DDL, so a released savepoint was a commit. We use
SQLAlchemy's documented recipe instead: the driver's own transaction handling
is switched off (``isolation_level = None``) and every SQLAlchemy transaction
emits its own ``BEGIN``. Each connection also gets WAL (readers never wait
for the writer), a busy timeout and ``secure_delete``.

SQLite has one writer, and a transaction that has read cannot wait for the
write lock: upgrading it fails at once with "database is locked", and in WAL
mode it cannot upgrade at all once another writer has committed. So a write
must hold the lock from the start:

* a request with an unsafe method (POST, …) begins ``BEGIN IMMEDIATE``;
* any other transaction begins deferred and, at its first write statement
  (or ``lock_for_write()``), exchanges its read-only transaction for an
  immediate one. Nothing is written before that point, so nothing is lost;
  only what it read earlier may be older than what it then writes, as with
  pysqlite's own behaviour (GET requests append access-log rows that way).

``foreign_keys`` stays off on SQLite: Alembic's batch mode recreates tables,
and with it on, dropping the old table would cascade into the rows that
reference it. PostgreSQL enforces the foreign keys.

PostgreSQL: a connect timeout on every connection; in web requests a
``statement_timeout`` and a ``lock_timeout`` (CLI commands such as migrations
and ``synth`` may legitimately run longer): set on a pooled connection when a
request checks it out and it does not carry them yet, reset when other work
checks it out, so a request pays no round trip for them.
"""

from __future__ import annotations

import re
import zlib
from typing import Any

from flask import Flask, has_request_context, request
from sqlalchemy import event, text
from sqlalchemy.engine import Engine

from portal.extensions import db

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE|REPLACE|SAVEPOINT|CREATE|DROP|ALTER)\b", re.IGNORECASE)
_IMMEDIATE = "kosodate.sqlite_immediate"  # connection info: this transaction holds the write lock


def engine_options(cfg: dict[str, Any]) -> dict[str, Any]:
    """SQLALCHEMY_ENGINE_OPTIONS for the configured database (timeouts at connect time)."""
    options = dict(cfg.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    connect_args = dict(options.get("connect_args") or {})
    uri = cfg["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("sqlite"):
        # pysqlite's own busy handler, in seconds (PRAGMA busy_timeout below says the same).
        connect_args.setdefault("timeout", cfg["SQLITE_BUSY_TIMEOUT_MS"] / 1000)
    elif uri.startswith("postgresql") and "connect_timeout=" not in uri:
        connect_args.setdefault("connect_timeout", cfg["DATABASE_CONNECT_TIMEOUT"])
    options["connect_args"] = connect_args
    return options


def register_database(app: Flask) -> None:
    """Install the connection events on the app's engine (created, not connected, by init_app)."""
    with app.app_context():
        engine = db.engine
    if engine.dialect.name == "sqlite":
        _sqlite_events(engine, app.config["SQLITE_BUSY_TIMEOUT_MS"])
    elif engine.dialect.name == "postgresql":
        _postgresql_events(engine, app.config["DATABASE_STATEMENT_TIMEOUT_MS"], app.config["DATABASE_LOCK_TIMEOUT_MS"])


def _write_request() -> bool:
    return has_request_context() and request.method not in SAFE_METHODS


def _sqlite_events(engine: Engine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, connection_record):
        dbapi_connection.isolation_level = None  # SQLAlchemy's BEGIN below, not pysqlite's
        dbapi_connection.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        dbapi_connection.execute("PRAGMA secure_delete = ON")  # erased text is overwritten in the file
        if engine.url.database not in (None, "", ":memory:"):
            dbapi_connection.execute("PRAGMA journal_mode = WAL")

    # The driver connection is used directly so these statements do not show
    # up in statement counts (tests pin queries per page).
    @event.listens_for(engine, "begin")
    def _begin(conn):
        immediate = _write_request()
        conn.connection.driver_connection.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")
        conn.info[_IMMEDIATE] = immediate

    @event.listens_for(engine, "before_cursor_execute")
    def _before_write(conn, cursor, statement, parameters, context, executemany):
        if conn.in_transaction() and not conn.info.get(_IMMEDIATE) and _is_write(statement, context):
            _sqlite_take_write_lock(conn)


def _is_write(statement: str, context) -> bool:
    # Compiled DML (also inside a CTE) says so itself; text() is recognised by its first word.
    compiled_write = context is not None and (context.isinsert or context.isupdate or context.isdelete or context.isddl)
    return bool(compiled_write or _WRITE.match(statement))


def _sqlite_take_write_lock(conn) -> None:
    """Exchange a deferred transaction that has only read for an immediate one."""
    raw = conn.connection.driver_connection
    raw.execute("COMMIT")
    raw.execute("BEGIN IMMEDIATE")  # waits up to busy_timeout for the writer
    conn.info[_IMMEDIATE] = True


_TIMEOUTS = "kosodate.timeouts"  # connection record info: the timeouts this connection carries, or None


def _postgresql_events(engine: Engine, statement_timeout_ms: int, lock_timeout_ms: int) -> None:
    timeouts = (f"{int(statement_timeout_ms)}ms", f"{int(lock_timeout_ms)}ms")

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_connection, connection_record, connection_proxy):
        # Web requests get the timeouts, other work (CLI) none. Set for the connection, not per
        # transaction: a pooled connection serves request after request without a round trip,
        # and is set again only when it passes between a request and other work.
        wanted = timeouts if has_request_context() else None
        if connection_record.info.get(_TIMEOUTS) == wanted:  # a new connection carries none
            return
        with dbapi_connection.cursor() as cursor:
            if wanted:
                cursor.execute("SELECT set_config('statement_timeout', %s, false), set_config('lock_timeout', %s, false)",
                               wanted)
            else:
                cursor.execute("RESET statement_timeout")
                cursor.execute("RESET lock_timeout")
        dbapi_connection.commit()  # a SET in a transaction that rolls back would be undone with it
        connection_record.info[_TIMEOUTS] = wanted


def lock_for_write(statement=None):
    """Take the lock a read-check-write needs, before reading; returns the locked row's scalar.

    PostgreSQL: the rows of ``statement`` are locked ``FOR NO KEY UPDATE``,
    which does not conflict with the key-share locks that inserts referencing
    them take (an outbox row naming the municipality), so the two cannot
    deadlock. SQLite: the transaction holds the database's write lock (a
    write request already does from its first statement).
    """
    session = db.session
    conn = session.connection()
    if conn.dialect.name == "sqlite":
        if not conn.info.get(_IMMEDIATE):
            _sqlite_take_write_lock(conn)
        return session.scalar(statement) if statement is not None else None
    if statement is None:
        return None
    return session.scalar(statement.with_for_update(key_share=True))  # FOR NO KEY UPDATE


def serialise(name: str) -> None:
    """One transaction at a time, across every server, for work named ``name``
    (until it commits or rolls back): a PostgreSQL advisory lock, SQLite's write lock."""
    conn = db.session.connection()
    if conn.dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": zlib.crc32(name.encode())})
    elif not conn.info.get(_IMMEDIATE):
        _sqlite_take_write_lock(conn)

"""Retention (個人情報保護法's safety measures): erase what is kept past its period, and leave no copy in the pages.

``flask --app wsgi retention purge`` runs every purge, commits, then rewrites
the tables it changed: an UPDATE or DELETE leaves the old text in the
database's free space (PostgreSQL's dead tuples, SQLite's free pages) until
the table is rewritten. ``retention vacuum`` does only the rewrite.

* SQLite: ``VACUUM`` rebuilds the whole file, then a ``TRUNCATE`` checkpoint
  empties the write-ahead log, which would otherwise still hold old pages.
* PostgreSQL: ``VACUUM (FULL, ANALYZE)`` of each changed table (with its TOAST
  table and indexes), outside a transaction. A plain VACUUM frees dead tuples
  but may leave their bytes in the page; FULL writes a new file — without
  the rows no open snapshot can see, so it first waits for the transactions
  older than the purge to end. It holds an ACCESS EXCLUSIVE lock on the table
  while it runs; ``lock_timeout`` makes it give up rather than queue every
  request behind it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from portal.extensions import db

VACUUM_LOCK_TIMEOUT = "10s"


class VacuumError(RuntimeError):
    pass


@dataclass(frozen=True)
class Purge:
    """One kind of personal data that leaves after its period; a feature registers its own.

    ``run(settings)`` erases what is past its period across every municipality
    (it sets the scope it needs), flushes without committing and returns how
    many rows it erased; ``report(n, settings)`` says so in Japanese.
    ``tables`` are those it writes, for the VACUUM afterwards. Lower ``order``
    runs first.
    """

    name: str
    order: int
    tables: tuple[str, ...]
    run: Callable[[Mapping], int]
    report: Callable[[int, Mapping], str]


# Code, not state: filled once at import of the features that keep personal data.
_PURGES: dict[str, Purge] = {}


def register_purge(purge: Purge) -> None:
    _PURGES[purge.name] = purge


def purges() -> list[Purge]:
    return sorted(_PURGES.values(), key=lambda p: p.order)


def all_tables() -> tuple[str, ...]:
    """Every table a purge writes to; what ``retention vacuum`` rewrites."""
    return tuple(dict.fromkeys(t for p in purges() for t in p.tables))


def purge_all(settings: Mapping) -> list[tuple[Purge, int]]:
    """Every registered purge, in order, in the current session (flush, no commit)."""
    return [(purge, purge.run(settings)) for purge in purges()]


def vacuum(tables: tuple[str, ...] | list[str], wait_seconds: float | None = None) -> None:
    """Rewrite ``tables`` so that erased text is gone from the database files. Not inside a transaction.

    ``wait_seconds`` (default RETENTION_VACUUM_WAIT_SECONDS): how long PostgreSQL
    waits for transactions older than the purge to end before giving up.
    """
    if wait_seconds is None:
        wait_seconds = float(current_app.config["RETENTION_VACUUM_WAIT_SECONDS"])
    engine = db.engine
    raw = engine.raw_connection()  # below SQLAlchemy's transaction handling: VACUUM refuses any transaction
    try:
        dbapi = raw.driver_connection
        if engine.dialect.name == "sqlite":
            _vacuum_sqlite(dbapi)
        elif engine.dialect.name == "postgresql":
            _vacuum_postgresql(dbapi, tables, wait_seconds)
        else:
            raise VacuumError(f"VACUUM is not implemented for {engine.dialect.name}")
    finally:
        raw.close()


def _vacuum_sqlite(conn) -> None:
    if conn.in_transaction:
        conn.commit()
    previous = conn.isolation_level
    conn.isolation_level = None  # autocommit
    try:
        conn.execute("VACUUM")
        busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    finally:
        conn.isolation_level = previous
    if busy:
        raise VacuumError("another connection kept the write-ahead log from being emptied; run again")


# Is anything older than the horizon still running anywhere in the cluster (a snapshot's
# xmin is cluster-wide, and VACUUM FULL's own snapshot would inherit it), or does a
# backend of this database hold a snapshot older than it?
_OLDER_THAN_HORIZON = """
    SELECT pg_snapshot_xmin(pg_current_snapshot()) < %(h)s::xid8,
           ARRAY(SELECT pid FROM pg_stat_activity
                 WHERE datname = current_database() AND pid <> pg_backend_pid()
                   AND age(backend_xmin) > age(xid(%(h)s::xid8)))
"""


def _vacuum_postgresql(conn, tables, wait_seconds: float) -> None:
    from psycopg import sql

    conn.rollback()
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            _refuse_tables_not_owned(cur, tables)
            _wait_for_older_snapshots(cur, wait_seconds)
            # A long rewrite must not hit the application's statement timeout; a lock
            # it cannot get soon must not make every request wait behind it.
            cur.execute("SET statement_timeout = 0")
            cur.execute(sql.SQL("SET lock_timeout = {}").format(sql.Literal(VACUUM_LOCK_TIMEOUT)))
            try:
                for table in dict.fromkeys(tables):
                    cur.execute(sql.SQL("VACUUM (FULL, ANALYZE) {}").format(sql.Identifier(table)))
            finally:
                cur.execute("RESET statement_timeout")
                cur.execute("RESET lock_timeout")
    finally:
        conn.autocommit = False


def _refuse_tables_not_owned(cur, tables) -> None:
    """VACUUM of a table its role does not own only warns and skips it: say so instead.

    The app's own role (row-level security) owns nothing; purges run as the
    owner, like migrations and backups.
    """
    cur.execute(
        "SELECT c.relname FROM pg_class c WHERE c.relname = ANY(%s) AND c.relkind = 'r' "
        "AND NOT pg_has_role(current_user, c.relowner, 'USAGE') "
        "AND NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)",
        (list(dict.fromkeys(tables)),),
    )
    not_owned = [r[0] for r in cur.fetchall()]
    if not_owned:
        raise VacuumError(
            f"{', '.join(not_owned)} の所有者ではないため VACUUM できません。"
            "テーブルの所有者（db upgrade を実行するロール）で retention vacuum を実行してください"
        )


def _wait_for_older_snapshots(cur, wait_seconds: float) -> None:
    """Wait until no transaction can still see the rows just purged.

    VACUUM FULL copies a dead row version into the new file while any
    transaction older than its deletion runs — a request, a report, ANALYZE,
    or, since snapshots span the cluster, a transaction in another database of
    the same server: the text would survive the rewrite.
    """
    cur.execute("SELECT pg_snapshot_xmax(pg_current_snapshot())::text")
    horizon = cur.fetchone()[0]
    give_up = time.monotonic() + wait_seconds
    while True:
        cur.execute(_OLDER_THAN_HORIZON, {"h": horizon})
        running, pids = cur.fetchone()
        if not running and not pids:
            return
        if time.monotonic() >= give_up:
            who = f"pid {', '.join(map(str, pids))}" if pids else "another database on the server"
            raise VacuumError(f"transactions older than the purge are still open ({who})")
        time.sleep(0.2)


# ---------------------------------------------------------------------------
# Command line

retention_cli = AppGroup("retention", help="保存期間を過ぎた個人情報の消去（相談の記述・閲覧記録・送信済みメール）")


def run_purge(overrides: Mapping | None = None, vacuum_after: bool = True) -> None:
    """``retention purge``; also what ``handovers purge`` runs (``overrides``: settings from its options)."""
    settings = {**current_app.config, **(overrides or {})}
    done = purge_all(settings)
    db.session.commit()
    db.session.remove()  # no connection of ours stays in a transaction while VACUUM runs
    for purge, n in done:
        click.echo(purge.report(n, settings))
    tables = [t for purge, n in done if n for t in purge.tables]
    if not tables:
        return
    if not vacuum_after:
        click.echo("VACUUM を省略しました。消去した文字列はデータベースの空き領域に残っています。"
                   "後で flask --app wsgi retention vacuum を実行してください。")
        return
    _vacuum_and_say(tables)


def _vacuum_and_say(tables) -> None:
    try:
        vacuum(tables)
    except Exception as e:  # the purge is committed: say what is left to do
        raise click.ClickException(
            f"消去は完了しましたが、VACUUM に失敗しました（{e}）。"
            "flask --app wsgi retention vacuum を再実行してください。") from e
    click.echo(f"データベースの空き領域から消去した文字列を取り除きました（VACUUM: {', '.join(dict.fromkeys(tables))}）。")


@retention_cli.command("purge")
@click.option("--no-vacuum", is_flag=True, help="消去の後の VACUUM を省略する（後で retention vacuum を実行）")
def purge_command(no_vacuum: bool) -> None:
    """Erase what is past its retention period, then VACUUM the changed tables.

    Consultations' free text after HANDOVER_RETENTION_YEARS, access-log rows
    after ACCESS_LOG_RETENTION_YEARS (and those of purged consultations at
    once), sent and failed e-mail after OUTBOX_RETENTION_DAYS.
    """
    run_purge(vacuum_after=not no_vacuum)


@retention_cli.command("vacuum")
def vacuum_command() -> None:
    """Rewrite every table a purge writes to (after a purge run with --no-vacuum)."""
    _vacuum_and_say(all_tables())


def register_cli(app: Flask) -> None:
    app.cli.add_command(retention_cli)

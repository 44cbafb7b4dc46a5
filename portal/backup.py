"""Backups of the whole database, taken while the server runs, and their restore.

SQLite: the online backup API (``sqlite3.Connection.backup``) with a busy
timeout, into a temporary file renamed only once it is complete and checked.
PostgreSQL: ``pg_dump --format=custom`` and ``pg_restore`` in one transaction;
connection parameters go through ``PG*`` environment variables, so the
password never appears on a command line. The application keeps no files of
its own beside the database (imports are read in memory, slips and exports are
rendered on request), so the database is the whole of its data.

Restore refuses a database that holds any row unless forced.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import time
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, func, inspect, select, table
from sqlalchemy.engine import URL, make_url


class BackupError(RuntimeError):
    """Shown to the operator as one line (Japanese / English)."""


def _url(database_url: str) -> URL:
    return make_url(database_url)


def kind(database_url: str) -> str:
    name = _url(database_url).get_backend_name()
    if name not in ("sqlite", "postgresql"):
        raise BackupError(f"このデータベース（{name}）のバックアップには対応していません。")
    return name


def default_path(instance_path: str, database_url: str) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    suffix = ".sqlite3" if kind(database_url) == "sqlite" else ".pgdump"
    return Path(instance_path) / "backups" / f"kosodate-{stamp}{suffix}"


def rows_by_table(database_url: str) -> dict[str, int]:
    """Row count of every table (the restore's emptiness check, and the tests' comparison)."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            names = sorted(inspect(conn).get_table_names())
            return {name: conn.scalar(select(func.count()).select_from(table(name))) for name in names}
    finally:
        engine.dispose()


def _holds_rows(database_url: str) -> int:
    return sum(n for name, n in rows_by_table(database_url).items() if name != "alembic_version")


# ------------------------------------------------------------------ SQLite


def _sqlite_file(database_url: str) -> Path:
    database = _url(database_url).database
    if not database or database == ":memory:":
        raise BackupError("メモリ上の SQLite データベースはバックアップできません。")
    return Path(database)


def _check_sqlite(conn: sqlite3.Connection, what: str) -> None:
    try:
        verdict = conn.execute("PRAGMA quick_check").fetchone()[0]
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.DatabaseError as e:
        raise BackupError(f"{what}は SQLite のデータベースとして読めません: {e}") from e
    if verdict != "ok":
        raise BackupError(f"{what}の整合性検査に失敗しました: {verdict}")
    if "municipalities" not in tables:
        raise BackupError(f"{what}は kosodate-net のデータベースではありません（municipalities がありません）。")


_BUSY, _LOCKED = 5, 6  # SQLITE_BUSY, SQLITE_LOCKED


def _copy(src: sqlite3.Connection, dst: sqlite3.Connection, busy_timeout: float) -> None:
    """src.backup(dst), but giving up after busy_timeout: Python retries a locked step forever."""
    deadline = time.monotonic() + busy_timeout

    def progress(status: int, remaining: int, total: int) -> None:
        if status in (_BUSY, _LOCKED) and time.monotonic() > deadline:
            raise BackupError(f"データベースが {busy_timeout:g} 秒を超えてロックされているため中止しました。"
                              " / The database stayed locked longer than the busy timeout.")

    src.backup(dst, progress=progress, sleep=0.05)


def _sqlite_create(database_url: str, path: Path, busy_timeout: float) -> None:
    source = _sqlite_file(database_url)
    if not source.exists():
        raise BackupError(f"データベースのファイル {source} がありません。")
    partial = path.with_name(path.name + ".part")
    try:
        with closing(sqlite3.connect(source, timeout=busy_timeout)) as src, closing(sqlite3.connect(partial)) as dst:
            # One step (all pages): a consistent snapshot even while the server writes.
            _copy(src, dst, busy_timeout)
            _check_sqlite(dst, "作成したバックアップ")
    except BaseException:
        partial.unlink(missing_ok=True)  # never leave half a backup that looks like one
        raise
    os.replace(partial, path)


def _sqlite_restore(database_url: str, path: Path, busy_timeout: float) -> None:
    target = _sqlite_file(database_url)
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as src:
        _check_sqlite(src, f"バックアップ {path} ")
        with closing(sqlite3.connect(target, timeout=busy_timeout)) as dst:
            _copy(src, dst, busy_timeout)  # replaces every page of the target at once


# ------------------------------------------------------------------ PostgreSQL

_PG_QUERY_ENV = {"sslmode": "PGSSLMODE", "sslrootcert": "PGSSLROOTCERT", "sslcert": "PGSSLCERT",
                 "sslkey": "PGSSLKEY", "connect_timeout": "PGCONNECT_TIMEOUT", "host": "PGHOST", "port": "PGPORT"}


def pg_environment(database_url: str) -> dict[str, str]:
    """libpq environment for the URL: the password travels here, never on a command line."""
    url = _url(database_url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    for value, name in ((url.host, "PGHOST"), (url.port, "PGPORT"), (url.username, "PGUSER"),
                        (url.password, "PGPASSWORD"), (url.database, "PGDATABASE")):
        if value is not None:
            env[name] = str(value)
    for key, name in _PG_QUERY_ENV.items():
        value = url.query.get(key)
        if value is not None:
            env[name] = value if isinstance(value, str) else value[0]
    return env


def _tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise BackupError(f"{name} が見つかりません（Debian: apt-get install postgresql-client）。")
    return found


def _major(version_text: str) -> int:
    match = re.search(r"(\d+)(?:\.\d+)?", version_text)
    if not match:
        raise BackupError(f"バージョンを読み取れません: {version_text!r}")
    return int(match.group(1))


def _check_tool_version(tool: str, database_url: str) -> None:
    """pg_dump/pg_restore must be at least the server's major version (older ones refuse or lose data)."""
    tool_major = _major(subprocess.run([tool, "--version"], capture_output=True, text=True, check=True).stdout)
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            server_major = int(conn.exec_driver_sql("SHOW server_version_num").scalar()) // 10000
    finally:
        engine.dispose()
    if tool_major < server_major:
        raise BackupError(
            f"{Path(tool).name} {tool_major} は PostgreSQL {server_major} のサーバーには使えません。"
            f"{server_major} 以上のクライアントを入れてください。")


def _run(argv: list[str], database_url: str, what: str) -> None:
    done = subprocess.run(argv, env=pg_environment(database_url), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        hint = ""
        if "row-level security" in done.stderr:
            hint = "（行レベルセキュリティ: テーブル所有者として、BYPASSRLS を持つロールかスーパーユーザーで実行してください）"
        raise BackupError(f"{what}に失敗しました{hint}: {done.stderr.strip()}")


def _pg_create(database_url: str, path: Path) -> None:
    pg_dump = _tool("pg_dump")
    _check_tool_version(pg_dump, database_url)
    partial = path.with_name(path.name + ".part")
    try:
        _run([pg_dump, "--format=custom", "--no-password", f"--file={partial}"], database_url, "pg_dump")
        _run([_tool("pg_restore"), "--list", str(partial)], database_url, "作成したバックアップの検査")
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, path)


def _pg_restore(database_url: str, path: Path) -> None:
    pg_restore = _tool("pg_restore")
    _check_tool_version(pg_restore, database_url)
    _run([pg_restore, "--list", str(path)], database_url, f"バックアップ {path} の読み取り")
    # One transaction: a restore that fails leaves the database as it was. Owners and
    # grants are the target server's business (flask db create-app-role grants again).
    _run([pg_restore, "--no-password", "--single-transaction", "--exit-on-error", "--no-owner",
          "--no-privileges", "--clean", "--if-exists", f"--dbname={_url(database_url).database}", str(path)],
         database_url, "pg_restore")


# ------------------------------------------------------------------ entry points


def create(database_url: str, path: Path, busy_timeout: float = 30.0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        raise BackupError(f"{path} は既にあります。上書きはしません。")
    if kind(database_url) == "sqlite":
        try:
            _sqlite_create(database_url, path, busy_timeout)
        except sqlite3.Error as e:  # e.g. still locked after busy_timeout
            raise BackupError(f"SQLite のバックアップに失敗しました: {e}") from e
    else:
        _pg_create(database_url, path)
    return path


def restore(database_url: str, path: Path, *, force: bool = False, busy_timeout: float = 30.0) -> None:
    if not path.is_file():
        raise BackupError(f"バックアップ {path} がありません。")
    rows = _holds_rows(database_url)
    if rows and not force:
        raise BackupError(
            f"復元先のデータベースには既に {rows} 行のデータがあります。上書きする場合は --force を付けてください。"
            f" / The target database holds {rows} rows; pass --force to overwrite it.")
    if kind(database_url) == "sqlite":
        try:
            _sqlite_restore(database_url, path, busy_timeout)
        except sqlite3.Error as e:
            raise BackupError(f"SQLite の復元に失敗しました: {e}") from e
    else:
        _pg_restore(database_url, path)

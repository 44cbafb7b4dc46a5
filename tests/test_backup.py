"""`flask backup create/restore` (issue 10): a round trip gives the same rows and the same pages."""

from __future__ import annotations

import os
import re
import sqlite3
import uuid

import psycopg
import pytest
from sqlalchemy.engine import make_url

from portal import backup, create_app
from portal.accounts.models import Role
from portal.extensions import db
from tenants import row_security
from tests import databases
from tests import factories as f
from tests.conftest import TEST_CONFIG, arranged, csrf_token, login

M = f"/m/{f.NIIZA}"
TOKEN = re.compile(r'(name="csrf-token" content="|name="csrf_token" type="hidden" value=")[^"]+"')


@pytest.fixture
def world(app):
    with arranged(app):
        niiza, kawagoe = f.municipality(f.NIIZA), f.municipality(f.KAWAGOE)
        f.network(niiza)
        hoken = f.organization(niiza, "新座市保健センター", "hoken_center", phone="048-477-1111")
        f.contact(hoken, "見本 花子", phone="048-999-0001")
        f.organization(kawagoe, "川越市保健センター", "hoken_center")
        f.declaration(niiza)
        return {"desk": f.user(Role.DESK, niiza).email, "hoken": hoken.id}


@pytest.fixture
def fresh_url(database, tmp_path):
    """A new, empty database of the same kind: where a restore goes."""
    if database.name == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored.sqlite3'}"
        return
    name = f"kosodate_restore_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    yield databases.pg_create(name)
    databases.pg_drop(name)


def _url(app) -> str:
    return app.config["SQLALCHEMY_DATABASE_URI"]


@pytest.fixture
def admin(app, database):
    """The app as the operator runs backups: on PostgreSQL as the tables' owner (RLS would hide rows)."""
    if database.name == "sqlite":
        return app
    return create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": database.url})


def _regrant(database) -> list[str]:
    # With TEST_POSTGRES_AS_APP_ROLE=1 (the default) the app's role needs its grants back after a
    # PostgreSQL restore; SQLite has no roles (and `--app-role` is refused there).
    return ["--app-role", databases.APP_ROLE] if database.name == "postgresql" and databases.AS_APP_ROLE else []


def _page(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, path
    return TOKEN.sub(r'\1…"', response.get_data(as_text=True))


def _pages(client, world) -> dict[str, str]:
    paths = (f"{M}/", f"{M}/members", f"{M}/members/{world['hoken']}", f"{M}/network", f"{M}/audit")
    return {p: _page(client, p) for p in paths}


def _desk_through_the_app(app, world):
    client = app.test_client()
    login(client, world["desk"])
    path = f"{M}/members/new"
    response = client.post(path, data={"name": "子育てひだまり", "category": "npo", "status": "active",
                                       "csrf_token": csrf_token(client)})
    assert response.status_code == 302
    client.get(response.headers["Location"])  # shows (and so uses up) the flash message
    return client


def test_round_trip_gives_identical_rows_and_pages(app, admin, world, fresh_url, tmp_path):
    client = _desk_through_the_app(app, world)
    before_pages = _pages(client, world)
    before_rows = backup.rows_by_table(_url(admin))
    assert before_rows["member_organizations"] == 3 and before_rows["audit_entries"] >= 1

    path = tmp_path / "kosodate.backup"
    result = admin.test_cli_runner().invoke(args=["backup", "create", str(path)])
    assert result.exit_code == 0, result.output
    assert "バックアップを作成しました" in result.output and path.stat().st_size > 0
    assert not list(tmp_path.glob("*.part"))

    restored = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": fresh_url})
    result = restored.test_cli_runner().invoke(args=["backup", "restore", str(path)])
    assert result.exit_code == 0, result.output
    assert backup.rows_by_table(fresh_url) == before_rows
    if fresh_url.startswith("postgresql"):  # the row-level security came along with the tables
        with psycopg.connect(fresh_url.replace("+psycopg", "")) as conn:
            forced = {r[0] for r in conn.execute("SELECT relname FROM pg_class WHERE relforcerowsecurity")}
        assert forced == set(row_security.tenant_tables())

    again = restored.test_client()
    login(again, world["desk"])  # the same password works: the hashes came along
    assert _pages(again, world) == before_pages
    with restored.app_context():
        db.engine.dispose()


def test_restore_refuses_a_database_with_rows_unless_forced(app, admin, world, database, tmp_path):
    url = _url(admin)
    path = tmp_path / "kosodate.backup"
    assert admin.test_cli_runner().invoke(args=["backup", "create", str(path)]).exit_code == 0
    _desk_through_the_app(app, world)  # a change after the backup
    after_change = backup.rows_by_table(url)

    result = admin.test_cli_runner().invoke(args=["backup", "restore", str(path)])
    assert result.exit_code == 1
    assert "既に" in result.output and "--force を付けてください" in result.output
    assert backup.rows_by_table(url) == after_change  # untouched

    result = admin.test_cli_runner().invoke(args=["backup", "restore", str(path), "--force", *_regrant(database)])
    assert result.exit_code == 0, result.output
    rows = backup.rows_by_table(url)
    assert rows["member_organizations"] == after_change["member_organizations"] - 1  # back to the backup
    client = app.test_client()
    login(client, world["desk"])
    assert "子育てひだまり" not in _page(client, f"{M}/members")


def test_bad_backup_files_are_refused_and_change_nothing(admin, world, fresh_url, tmp_path):
    junk = tmp_path / "junk.backup"
    junk.write_bytes(b"not a backup at all" * 100)
    restored = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": fresh_url})
    runner = restored.test_cli_runner()
    result = runner.invoke(args=["backup", "restore", str(junk)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert sum(n for t, n in backup.rows_by_table(fresh_url).items()) == 0
    result = runner.invoke(args=["backup", "restore", str(tmp_path / "missing.backup")])
    assert result.exit_code == 1 and "がありません" in result.output
    # and an existing file is never overwritten by a new backup
    result = admin.test_cli_runner().invoke(args=["backup", "create", str(junk)])
    assert result.exit_code == 1 and "上書きはしません" in result.output
    assert junk.read_bytes().startswith(b"not a backup")
    with restored.app_context():
        db.engine.dispose()


def test_default_path_is_under_instance_backups(admin, world, database, tmp_path):
    admin.instance_path = str(tmp_path)  # not the repository's instance/
    result = admin.test_cli_runner().invoke(args=["backup", "create"])
    assert result.exit_code == 0, result.output
    made = result.output.split(": ", 1)[1].split(" (", 1)[0]
    assert made.startswith(os.path.join(str(tmp_path), "backups", "kosodate-"))
    assert made.endswith(".sqlite3" if database.name == "sqlite" else ".pgdump")
    assert os.path.getsize(made) > 0


def test_sqlite_backup_while_a_writer_holds_its_transaction(app, world, database, tmp_path):
    """The server keeps writing during a backup: the copy is consistent and leaves uncommitted rows out."""
    if database.name != "sqlite":
        pytest.skip("pg_dump reads one snapshot by design")
    live = make_url(_url(app)).database
    writer = sqlite3.connect(live, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("UPDATE member_organizations SET name = '書きかけ' WHERE id = ?", (world["hoken"],))
    path = tmp_path / "during.sqlite3"
    try:
        backup.create(_url(app), path, busy_timeout=5)
    finally:
        writer.execute("COMMIT")
        writer.close()
    with sqlite3.connect(path) as copy:
        names = [r[0] for r in copy.execute("SELECT name FROM member_organizations ORDER BY id")]
    assert names == ["新座市保健センター", "川越市保健センター"]


def test_postgres_password_goes_through_the_environment():
    env = backup.pg_environment("postgresql+psycopg://kosodate:s3cret@db.example.jp:6543/kosodate?sslmode=require")
    assert (env["PGUSER"], env["PGPASSWORD"], env["PGHOST"], env["PGPORT"], env["PGDATABASE"], env["PGSSLMODE"]) == (
        "kosodate", "s3cret", "db.example.jp", "6543", "kosodate", "require")


def test_sqlite_backup_that_cannot_get_a_lock_says_so_and_leaves_nothing(app, world, database, tmp_path):
    if database.name != "sqlite":
        pytest.skip("SQLite's locks")
    with app.app_context():
        db.engine.dispose()  # the app's idle WAL connections would keep the exclusive lock out
    writer = sqlite3.connect(make_url(_url(app)).database, isolation_level=None)
    # The app runs in WAL mode, where a writer's transaction (even BEGIN EXCLUSIVE) never blocks
    # readers; only a connection in exclusive locking mode that has written keeps the backup out.
    writer.execute("PRAGMA locking_mode = EXCLUSIVE")
    writer.execute("BEGIN EXCLUSIVE")
    writer.execute("UPDATE member_organizations SET name = name")  # not even readers get in now
    try:
        with pytest.raises(backup.BackupError, match="ロックされているため中止しました"):
            backup.create(_url(app), tmp_path / "locked.sqlite3", busy_timeout=0.1)
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert list(tmp_path.iterdir()) == []


def test_app_role_on_sqlite_is_refused_before_anything_is_restored(app, admin, world, database, tmp_path):
    if database.name != "sqlite":
        pytest.skip("SQLite has no roles")
    url = _url(admin)
    path = tmp_path / "kosodate.backup"
    assert admin.test_cli_runner().invoke(args=["backup", "create", str(path)]).exit_code == 0
    before = backup.rows_by_table(url)
    result = admin.test_cli_runner().invoke(args=["backup", "restore", str(path), "--force", "--app-role", "x"])
    assert result.exit_code == 1
    assert "--app-role を外してください" in result.output and "復元しました" not in result.output
    assert backup.rows_by_table(url) == before

"""PostgreSQL row-level security behind the ORM scoping (issue 11).

As the application's role (no superuser, no BYPASSRLS, owns nothing): a raw
query without the settings sees no tenant row; with a municipality's setting
only that municipality's rows; the prefecture's and the everything settings
their own; writes outside the setting are refused. And the application itself
works under that role: desk pages, the dashboard, writes and a CLI command.
"""

from __future__ import annotations

import re

import psycopg
import pytest
from sqlalchemy import func, select, text

from portal import create_app
from portal.accounts.models import Role
from portal.extensions import db
from tenants import row_security
from tenants.members.models import MemberOrganization
from tenants.models import Municipality
from tenants.scoping import EVERYTHING, Scope, scoped, set_scope
from tests import databases
from tests import factories as f
from tests.conftest import TEST_CONFIG, arranged, csrf_token, login

CHIYODA = "131016"  # 東京都千代田区: another prefecture


@pytest.fixture
def world(database, app):
    if database.name != "postgresql":
        pytest.skip("row-level security is PostgreSQL's")
    with arranged(app):
        niiza, kawagoe, chiyoda = f.municipality(f.NIIZA), f.municipality(f.KAWAGOE), f.municipality(CHIYODA)
        for m, name in ((niiza, "新座市保健センター"), (kawagoe, "川越市保健センター"), (chiyoda, "千代田区保健所")):
            if m is not chiyoda:
                f.network(m)
            f.contact(f.organization(m, name, "hoken_center", phone="048-477-1111"), f"{m.name} 担当")
        ids = {"niiza": niiza.id, "kawagoe": kawagoe.id, "chiyoda": chiyoda.id}
        users = {"desk": f.user(Role.DESK, niiza).email, "prefecture": f.user(Role.PREFECTURE).email}
    app_url = databases.pg_grant_app_role(database.url)
    return {"ids": ids, "users": users, "url": app_url, "owner_url": database.url}


def _psycopg(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _names(conn, table="member_organizations") -> list[str]:
    return sorted(r[0] for r in conn.execute(f"SELECT name FROM {table}"))


def test_every_tenant_table_is_forced_behind_the_policy(world):
    with psycopg.connect(_psycopg(world["owner_url"])) as conn:
        forced = {r[0] for r in conn.execute(
            "SELECT relname FROM pg_class WHERE relkind = 'r' AND relrowsecurity AND relforcerowsecurity")}
        policies = {r[0] for r in conn.execute("SELECT tablename FROM pg_policies WHERE policyname = 'tenant_scope'")}
        role = conn.execute("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = %s",
                            (databases.APP_ROLE,)).fetchone()
    assert set(row_security.tenant_tables()) == forced == policies
    assert len(forced) >= 17 and "municipalities" not in forced and "users" not in forced
    assert role == (False, False)


def test_raw_sql_as_the_app_role_sees_only_what_the_setting_allows(world):
    ids = world["ids"]
    with psycopg.connect(_psycopg(world["url"])) as conn:
        assert conn.execute("SELECT current_user").fetchone()[0] == databases.APP_ROLE
        # No setting: not one tenant row, in any tenant table — but the tenants themselves are there.
        for table in row_security.tenant_tables():
            assert conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0] == 0, table
        assert conn.execute("SELECT count(*) FROM municipalities").fetchone()[0] >= 3
        conn.rollback()

        conn.execute("SELECT set_config('app.municipality_id', %s, true)", (str(ids["niiza"]),))
        assert _names(conn) == ["新座市保健センター"]
        assert _names(conn, "contacts") == ["新座市 担当"]
        assert conn.execute("SELECT count(*) FROM networks").fetchone()[0] == 1
        # Writing another municipality's row, or moving one there, is refused by the database itself.
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
            conn.execute("INSERT INTO networks (municipality_id, name, formation, existing_council, activity_summary,"
                         " established_on, created_at, updated_at) SELECT %s, n.name, n.formation, n.existing_council,"
                         " n.activity_summary, n.established_on, n.created_at, n.updated_at FROM networks n",
                         (ids["chiyoda"],))
        conn.rollback()
        conn.execute("SELECT set_config('app.municipality_id', %s, true)", (str(ids["niiza"]),))
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
            conn.execute("UPDATE member_organizations SET municipality_id = %s", (ids["kawagoe"],))
        conn.rollback()
        # transaction-local: gone with the transaction
        assert conn.execute("SELECT count(*) FROM member_organizations").fetchone()[0] == 0
        conn.rollback()

        conn.execute("SELECT set_config('app.prefecture_code', '11', true)")
        assert _names(conn) == ["川越市保健センター", "新座市保健センター"]
        conn.rollback()

        conn.execute("SELECT set_config('app.scope', 'everything', true)")
        assert _names(conn) == ["千代田区保健所", "川越市保健センター", "新座市保健センター"]
        conn.rollback()


def _app_as_role(world):
    return create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": world["url"]})


def test_the_session_scope_sets_the_database_settings(world):
    """Raw SQL through the session's connection follows the ORM scope, also when it changes mid-transaction."""
    ids = world["ids"]
    app = _app_as_role(world)
    with app.app_context():
        def raw_names():
            db.session.scalar(select(func.count(Municipality.id)))  # any statement brings the settings up to date
            return sorted(db.session.connection().execute(text("SELECT name FROM member_organizations")).scalars())

        assert raw_names() == []  # no scope
        with scoped(db.session, Scope(municipality_id=ids["niiza"])):
            assert raw_names() == ["新座市保健センター"]
            with scoped(db.session, Scope(prefecture_code="11")):
                assert raw_names() == ["川越市保健センター", "新座市保健センター"]
            assert raw_names() == ["新座市保健センター"]
            savepoint = db.session.begin_nested()
            set_scope(db.session, EVERYTHING)
            assert len(raw_names()) == 3
            savepoint.rollback()  # takes its set_config along; the next statement re-applies the scope
            set_scope(db.session, Scope(municipality_id=ids["kawagoe"]))
            assert raw_names() == ["川越市保健センター"]
        assert raw_names() == []
        db.session.rollback()
        db.engine.dispose()


def test_a_request_sends_the_settings_once_when_its_scope_needs_them(world, monkeypatch):
    """The empty settings are not sent at BEGIN (a new transaction has them already); the
    municipality's are sent once, before the first statement that needs them."""
    app = _app_as_role(world)
    client = app.test_client()
    login(client, world["users"]["desk"])
    assert client.get("/m/112305/network").status_code == 200  # connections made, roles looked at
    sent: list[str] = []
    execute = psycopg.Cursor.execute
    monkeypatch.setattr(psycopg.Cursor, "execute", lambda self, query, *a, **k: (sent.append(str(query)),
                                                                                 execute(self, query, *a, **k))[1])
    assert client.get("/m/112305/network").status_code == 200
    settings = [q for q in sent if "set_config" in q]
    assert len(settings) == 1 and "app.municipality_id" in settings[0]
    assert not any("timeout" in q for q in sent)
    sent.clear()
    assert client.get("/account/password").status_code == 200  # no scope: no settings at all
    assert sent and not any("set_config" in q for q in sent)
    with app.app_context():
        db.engine.dispose()


def test_the_settings_are_only_ever_set_for_one_transaction():
    """What lets a request skip the empty settings at BEGIN (row_security._first_look): no code
    sets app.* for a whole connection (SET without LOCAL, set_config(…, false))."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    session_wide = re.compile(r"[\"']\s*SET\s+(SESSION\s+)?app\.|set_config\(\s*'app\.[^']*'\s*,[^)]*,\s*false", re.I)
    found = [str(path.relative_to(root)) for folder in ("portal", "tenants", "dashboard", "tools")
             for path in (root / folder).rglob("*.py") if session_wide.search(path.read_text(encoding="utf-8"))]
    assert found == []
    assert "true)" in row_security._SET and row_security._SET.count("true") == 3


def test_a_role_default_for_the_settings_is_overridden_at_every_begin(world):
    """Fail closed even when the role was given app.scope = 'everything' as a default."""
    database = psycopg.connect(_psycopg(world["owner_url"])).info.dbname
    owner = psycopg.connect(_psycopg(world["owner_url"]), autocommit=True)
    owner.execute(f'ALTER ROLE {databases.APP_ROLE} IN DATABASE "{database}" SET app.scope = \'everything\'')
    try:
        app = _app_as_role(world)
        with app.app_context():
            raw = text("SELECT count(*) FROM member_organizations")
            assert db.session.connection().execute(text("SHOW app.scope")).scalar() == ""
            assert db.session.connection().execute(raw).scalar() == 0
            db.session.rollback()
            assert db.session.connection().execute(raw).scalar() == 0
            db.session.rollback()
            db.engine.dispose()
    finally:
        owner.execute(f'ALTER ROLE {databases.APP_ROLE} IN DATABASE "{database}" RESET app.scope')
        owner.close()


def _post(client, path, data):
    return client.post(path, data={**data, "csrf_token": csrf_token(client)})


def test_the_application_works_as_the_app_role(world):
    app = _app_as_role(world)
    client = app.test_client()
    login(client, world["users"]["desk"])
    for path in ("/m/112305/", "/m/112305/members", "/m/112305/network", "/m/112305/whom?q=ほけん",
                 "/m/112305/handovers", "/m/112305/audit"):
        response = client.get(path)
        assert response.status_code == 200, path
    members = client.get("/m/112305/members").get_data(as_text=True)
    assert "新座市保健センター" in members and "川越市保健センター" not in members

    response = _post(client, "/m/112305/members/new", {"name": "子育てひだまり", "category": "npo", "status": "active"})
    assert response.status_code == 302
    assert "子育てひだまり" in client.get("/m/112305/members").get_data(as_text=True)

    official = app.test_client()
    login(official, world["users"]["prefecture"])
    dashboard = official.get("/dashboard/")
    assert dashboard.status_code == 200
    assert "新座市" in dashboard.get_data(as_text=True)

    result = app.test_cli_runner().invoke(args=["handovers", "escalate"])  # an everything-scope command
    assert result.exit_code == 0, result.output

    with app.app_context():
        set_scope(db.session, EVERYTHING)
        org = db.session.scalar(select(MemberOrganization).where(MemberOrganization.name == "子育てひだまり"))
        assert org.municipality_id == world["ids"]["niiza"]
        db.session.rollback()
        db.engine.dispose()


def test_create_app_role_refuses_a_superuser(world):
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": world["owner_url"]})
    result = app.test_cli_runner().invoke(args=["db", "create-app-role", "postgres"])
    assert result.exit_code == 1
    assert "スーパーユーザーか BYPASSRLS のため" in result.output
    result = app.test_cli_runner().invoke(args=["db", "create-app-role", "Robert'); DROP TABLE users;--"])
    assert result.exit_code == 1 and "英小文字" in result.output
    result = app.test_cli_runner().invoke(args=["db", "create-app-role", databases.APP_ROLE])
    assert result.exit_code == 0 and f"ロール {databases.APP_ROLE} に権限を付与しました" in result.output
    with app.app_context():
        db.engine.dispose()

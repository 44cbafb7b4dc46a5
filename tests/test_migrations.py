"""Alembic: upgrade from empty gives exactly the models' schema; downgrade works."""

import os
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text

from portal import create_app
from portal.extensions import db
from tests import databases
from tests.conftest import TEST_CONFIG


@pytest.fixture
def empty_database_url(database, tmp_path):
    if database.name == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrations.sqlite3'}"
        return
    name = f"kosodate_migrations_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    url = databases.pg_create(name)
    yield url
    databases.pg_drop(name)


def test_upgrade_matches_models_and_downgrade_empties(empty_database_url):
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": empty_database_url})
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True, "render_as_batch": True})
            diff = compare_metadata(context, db.metadata)
        assert diff == [], f"models and migrations differ: {diff}"

        downgrade(revision="base")  # an empty database: nothing to lose, so not forced
        tables = set(inspect(db.engine).get_table_names()) - {"alembic_version"}
        assert tables == set()

        upgrade()  # and back up again, cleanly
        assert {"users", "municipalities", "networks"} <= set(inspect(db.engine).get_table_names())
        db.engine.dispose()


# The revision that creates the dashboard's tables, and the one before it.
DASHBOARD_REVISION = "6d2a5b0f3c88"
BEFORE_DASHBOARD = "5a1d0c4e7b21"
DASHBOARD_TABLES = {"network_activities", "town_certifications", "network_status_declarations"}


def _a_declaration(conn) -> None:
    """A row in network_status_declarations, the table that revision's downgrade drops last."""
    conn.execute(text(
        "INSERT INTO municipalities (id, code, prefecture_code, prefecture_name, name, kana, kind,"
        " designated_city, latitude, longitude)"
        " VALUES (1, '112305', '11', '埼玉県', '新座市', 'にいざし', '市', false, 35.79, 139.56)"))
    conn.execute(text(
        "INSERT INTO network_status_declarations (status, declared_on, note, created_at, municipality_id)"
        " VALUES ('established', '2026-11-01', '設置しました', '2026-11-01 09:00:00', 1)"))


def _version(conn) -> str:
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()


def test_downgrade_that_would_drop_rows_refuses_and_keeps_everything(empty_database_url, capfd):
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": empty_database_url})
    with app.app_context():
        upgrade(revision=DASHBOARD_REVISION)
        with db.engine.begin() as conn:
            _a_declaration(conn)

        with pytest.raises(SystemExit) as refused:  # Flask-Migrate prints the error and exits 1
            downgrade(revision=BEFORE_DASHBOARD)
        assert refused.value.code == 1
        said = capfd.readouterr().err
        assert "テーブル network_status_declarations に 1 行のデータがあるため中止しました" in said
        assert "Refusing to drop table network_status_declarations holding 1 row(s)" in said
        assert "Traceback" not in said

        # Nothing half-done: the tables dropped before the refusal are back, the row and the version stay.
        assert set(inspect(db.engine).get_table_names()) >= DASHBOARD_TABLES
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT note FROM network_status_declarations")).scalars().all() == ["設置しました"]
            assert _version(conn) == DASHBOARD_REVISION

        downgrade(revision=BEFORE_DASHBOARD, x_arg=["force=1"])
        assert not DASHBOARD_TABLES & set(inspect(db.engine).get_table_names())
        with db.engine.connect() as conn:
            assert _version(conn) == BEFORE_DASHBOARD
        db.engine.dispose()


def test_the_environment_variable_also_forces(empty_database_url):
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": empty_database_url,
                      "KOSODATE_ALLOW_DESTRUCTIVE_DOWNGRADE": True})
    with app.app_context():
        upgrade(revision=DASHBOARD_REVISION)
        with db.engine.begin() as conn:
            _a_declaration(conn)
        downgrade(revision=BEFORE_DASHBOARD)
        assert not DASHBOARD_TABLES & set(inspect(db.engine).get_table_names())
        db.engine.dispose()


def test_dropping_a_column_with_values_refuses(empty_database_url):
    """The guard covers drop_column too (no revision drops one yet), also inside batch_alter_table."""
    from alembic.operations import Operations

    from portal import migration_guard

    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": empty_database_url})
    with app.app_context():
        upgrade(revision=DASHBOARD_REVISION)
        migration_guard.install()
        with db.engine.begin() as conn:
            _a_declaration(conn)
            ops = Operations(MigrationContext.configure(conn, opts={"render_as_batch": True}))
            with (pytest.raises(migration_guard.DataLossRefused, match=r"network_status_declarations\.note"),
                  ops.batch_alter_table("network_status_declarations") as batch):
                batch.drop_column("note")
            with ops.batch_alter_table("network_status_declarations") as batch:
                batch.drop_column("declared_by_id")  # all NULL: nothing lost, so it proceeds
        assert "declared_by_id" not in {c["name"] for c in inspect(db.engine).get_columns("network_status_declarations")}
        assert "note" in {c["name"] for c in inspect(db.engine).get_columns("network_status_declarations")}
        db.engine.dispose()


def _policies(url: str) -> set[tuple]:
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, p.policyname, p.cmd, p.qual, p.with_check"
            " FROM pg_class c LEFT JOIN pg_policies p ON p.tablename = c.relname AND p.schemaname = 'public'"
            " WHERE c.relkind = 'r' AND c.relnamespace = 'public'::regnamespace AND c.relname <> 'alembic_version'"))
        found = {tuple(r) for r in rows}
    engine.dispose()
    return found


def test_row_security_after_upgrade_equals_the_models(empty_database_url, database, app):
    """Migrations give every TenantScoped table the same policy as tenants.row_security (PostgreSQL)."""
    if database.name != "postgresql":
        pytest.skip("row-level security is PostgreSQL's")
    migrated = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": empty_database_url})
    with migrated.app_context():
        upgrade()
        db.engine.dispose()
    from tenants.row_security import tenant_tables

    policies = _policies(empty_database_url)
    assert policies == _policies(database.url)  # the test database: create_all + row_security.install
    assert {r[0] for r in policies if r[1] and r[2] and r[3] == "tenant_scope"} == set(tenant_tables())


# The revision that creates the dashboard's summaries, and the one before it.
SUMMARIES_REVISION = "3f7a9c2e5b18"
BEFORE_SUMMARIES = "8e4c2a7d9b15"


def test_the_summaries_revision_fills_them_as_a_rebuild_would(empty_database_url):
    """Its own copy of the computation (dashboard.summary.rebuild, written out) agrees with the app's."""
    from datetime import date, timedelta

    from dashboard import summary
    from portal.timeutil import today_jst
    from tenants.handovers.models import HandoverDay
    from tenants.members.models import Contact, MemberOrganization
    from tenants.scoping import EVERYTHING, set_scope
    from tests.test_coverage_rule import _kept

    today = today_jst()
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": empty_database_url})
    with app.app_context():
        upgrade(revision=BEFORE_SUMMARIES)
        with db.engine.begin() as conn:  # rows as they were before the revision, around the app's listeners
            _a_declaration(conn)
            orgs = MemberOrganization.__table__
            for oid, (category, status) in enumerate((("hoikusho", "active"), ("npo", "active"), ("shogakko", "left"),
                                                      ("hoken_center", "active")), start=1):
                conn.execute(orgs.insert().values(id=oid, municipality_id=1, name=f"団体{oid}", name_key=f"団体{oid}",
                                                  category=category, status=status))
            confirmed = [None, today, today - timedelta(days=30), today - timedelta(days=400), today]
            for cid, day in enumerate(confirmed, start=1):
                conn.execute(Contact.__table__.insert().values(
                    id=cid, municipality_id=1, organization_id=1 + cid % 3, name=f"担当{cid}", name_key=f"担当{cid}",
                    last_confirmed_on=day))
            for day, sent in ((date(2025, 1, 31), 2), (date(2025, 2, 1), 1), (date(2025, 2, 28), 3), (today, 1)):
                conn.execute(HandoverDay.__table__.insert().values(municipality_id=1, day=day, sent=sent, answered=1,
                                                                   on_time=1))
        upgrade(revision=SUMMARIES_REVISION)
        set_scope(db.session, EVERYTHING)
        filled = _kept()
        summary.rebuild(db.session)
        assert _kept() == filled
        assert filled["dashboard_member_totals"] == {(3, 3, 1)}  # (active organisations, their contacts, municipality)
        assert len(filled["dashboard_handover_months"]) == 3
        db.session.commit()
        db.session.remove()
        # Derived figures only: going back drops them without -x force=1, and nothing else.
        downgrade(revision=BEFORE_SUMMARIES)
        tables = set(inspect(db.engine).get_table_names())
        assert not {t for t in tables if t.startswith("dashboard_")}
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM contacts")).scalar() == len(confirmed)
        db.engine.dispose()

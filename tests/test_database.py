"""Transactions, locks and timeouts of portal/database.py (issue 10 items 1, 2 and 10), on both databases."""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager

import pytest
from sqlalchemy import select, text

from portal.accounts.models import Role
from portal.extensions import db
from portal.mail.models import OutboxMessage
from tenants.core.audit import AuditEntry
from tenants.handovers.models import Consultation, Handover, HandoverDay
from tenants.members.models import Contact
from tests import factories as f
from tests.conftest import arranged, csrf_token, logged_in, login
from tests.support.handovers import count, handover_world, load, send, sent_id

M = f"/m/{f.NIIZA}"
OUR_500 = "エラーが発生しました"


@contextmanager
def failing_insert(app, database, table: str):
    """A trigger that makes every INSERT into ``table`` fail: a real failing statement, no mock.

    DDL runs as the tables' owner on a plain connection: the app's PostgreSQL role
    may create nothing, and the session's tenant scoping refuses text() on tenant tables.
    """
    if database.name == "sqlite":
        with app.app_context():
            engine = db.engine
        create = [f"CREATE TRIGGER fail_{table} BEFORE INSERT ON {table} BEGIN SELECT RAISE(ABORT, 'injected'); END"]
        drop = [f"DROP TRIGGER fail_{table}"]
    else:
        engine = database.owner
        create = [
            "CREATE FUNCTION fail_insert() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'injected'; END $$",
            f"CREATE TRIGGER fail_{table} BEFORE INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION fail_insert()",
        ]
        drop = [f"DROP TRIGGER fail_{table} ON {table}", "DROP FUNCTION fail_insert()"]
    with engine.begin() as conn:
        for statement in create:
            conn.execute(text(statement))
    try:
        yield
    finally:
        with engine.begin() as conn:
            for statement in drop:
                conn.execute(text(statement))


@pytest.fixture
def world(app):
    return handover_world(app)


def test_a_request_that_fails_after_send_handover_leaves_no_handover(app, database, world):
    # send_handover writes the handover inside a savepoint, then the day's
    # count: that second write fails, so the whole request must roll back.
    with arranged(app):
        consultation_id = f.consultation(world.desk).id
    desk = logged_in(app, world.desk)
    with failing_insert(app, database, "handover_days"):
        response = send(desk, consultation_id, str(world.hoken))
    assert response.status_code == 500
    html = response.get_data(as_text=True)
    assert OUR_500 in html and "ログアウト" in html  # our page, drawn (with the signed-in user) after the failed statement
    assert count(app, Handover) == 0
    assert count(app, HandoverDay) == 0
    assert count(app, OutboxMessage, OutboxMessage.kind == "handover_received") == 0
    assert load(app, Consultation, consultation_id).hop_count == 0
    # Nothing half-sent: the retry goes through, counted and notified.
    handover_id = sent_id(send(desk, consultation_id, str(world.hoken)))
    assert load(app, Handover, handover_id).status == "sent"
    assert load(app, Consultation, consultation_id).hop_count == 1
    assert count(app, HandoverDay) == 1
    assert count(app, OutboxMessage, OutboxMessage.kind == "handover_received") == 2  # the centre's two users


@pytest.fixture
def desk_with_contact(app):
    with arranged(app):
        m = f.municipality(f.NIIZA)
        f.network(m)
        org = f.organization(m, "新座市保健センター")
        contact = f.contact(org, "山田 花子", confirmed=None)
        return {"desk": f.user(Role.DESK, m).email, "contact_id": contact.id}


def test_the_error_page_renders_after_a_failed_statement(app, client, database, desk_with_contact):
    # 「今日確認した」 writes the contact, then its audit entry: the audit INSERT fails.
    login(client, desk_with_contact["desk"])
    token = csrf_token(client)
    with failing_insert(app, database, "audit_entries"):
        response = client.post(f"{M}/contacts/{desk_with_contact['contact_id']}/confirm", data={"csrf_token": token})
    assert response.status_code == 500
    assert OUR_500 in response.get_data(as_text=True)
    with arranged(app) as session:
        assert session.get(Contact, desk_with_contact["contact_id"]).last_confirmed_on is None
        assert session.scalar(select(AuditEntry).where(AuditEntry.action == "confirm")) is None
    # The next request of the same browser works normally.
    assert client.get(f"{M}/members").status_code == 200


def test_every_sqlite_connection_runs_wal_with_busy_timeout_and_secure_delete(app, database):
    if database.name != "sqlite":
        pytest.skip("SQLite only")
    with app.app_context():
        conn = db.session.connection()
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == app.config["SQLITE_BUSY_TIMEOUT_MS"]
        assert conn.exec_driver_sql("PRAGMA secure_delete").scalar() == 1


def _sqlite_path(app) -> str:
    with app.app_context():
        return db.engine.url.database


def _other_writer_is_locked_out(path: str) -> bool:
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError as e:
        assert "locked" in str(e)
        return True
    finally:
        other.close()


def test_sqlite_write_requests_hold_the_write_lock_from_their_first_statement(app, database):
    if database.name != "sqlite":
        pytest.skip("SQLite only")
    path = _sqlite_path(app)
    with app.test_request_context("/", method="POST"):
        db.session.execute(text("SELECT 1"))
        assert _other_writer_is_locked_out(path)
        db.session.rollback()
        assert not _other_writer_is_locked_out(path)
    with app.test_request_context("/", method="GET"):
        db.session.execute(text("SELECT 1"))
        assert not _other_writer_is_locked_out(path)  # readers never hold up the writer (WAL)
        db.session.rollback()


def test_sqlite_a_reading_transaction_takes_the_write_lock_at_its_first_write(app, database):
    # Without it, a transaction that has read cannot write once another writer committed.
    if database.name != "sqlite":
        pytest.skip("SQLite only")
    path = _sqlite_path(app)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("CREATE TABLE scratch (x INTEGER)")
    with app.app_context():
        db.session.execute(text("SELECT count(*) FROM scratch"))
        other.execute("INSERT INTO scratch VALUES (1)")  # another writer commits after our read
        db.session.execute(text("INSERT INTO scratch VALUES (2)"))
        assert _other_writer_is_locked_out(path)
        db.session.commit()
    assert sorted(x for (x,) in other.execute("SELECT x FROM scratch")) == [1, 2]
    other.close()


def test_postgresql_requests_have_statement_and_lock_timeouts(app, database):
    if database.name != "postgresql":
        pytest.skip("PostgreSQL only")
    with app.test_request_context("/"):
        assert db.session.execute(text("SHOW statement_timeout")).scalar() == "20s"
        assert db.session.execute(text("SHOW lock_timeout")).scalar() == "10s"
        db.session.rollback()
    with app.app_context():  # CLI work (migrations, synth) is not cut off
        assert db.session.execute(text("SHOW statement_timeout")).scalar() == "0"
        db.session.rollback()


def test_postgresql_timeouts_follow_a_pooled_connection_between_requests_and_other_work(app, database):
    """Set once per connection for requests (no round trip per request), reset for other work, and
    not undone by a request that rolled back."""
    if database.name != "postgresql":
        pytest.skip("PostgreSQL only")

    def timeouts():
        return (db.session.execute(text("SHOW statement_timeout")).scalar(),
                db.session.execute(text("SHOW lock_timeout")).scalar())

    with app.app_context():
        db.engine.dispose()  # one connection from here on, used by each block in turn
    for _ in range(2):
        with app.test_request_context("/"):
            assert timeouts() == ("20s", "10s")
            db.session.rollback()
        with app.test_request_context("/", method="POST"):
            assert timeouts() == ("20s", "10s")
            db.session.commit()
        with app.app_context():
            assert timeouts() == ("0", "0")
            db.session.commit()
    with app.app_context():
        assert db.engine.pool.checkedin() == 1


def test_postgresql_locks_municipality_rows_for_no_key_update(app, database):
    # An outbox row naming the municipality (key share lock) must not wait for,
    # or deadlock with, the registration/reconfirmation lock of that row.
    if database.name != "postgresql":
        pytest.skip("PostgreSQL only")
    from portal.database import lock_for_write
    from tenants.models import Municipality

    with arranged(app):
        municipality_id = f.municipality(f.NIIZA).id
    with app.test_request_context("/", method="POST"):
        lock_for_write(select(Municipality.id).where(Municipality.id == municipality_id))
        with db.engine.connect() as other:
            other.exec_driver_sql("SET lock_timeout = '1s'")
            key_share = select(Municipality.id).where(Municipality.id == municipality_id)
            other.execute(key_share.with_for_update(read=True, key_share=True)).all()  # what an FK check takes
            other.rollback()
        db.session.rollback()

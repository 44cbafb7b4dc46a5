"""Retention: purged text is gone from the database — its rows, its files and its pages.

Every piece of text gets a unique marker. After ``retention purge`` the
markers of what was purged are found nowhere: not by a query, not in the
SQLite file or its write-ahead log, not in PostgreSQL's relation files (heap
and TOAST, read as superuser after a CHECKPOINT). The markers of what is kept
are found in the same bytes, which shows the bytes were read.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from portal import create_app
from portal.config import ConfigError
from portal.extensions import db
from portal.mail.models import FAILED, PENDING, SENT, OutboxMessage
from portal.timeutil import utcnow
from tenants.handovers.models import Consultation, Handover, HandoverAccess
from tenants.scoping import EVERYTHING, set_scope
from tests import factories as f
from tests.conftest import TEST_CONFIG, arranged

TABLES = ("consultations", "handovers", "handover_access_log", "outbox_messages")


def marker(what: str) -> str:
    return f"MARK-{what}-{uuid.uuid4().hex[:12]}"


def _consultation(m, summary: str, closed_days_ago: int | None, message: str) -> int:
    now = utcnow()
    c = Consultation(municipality_id=m.id, category="development", age_band="age1_2", consent="given",
                     summary=f"発達の相談（{summary}）", case_reference=summary[:40],
                     contact_preference=f"電話 {summary}", status="open" if closed_days_ago is None else "closed",
                     created_at=now - timedelta(days=(closed_days_ago or 0) + 30),
                     closed_at=None if closed_days_ago is None else now - timedelta(days=closed_days_ago),
                     hop_count=1)
    db.session.add(c)
    db.session.flush()
    db.session.add(Handover(municipality_id=m.id, consultation_id=c.id, status="resolved", message=message,
                            sent_at=c.created_at, response_due_at=c.created_at + timedelta(days=1)))
    return c.id


def _access(m, consultation_id: int | None, label: str, days_ago: int) -> None:
    # As after the staff member's account was removed: the log still says who, as text.
    db.session.add(HandoverAccess(municipality_id=m.id, user_id=None, user_label=f"職員 {label} <{label}@example.jp>",
                                  consultation_id=consultation_id, action="view",
                                  at=utcnow() - timedelta(days=days_ago)))


def _mail(status: str, body_marker: str, days_ago: int) -> None:
    at = utcnow() - timedelta(days=days_ago)
    db.session.add(OutboxMessage(
        kind="test", to_address=f"{body_marker.lower()}@example.jp", subject="お知らせ",
        body_text=f"次のリンクから確認してください。\nhttps://example.jp/invite/{body_marker}\n",
        status=status, attempts=1 if status != PENDING else 0, created_at=at, next_attempt_at=at,
        sent_at=at if status == SENT else None, message_id=f"<{uuid.uuid4().hex}@kosodate-net.local>"))


@pytest.fixture
def stored(app, database):
    """Rows to purge and rows to keep, each with its own marker."""
    if database.name == "sqlite":
        with app.app_context():  # the mode production runs in: old pages could linger in the -wal file
            db.session.execute(text("PRAGMA journal_mode=WAL"))
            db.session.commit()
    gone = {k: marker(k) for k in ("summary", "message", "old_view", "view_of_purged",
                                   "old_sent", "old_failed")}
    kept = {k: marker(k) for k in ("recent_summary", "open_summary", "recent_view", "recent_sent",
                                   "old_pending")}
    with arranged(app):
        m = f.municipality(f.NIIZA)
        old = _consultation(m, gone["summary"], 6 * 366, gone["message"])
        recent = _consultation(m, kept["recent_summary"], 30, marker("recent_message"))
        _consultation(m, kept["open_summary"], None, marker("open_message"))
        _access(m, old, gone["view_of_purged"], 1)  # recent, but of a consultation purged now
        _access(m, recent, gone["old_view"], 6 * 366)  # older than the log is kept
        _access(m, recent, kept["recent_view"], 1)
        _mail(SENT, gone["old_sent"], 100)
        _mail(FAILED, gone["old_failed"], 100)
        _mail(SENT, kept["recent_sent"], 10)
        _mail(PENDING, kept["old_pending"], 100)  # never delivered: a purge never loses mail
    return gone, kept


@pytest.fixture
def owner(app, database):
    """The app as the tables' owner: purges, like migrations and backups, run as the owner
    (the app's own role owns nothing under row-level security, so it may not VACUUM)."""
    if database.name == "sqlite":
        yield app
        return
    owner_app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": database.url})
    yield owner_app
    with owner_app.app_context():
        db.session.remove()
        db.engine.dispose()


def database_bytes(app, database) -> bytes:
    """What is on disk: the SQLite file and its WAL, or PostgreSQL's relation files of the tables."""
    with app.app_context():
        if database.name == "sqlite":
            path = Path(db.engine.url.database)
            return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal"), Path(f"{path}-journal"))
                            if p.exists())
        db.session.execute(text("CHECKPOINT"))  # buffers to the files
        chunks = []
        for table in TABLES:
            for rel in db.session.scalars(text(
                    "SELECT oid FROM pg_class WHERE oid = CAST(:t AS regclass) "
                    "UNION ALL SELECT reltoastrelid FROM pg_class WHERE oid = CAST(:t AS regclass) "
                    "AND reltoastrelid <> 0"), {"t": table}):
                chunks.append(db.session.scalar(
                    text("SELECT pg_read_binary_file(pg_relation_filepath(CAST(:oid AS oid)))"), {"oid": rel}))
        db.session.rollback()
        return b"".join(bytes(c) for c in chunks)


def test_purge_leaves_no_purged_text_in_rows_files_or_pages(app, owner, database, stored):
    gone, kept = stored
    runner = owner.test_cli_runner()
    before = database_bytes(owner, database)
    for text_ in (*gone.values(), *kept.values()):
        assert text_.encode() in before, f"{text_} not stored to begin with: the byte check would prove nothing"

    result = runner.invoke(args=["retention", "purge"])

    assert result.exit_code == 0, result.output
    assert "相談 1 件" in result.output and "閲覧記録 2 件" in result.output and "メール 2 件" in result.output
    assert "VACUUM" in result.output
    with app.app_context():
        set_scope(db.session, EVERYTHING)
        assert db.session.scalar(select(func.count()).select_from(HandoverAccess)) == 1
        assert sorted(db.session.scalars(select(OutboxMessage.status))) == [PENDING, SENT]
        summaries = list(db.session.scalars(select(Consultation.summary)))
        assert None in summaries and len(summaries) == 3  # the figures' rows stay
        db.session.rollback()

    after = database_bytes(owner, database)
    for key, text_ in gone.items():
        assert text_.encode() not in after, f"purged {key} still readable in the database's bytes"
    for key, text_ in kept.items():
        assert text_.encode() in after, f"kept {key} missing"

    again = runner.invoke(args=["retention", "purge"])
    assert again.exit_code == 0 and "相談 0 件" in again.output and "閲覧記録 0 件" in again.output
    assert "VACUUM" not in again.output  # nothing changed, nothing to rewrite


def test_no_vacuum_defers_the_rewrite_and_retention_vacuum_does_it(app, owner, database, stored):
    runner = owner.test_cli_runner()
    gone, _ = stored
    result = runner.invoke(args=["handovers", "purge", "--no-vacuum"])  # the old command runs every purge
    assert result.exit_code == 0, result.output
    assert "retention vacuum" in result.output and "閲覧記録 2 件" in result.output

    done = runner.invoke(args=["retention", "vacuum"])

    assert done.exit_code == 0, done.output
    after = database_bytes(owner, database)
    assert [k for k, t in gone.items() if t.encode() in after] == []


def test_retention_periods_come_from_the_environment(monkeypatch, tmp_path):
    url = f"sqlite:///{tmp_path / 'c.sqlite3'}"
    monkeypatch.setenv("ACCESS_LOG_RETENTION_YEARS", "3")
    monkeypatch.setenv("OUTBOX_RETENTION_DAYS", "30")
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": url})
    assert (app.config["ACCESS_LOG_RETENTION_YEARS"], app.config["OUTBOX_RETENTION_DAYS"]) == (3, 30)
    for bad in ("0", "-1", "1.5", "forever"):
        monkeypatch.setenv("OUTBOX_RETENTION_DAYS", bad)
        with pytest.raises(ConfigError, match="OUTBOX_RETENTION_DAYS"):
            create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": url})



def test_vacuum_as_a_role_that_owns_no_table_says_so(app, runner, database, stored):
    if database.name == "sqlite" or app.config["SQLALCHEMY_DATABASE_URI"] == database.url:
        pytest.skip("only the app's own PostgreSQL role owns no table")
    result = runner.invoke(args=["retention", "purge"])
    assert result.exit_code != 0
    assert "所有者ではないため VACUUM できません" in result.output
    assert "retention vacuum" in result.output

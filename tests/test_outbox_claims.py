"""The outbox batch on a realistic outbox: thousands of sent rows, a few hundred due, statistics gathered.

On PostgreSQL ``id IN (SELECT … LIMIT n FOR UPDATE SKIP LOCKED)`` was planned
as a semi-join that re-ran the subquery and claimed every due message; these
tests pin that a worker takes at most its batch and two workers never the same.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from portal.extensions import db
from portal.mail.models import PENDING, SENDING, SENT, OutboxMessage
from portal.mail.worker import _claim_ids, claim_due
from portal.timeutil import utcnow

SENT_ROWS = 5000
DUE_ROWS = 300
BATCH = 50


def _row(i: int, now, **values) -> dict:
    return {"kind": "test", "to_address": f"parent{i}@example.jp", "subject": "お知らせ",
            "body_text": "新しいお知らせがあります。\nhttps://example.jp/n/1\n",
            "message_id": f"<outbox-{i}-{uuid.uuid4().hex}@kosodate-net.local>",
            "created_at": now - timedelta(days=30), "attempts": 0, "last_error": "", **values}


@pytest.fixture
def busy_outbox(app):
    """5,000 sent messages and 300 due ones, with statistics as production has them.

    Autovacuum analyses the table while the queue is empty (everything sent)
    and not again for a burst of a few hundred (under its 10 % threshold): the
    planner then expects one due row at most, the plan that re-ran the subquery.
    """
    now = utcnow()
    sent = [_row(i, now, status=SENT, attempts=1, next_attempt_at=now - timedelta(days=30, minutes=i % 1000),
                 sent_at=now - timedelta(days=29)) for i in range(SENT_ROWS)]
    due = [_row(SENT_ROWS + i, now, status=PENDING, next_attempt_at=now - timedelta(seconds=DUE_ROWS - i))
           for i in range(DUE_ROWS)]
    with app.app_context():
        db.session.execute(insert(OutboxMessage), sent)
        db.session.commit()
        db.session.execute(text("ANALYZE outbox_messages" if db.engine.dialect.name == "postgresql" else "ANALYZE"))
        db.session.commit()
        db.session.execute(insert(OutboxMessage), due)
        db.session.commit()
    return now


def _statuses(app) -> dict[str, int]:
    with app.app_context():
        return dict(db.session.execute(
            select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all())


def test_two_workers_one_after_the_other_each_claim_their_batch(app, busy_outbox):
    now = busy_outbox
    with app.app_context():
        first = claim_due(now=now, batch=BATCH)  # ... and this worker dies holding its lease
        second = claim_due(now=now, batch=BATCH)

    assert len(first.ids) == BATCH
    assert len(second.ids) == BATCH
    assert not set(first.ids) & set(second.ids)
    assert _statuses(app) == {SENT: SENT_ROWS, SENDING: 2 * BATCH, PENDING: DUE_ROWS - 2 * BATCH}
    # Oldest due first: the first worker got the 50 longest waiting.
    with app.app_context():
        oldest = db.session.scalars(select(OutboxMessage.id).where(OutboxMessage.status != SENT)
                                    .order_by(OutboxMessage.next_attempt_at).limit(BATCH)).all()
    assert sorted(oldest) == list(first.ids)


def test_a_second_worker_claims_its_own_batch_while_the_first_holds_its_transaction(app, busy_outbox, database):
    if database.name != "postgresql":
        pytest.skip("SQLite serialises writers: a second claim waits for the first to commit")
    now = busy_outbox
    with app.app_context(), Session(db.engine) as first:
        # The first worker's claim, its transaction still open: its rows are locked.
        first_ids = _claim_ids(first, now, BATCH, 300, uuid.uuid4().hex)
        second = claim_due(now=now, batch=BATCH)  # another connection, committed
        first.commit()

    assert len(first_ids) == BATCH
    assert len(second.ids) == BATCH
    assert not set(first_ids) & set(second.ids), "a message was claimed by both workers"
    assert _statuses(app) == {SENT: SENT_ROWS, SENDING: 2 * BATCH, PENDING: DUE_ROWS - 2 * BATCH}


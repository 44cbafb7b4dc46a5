"""The outbox worker: claim due messages, deliver them over SMTP, record the outcome.

One run (``deliver_due``):

1. **Claim** up to ``batch`` due messages — pending ones whose next attempt
   has come, and ``sending`` ones whose lease has expired (their worker died)
   — in one UPDATE that sets status ``sending``, a lease (``locked_until``)
   and this run's ``lease_token``, and **commit the claim before talking to
   SMTP**. On PostgreSQL the candidate rows are selected ``FOR UPDATE SKIP
   LOCKED`` into an array evaluated once (``id = ANY(ARRAY(…))``), so two
   workers never claim the same row and one never more than its batch; on
   SQLite the UPDATE takes the database write lock, which serialises workers.
2. **Send** each over one SMTP connection (STARTTLS and login as
   configured). Before each message the lease is renewed; a message whose
   lease was taken over by another worker is left alone.
3. **Record** each outcome at once: ``sent`` is committed right after the
   server accepted the message; a temporary refusal schedules a retry with
   exponential back-off, a permanent one (5xx) or the last attempt marks it
   ``failed``. When the server cannot be reached (down, TLS or login
   refused), the messages go back to ``pending`` without using up attempts:
   mail waits for the server, however long it is down. So do the messages
   left when the session's overall deadline (``SMTP_SESSION_DEADLINE``)
   passes: a server that trickles its replies is cut off then.

Delivery is at least once, never zero times: a message is marked sent only
after the server accepted it. The window for a duplicate is a worker killed
(or losing its database) after the server accepted the DATA but before the
``sent`` mark was committed — the lease then expires and the message is sent
again — and, likewise, a connection that drops after the final "." but
before the server's reply was read. The resend carries the same Message-ID,
so receivers can drop it.

The worker needs an app context (configuration, engine) but no tenant scope:
``OutboxMessage`` is not tenant-scoped. It uses its own session, so it never
commits anything of a caller's.
"""

from __future__ import annotations

import smtplib
import ssl
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.headerregistry import Address

from flask import current_app
from sqlalchemy import and_, any_, func, or_, select, update
from sqlalchemy.orm import Session

from portal.extensions import db
from portal.mail.deadline import DeadlineSMTP, SessionDeadline
from portal.mail.models import ERROR_MAX_CHARS, FAILED, PENDING, SENDING, SENT, OutboxMessage
from portal.mail.services import build_email, sender_address
from portal.timeutil import utcnow

IDLE_LOGGED = "mail.worker.idle_logged"  # app.extensions key: "no SMTP_HOST" was said


@dataclass
class Counts:
    sent: int = 0
    deferred: int = 0  # back to pending: retried later
    failed: int = 0
    skipped: int = 0  # lease taken over by another worker meanwhile
    claimed: int = 0

    def __str__(self) -> str:
        return f"送信 {self.sent} 件、再試行待ち {self.deferred} 件、失敗 {self.failed} 件"


@dataclass(frozen=True)
class Claim:
    token: str
    ids: tuple[int, ...]
    locked_until: datetime


class _ServerUnavailable(Exception):
    """The SMTP server cannot take mail now (down, TLS, login, sender refused)."""


def _due(now: datetime):
    return or_(
        and_(OutboxMessage.status == PENDING, OutboxMessage.next_attempt_at <= now),
        and_(OutboxMessage.status == SENDING, OutboxMessage.locked_until <= now),
    )


def _claim_ids(session: Session, now: datetime, batch: int, lease_seconds: int, token: str) -> list[int]:
    """Mark up to ``batch`` due messages as claimed by ``token``; no commit."""
    locked_until = now + timedelta(seconds=lease_seconds)
    candidates = (
        select(OutboxMessage.id)
        .where(_due(now))
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(batch)
    )
    dialect = session.get_bind().dialect
    if dialect.name == "postgresql":
        # ``id IN (SELECT … LIMIT n FOR UPDATE SKIP LOCKED)`` may be planned as a
        # semi-join that re-runs the subquery per outer row, each run skipping
        # what the last one locked: far more than n claimed. ``ARRAY(SELECT …)``
        # is an InitPlan, evaluated exactly once, so at most n ids come out.
        picked = any_(func.array(candidates.with_for_update(skip_locked=True).scalar_subquery()))
        where = OutboxMessage.id == picked
    else:
        where = OutboxMessage.id.in_(candidates)
    # One statement: it is atomic, and on SQLite it takes the write lock first.
    claim = (
        update(OutboxMessage)
        .where(where, _due(now))
        .values(status=SENDING, locked_until=locked_until, lease_token=token)
        .execution_options(synchronize_session=False)
    )
    if dialect.update_returning:
        return list(session.scalars(claim.returning(OutboxMessage.id)).all())
    session.execute(claim)  # SQLite before 3.35
    return list(session.scalars(select(OutboxMessage.id).where(OutboxMessage.lease_token == token)).all())


def _claim(session: Session, now: datetime, batch: int, lease_seconds: int) -> Claim:
    token = uuid.uuid4().hex
    ids = _claim_ids(session, now, batch, lease_seconds, token)
    session.commit()
    return Claim(token, tuple(sorted(ids)), now + timedelta(seconds=lease_seconds))


def claim_due(now: datetime | None = None, batch: int = 50) -> Claim:
    """Claim what is due (status ``sending`` with a lease) and commit; deliver nothing.

    The first step of ``deliver_due``. Called on its own it leaves the claim
    behind exactly as a worker killed right after claiming would.
    """
    with Session(db.engine) as session:
        return _claim(session, now or utcnow(), batch, current_app.config["MAIL_LEASE_SECONDS"])


def _connect(cfg, deadline: SessionDeadline) -> smtplib.SMTP:
    smtp = DeadlineSMTP(cfg["SMTP_HOST"], cfg["SMTP_PORT"], timeout=cfg["SMTP_TIMEOUT"], deadline=deadline)
    try:
        smtp.ehlo()
        if cfg["SMTP_STARTTLS"]:
            # Verified against the system's CAs (or SSL_CERT_FILE); never falls back to plain text.
            smtp.starttls(context=ssl.create_default_context())
            smtp.ehlo()
        if cfg["SMTP_USERNAME"]:
            smtp.login(cfg["SMTP_USERNAME"], cfg["SMTP_PASSWORD"])
    except BaseException:
        smtp.close()
        raise
    return smtp


def _out_of_time(deadline: SessionDeadline) -> str:
    return f"SMTP サーバーとのやり取りが制限時間（{deadline.seconds:g} 秒）内に終わりませんでした"


def _error_text(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        text = "; ".join(f"{code} {msg.decode(errors='replace') if isinstance(msg, bytes) else msg}"
                         for code, msg in exc.recipients.values())
    elif isinstance(exc, smtplib.SMTPResponseException):
        msg = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        text = f"{exc.smtp_code} {msg}"
    else:
        text = f"{type(exc).__name__}: {exc}"
    return " ".join(text.split())[:ERROR_MAX_CHARS]


def _refusal_code(exc: BaseException) -> int | None:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return min(codes) if codes else None
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code
    return None


def retry_delay(attempts: int, cfg) -> timedelta:
    """Exponential back-off after the ``attempts``-th failed attempt, capped."""
    seconds = cfg["MAIL_RETRY_BASE_SECONDS"] * 2 ** min(attempts, 30)
    return timedelta(seconds=min(seconds, cfg["MAIL_RETRY_MAX_SECONDS"]))


class _Run:
    """One delivery run: the session, the claim and a clock that moves on from ``now``."""

    def __init__(self, session: Session, claim: Claim, now: datetime, cfg) -> None:
        self.session, self.claim, self.now, self.cfg = session, claim, now, cfg
        self._started = time.monotonic()
        self.counts = Counts(claimed=len(claim.ids))

    def clock(self) -> datetime:
        return self.now + timedelta(seconds=time.monotonic() - self._started)

    def _mine(self, message_id: int):
        return and_(OutboxMessage.id == message_id, OutboxMessage.lease_token == self.claim.token,
                    OutboxMessage.status == SENDING)

    def _update(self, where, **values) -> int:
        result = self.session.execute(
            update(OutboxMessage).where(where).values(**values).execution_options(synchronize_session=False)
        )
        self.session.commit()
        return result.rowcount

    def renew(self, message_id: int) -> bool:
        lease = self.clock() + timedelta(seconds=self.cfg["MAIL_LEASE_SECONDS"])
        return self._update(self._mine(message_id), locked_until=lease) == 1

    def mark_sent(self, message_id: int) -> None:
        # The server has accepted the message: that is the truth, whoever holds the lease now.
        self._update(
            and_(OutboxMessage.id == message_id, OutboxMessage.status.in_((PENDING, SENDING))),
            status=SENT, sent_at=self.clock(), attempts=OutboxMessage.attempts + 1,
            locked_until=None, lease_token=None, last_error="",
        )
        self.counts.sent += 1

    def mark_failed_attempt(self, message: OutboxMessage, exc: BaseException, permanent: bool = False) -> None:
        attempts = message.attempts + 1
        code = _refusal_code(exc)
        permanent = permanent or (code is not None and 500 <= code < 600)
        done = {"attempts": attempts, "last_error": _error_text(exc), "locked_until": None, "lease_token": None}
        if permanent or attempts >= self.cfg["MAIL_MAX_ATTEMPTS"]:
            if self._update(self._mine(message.id), status=FAILED, **done):
                self.counts.failed += 1
            current_app.logger.warning("mail %s failed for good after %s attempt(s): %s",
                                       message.message_id, attempts, done["last_error"])
        else:
            if self._update(self._mine(message.id), status=PENDING,
                            next_attempt_at=self.now + retry_delay(attempts, self.cfg), **done):
                self.counts.deferred += 1
            current_app.logger.info("mail %s refused (attempt %s), will retry: %s",
                                    message.message_id, attempts, done["last_error"])

    def release(self, ids: list[int], error: str) -> None:
        """Back to pending, untried: the attempts are not used up."""
        if not ids:
            return
        released = self._update(
            and_(OutboxMessage.id.in_(ids), OutboxMessage.lease_token == self.claim.token,
                 OutboxMessage.status == SENDING),
            status=PENDING, locked_until=None, lease_token=None, last_error=error[:ERROR_MAX_CHARS],
            next_attempt_at=self.now + timedelta(seconds=self.cfg["MAIL_RETRY_BASE_SECONDS"]),
        )
        self.counts.deferred += released


def deliver_due(now: datetime | None = None, batch: int = 50) -> Counts:
    """Deliver what is due now; returns the counts. Needs an app context."""
    app = current_app._get_current_object()
    cfg = app.config
    if not cfg["SMTP_HOST"]:
        if not app.extensions.get(IDLE_LOGGED):
            app.extensions[IDLE_LOGGED] = True
            app.logger.warning("SMTP_HOST is not set: e-mail stays in the outbox (see /admin/outbox)")
        return Counts()
    try:
        sender = sender_address(cfg["SMTP_FROM"])
    except ValueError as e:
        app.logger.error("SMTP_FROM is not usable, nothing is sent: %s", e)
        return Counts()
    now = now or utcnow()
    with Session(db.engine, expire_on_commit=False) as session:
        claim = _claim(session, now, batch, cfg["MAIL_LEASE_SECONDS"])
        if not claim.ids:
            return Counts()
        run = _Run(session, claim, now, cfg)
        messages = session.scalars(
            select(OutboxMessage).where(OutboxMessage.id.in_(claim.ids)).order_by(OutboxMessage.id)
        ).all()
        _send_all(run, messages, sender)
        return run.counts


def _send_all(run: _Run, messages: list[OutboxMessage], sender: Address) -> None:
    # One overall deadline (SMTP_SESSION_DEADLINE): SMTP_TIMEOUT bounds each read only.
    deadline = SessionDeadline(run.cfg["SMTP_SESSION_DEADLINE"])
    try:
        _session(run, messages, sender, deadline)
    finally:
        deadline.cancel()


def _session(run: _Run, messages: list[OutboxMessage], sender: Address, deadline: SessionDeadline) -> None:
    untried = [m.id for m in messages]
    try:
        smtp = _connect(run.cfg, deadline)
    except (OSError, smtplib.SMTPException) as e:
        error = _out_of_time(deadline) if deadline.expired else f"SMTP サーバーに接続できません: {_error_text(e)}"
        current_app.logger.warning("%s (%s message(s) wait)", error, len(untried))
        run.release(untried, error)
        return
    try:
        for message in messages:
            if deadline.expired:
                raise _ServerUnavailable(_out_of_time(deadline))
            untried.remove(message.id)
            if not run.renew(message.id):
                run.counts.skipped += 1  # another worker took it over after our lease expired
                continue
            try:
                email = build_email(message, sender)
            except (ValueError, TypeError) as e:  # it never will be sendable
                run.mark_failed_attempt(message, e, permanent=True)
                continue
            try:
                smtp.send_message(email, from_addr=sender.addr_spec, to_addrs=[message.to_address])
            except smtplib.SMTPSenderRefused as e:
                # Our sender or account is refused: not this message's fault.
                untried.insert(0, message.id)
                raise _ServerUnavailable(f"SMTP サーバーが送信元を拒否しました: {_error_text(e)}") from e
            except (OSError, smtplib.SMTPException) as e:
                if deadline.expired:  # we cut the session: not this message's fault either
                    untried.insert(0, message.id)
                    raise _ServerUnavailable(_out_of_time(deadline)) from e
                run.mark_failed_attempt(message, e)
                answered = isinstance(e, (smtplib.SMTPResponseException, smtplib.SMTPRecipientsRefused))
                if smtp.sock is None or not answered:
                    raise _ServerUnavailable(f"SMTP サーバーとの接続が切れました: {_error_text(e)}") from e
                continue
            # Accepted by the server. Commit the mark now: a crash from here to
            # the commit is the one window in which the message is sent twice.
            run.mark_sent(message.id)
    except _ServerUnavailable as e:
        current_app.logger.warning("%s (%s message(s) wait)", e, len(untried))
        run.release(untried, str(e))
    finally:
        try:
            if deadline.expired:
                raise OSError("no time left for QUIT")
            smtp.quit()  # still under the deadline: a server trickling its goodbye is cut too
        except (OSError, smtplib.SMTPException):
            smtp.close()


def run_forever(interval: float, stop: threading.Event, batch: int = 50, report=None) -> None:
    """Deliver in a loop until ``stop`` is set; errors are logged, never fatal."""
    while not stop.is_set():
        counts = None
        try:
            counts = deliver_due(batch=batch)
        except Exception:  # the database may be away for a moment; try again later
            current_app.logger.exception("mail delivery run failed; retrying in %s s", interval)
        if counts is not None and report is not None and (counts.sent or counts.deferred or counts.failed):
            report(counts)
        if counts is not None and counts.claimed >= batch and counts.sent:
            continue  # more is due and the server takes it: no pause
        stop.wait(interval)

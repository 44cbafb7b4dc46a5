"""E-mail through the outbox, delivered to a real SMTP server on loopback (aiosmtpd).

Time is passed explicitly (``now=``) so that back-off and leases are tested
without sleeping.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import ssl
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword
from flask import abort
from sqlalchemy import func, select

from portal import create_app
from portal.accounts.models import Role
from portal.config import ConfigError
from portal.extensions import db
from portal.mail import MailError, enqueue
from portal.mail.models import OutboxMessage
from portal.mail.worker import claim_due, deliver_due
from portal.security.policy import public
from portal.timeutil import utcnow
from tests import factories as f
from tests.conftest import TEST_CONFIG, arranged, login
from tests.smtp import SmtpServer

ROOT = Path(__file__).resolve().parent.parent


# --- helpers ----------------------------------------------------------------------


def queue(app, addresses, subject="お知らせ", body="新しいお知らせがあります。\nhttps://example.jp/n/1\n"):
    with app.app_context():
        ids = [enqueue(a, subject, body, kind="test").id for a in addresses]
        db.session.commit()
    return ids


def deliver(app, now=None, **kw):
    with app.app_context():
        return deliver_due(now=now, **kw)


def rows(app) -> list[dict]:
    with app.app_context():
        messages = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        return [{c: getattr(m, c) for c in ("id", "status", "attempts", "next_attempt_at", "locked_until",
                                              "last_error", "sent_at", "message_id", "to_address")}
                for m in messages]


def addresses(n: int, prefix: str = "parent") -> list[str]:
    return [f"{prefix}{i}@example.jp" for i in range(n)]


# --- what goes on the wire --------------------------------------------------------


def test_japanese_subject_and_body_arrive_intact_with_ascii_headers(app, smtp):
    subject = "【新座市】子育て支援ネットワークへのご招待（登録のお願い）"
    body = "新座市子育て支援ネットワークに招待されました。\n\n次のリンクから登録してください。\nhttps://example.jp/invite/abc\n"
    app.config["SMTP_FROM"] = "新座市 子育て支援ネットワーク <no-reply@example.jp>"
    with app.app_context():
        stored_id = enqueue("Hanako@Example.JP", subject, body, kind="invitation").message_id
        db.session.commit()

    counts = deliver(app)

    assert (counts.sent, counts.deferred, counts.failed) == (1, 0, 0)
    assert len(smtp.received) == 1
    envelope = smtp.received[0]
    assert envelope.mail_from == "no-reply@example.jp"
    assert envelope.rcpt_tos == ["Hanako@example.jp"]  # the domain is normalised, the local part kept
    raw = smtp.handler.raw()
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert head.isascii(), "headers must be ASCII on the wire"
    assert raw.isascii(), "the UTF-8 body is transfer-encoded"
    assert b"=?utf-8?" in head.lower()
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))

    received = smtp.handler.parsed()
    assert received["Subject"] == subject
    assert received["From"].addresses[0].display_name == "新座市 子育て支援ネットワーク"
    assert received["From"].addresses[0].addr_spec == "no-reply@example.jp"
    assert received["Message-ID"] == stored_id
    assert stored_id.startswith("<outbox-") and stored_id.endswith("@kosodate-net.local>")
    assert received["Date"].datetime is not None
    assert received["Auto-Submitted"] == "auto-generated"
    part = received.get_body()
    assert part.get_content_charset() == "utf-8"
    # Text inside base64 is in canonical form (CRLF line ends, RFC 2045), as clients expect.
    assert part.get_content().replace("\r\n", "\n") == body

    [row] = rows(app)
    assert row["status"] == "sent" and row["attempts"] == 1 and row["sent_at"] is not None
    assert row["locked_until"] is None and row["last_error"] == ""


def test_message_id_domain_is_configurable(app, smtp):
    app.config["MAIL_MESSAGE_ID_DOMAIN"] = "mail.example.jp"
    queue(app, ["a@example.jp"])
    deliver(app)
    assert smtp.handler.parsed()["Message-ID"].endswith("@mail.example.jp>")


# --- the outbox rides in the caller's transaction ---------------------------------


def test_a_rolled_back_request_queues_nothing_and_sends_nothing(app, smtp):
    @app.get("/_test/mail/<outcome>")
    @public
    def _queue_in_request(outcome):
        enqueue("a@example.jp", "お知らせ", "本文です。", kind="test")
        if outcome == "refused":
            abort(422)
        if outcome == "crash":
            raise RuntimeError("the change failed after the mail was queued")
        return "ok"

    client = app.test_client()
    assert client.get("/_test/mail/refused").status_code == 422
    assert client.get("/_test/mail/crash").status_code == 500
    assert rows(app) == []
    assert deliver(app).claimed == 0
    assert smtp.received == []

    # ... while the same request that succeeds commits its mail, which is then sent.
    assert client.get("/_test/mail/ok").status_code == 200
    assert len(rows(app)) == 1
    assert deliver(app).sent == 1
    assert len(smtp.received) == 1


def test_rolled_back_session_leaves_no_message(app):
    with app.app_context():
        enqueue("a@example.jp", "お知らせ", "本文", kind="test")
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 1  # flushed
        db.session.rollback()
    assert rows(app) == []


# --- never lost, never twice --------------------------------------------------------


def test_smtp_down_then_back_every_message_arrives_exactly_once(app, smtp):
    smtp.stop()
    ids = queue(app, addresses(5))
    now = utcnow()

    counts = deliver(app, now=now)

    assert (counts.sent, counts.deferred, counts.failed) == (0, 5, 0)
    down = rows(app)
    assert [r["id"] for r in down] == ids  # none lost
    for r in down:
        assert r["status"] == "pending"
        assert r["attempts"] == 0  # never tried: no attempt used up
        assert r["next_attempt_at"] == now + timedelta(seconds=60)
        assert "接続できません" in r["last_error"]
    # Not due yet: nothing is tried before the back-off has passed.
    assert deliver(app, now=now + timedelta(seconds=30)).claimed == 0

    smtp.start()  # the same port
    later = now + timedelta(seconds=61)
    first = deliver(app, now=later)
    second = deliver(app, now=later + timedelta(hours=1))

    assert first.sent == 5
    assert (second.claimed, second.sent) == (0, 0)
    arrived = smtp.handler.message_ids()
    assert set(arrived) == {r["message_id"] for r in down}
    assert all(n == 1 for n in arrived.values()), arrived
    assert {r["status"] for r in rows(app)} == {"sent"}


def test_a_worker_killed_after_claiming_is_taken_over_when_its_lease_expires(app, smtp):
    ids = queue(app, addresses(3))
    now = utcnow()

    with app.app_context():
        claim = claim_due(now=now)  # ... and the worker dies here
    assert sorted(claim.ids) == ids
    for r in rows(app):
        assert r["status"] == "sending"
        assert r["locked_until"] == now + timedelta(seconds=300)

    # A live lease is respected: another run takes nothing.
    during = deliver(app, now=now + timedelta(seconds=299))
    assert during.claimed == 0 and smtp.received == []

    after = deliver(app, now=now + timedelta(seconds=301))
    again = deliver(app, now=now + timedelta(seconds=400))

    assert after.sent == 3 and again.claimed == 0
    arrived = smtp.handler.message_ids()
    assert sorted(arrived.values()) == [1, 1, 1]
    assert set(arrived) == {r["message_id"] for r in rows(app)}


def test_concurrent_claims_never_take_the_same_message(app):
    ids = queue(app, addresses(30))
    now = utcnow()
    barrier = threading.Barrier(4)
    claimed: list[tuple[int, ...]] = []
    errors: list[BaseException] = []

    def worker():
        try:
            with app.app_context():
                barrier.wait(timeout=5)
                claimed.append(claim_due(now=now, batch=10).ids)
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

    assert errors == []
    every = [i for ids_ in claimed for i in ids_]
    assert len(every) == len(set(every)), "a message was claimed twice"
    assert sorted(every) == ids


# --- retries and failures -----------------------------------------------------------


def test_temporary_refusals_back_off_exponentially_then_fail(app, smtp):
    app.config.update(MAIL_MAX_ATTEMPTS=4, MAIL_RETRY_BASE_SECONDS=60, MAIL_RETRY_MAX_SECONDS=300)
    smtp.handler.data_reply = "451 4.3.0 Try again later"
    queue(app, ["a@example.jp"])
    now = utcnow()
    schedule = []
    for expected_attempts in (1, 2, 3):
        counts = deliver(app, now=now)
        assert counts.deferred == 1
        [r] = rows(app)
        assert r["status"] == "pending" and r["attempts"] == expected_attempts
        assert r["last_error"].startswith("451")
        schedule.append(r["next_attempt_at"] - now)
        assert deliver(app, now=r["next_attempt_at"] - timedelta(seconds=1)).claimed == 0  # not before
        now = r["next_attempt_at"]
    # 60·2¹, 60·2², then 60·2³ = 480 capped at 300.
    assert schedule == [timedelta(seconds=120), timedelta(seconds=240), timedelta(seconds=300)]

    last = deliver(app, now=now)

    assert (last.sent, last.deferred, last.failed) == (0, 0, 1)
    [r] = rows(app)
    assert r["status"] == "failed" and r["attempts"] == 4 and r["sent_at"] is None
    assert deliver(app, now=now + timedelta(days=1)).claimed == 0
    assert smtp.received == []


def test_a_permanent_refusal_fails_at_once_and_the_others_still_go(app, smtp):
    smtp.handler.rcpt_replies["nobody@example.jp"] = "550 5.1.1 User unknown"
    queue(app, ["a@example.jp", "nobody@example.jp", "b@example.jp"])

    counts = deliver(app)

    assert (counts.sent, counts.deferred, counts.failed) == (2, 0, 1)
    by_address = {r["to_address"]: r for r in rows(app)}
    assert by_address["nobody@example.jp"]["status"] == "failed"
    assert by_address["nobody@example.jp"]["attempts"] == 1
    assert "550" in by_address["nobody@example.jp"]["last_error"]
    assert sorted(e.rcpt_tos[0] for e in smtp.received) == ["a@example.jp", "b@example.jp"]


# --- STARTTLS and login -------------------------------------------------------------


class Authenticator:
    def __init__(self, login: str, password: str) -> None:
        self.expected = (login.encode(), password.encode())
        self.seen: list[tuple[str, bytes, bool]] = []

    def __call__(self, server, session, envelope, mechanism, auth_data):
        assert isinstance(auth_data, LoginPassword)
        self.seen.append((mechanism, auth_data.login, session.ssl is not None))
        ok = (auth_data.login, auth_data.password) == self.expected
        return AuthResult(success=ok, handled=False)  # not handled: aiosmtpd answers 535 on failure


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
def test_login_is_used_when_a_username_is_configured(app):
    auth = Authenticator("kosodate", "s3cret-password")
    server = SmtpServer(authenticator=auth, auth_required=True, auth_require_tls=False).start()
    try:
        # Without login the server refuses the sender: the mail waits, no attempt used up.
        server.configure(app)
        queue(app, ["a@example.jp"])
        assert deliver(app).deferred == 1
        [r] = rows(app)
        assert r["status"] == "pending" and r["attempts"] == 0 and "530" in r["last_error"]

        # A wrong password: refused at login, still waiting.
        server.configure(app, SMTP_USERNAME="kosodate", SMTP_PASSWORD="wrong")
        assert deliver(app, now=utcnow() + timedelta(minutes=2)).deferred == 1
        [r] = rows(app)
        assert r["status"] == "pending" and r["attempts"] == 0 and "535" in r["last_error"]

        server.configure(app, SMTP_USERNAME="kosodate", SMTP_PASSWORD="s3cret-password")
        assert deliver(app, now=utcnow() + timedelta(minutes=4)).sent == 1
    finally:
        server.stop()
    assert len(server.received) == 1
    # The wrong password was tried with each mechanism the server offers, then the right one.
    assert len(auth.seen) >= 2 and {login for _, login, _ in auth.seen} == {b"kosodate"}
    assert auth.seen[-1][0] in ("PLAIN", "LOGIN")


@pytest.fixture
def certificate(tmp_path) -> Path:
    if not shutil.which("openssl"):
        pytest.skip("openssl is needed to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )
    return cert


def test_starttls_is_verified_and_login_happens_inside_it(app, certificate, monkeypatch):
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(certificate, certificate.with_name("key.pem"))
    auth = Authenticator("kosodate", "s3cret-password")
    server = SmtpServer(tls_context=tls, require_starttls=True, authenticator=auth, auth_required=True).start()
    plain = SmtpServer().start()
    try:
        queue(app, ["a@example.jp"])
        now = utcnow()

        # A server that offers no STARTTLS: never falls back to plain text.
        plain.configure(app, SMTP_STARTTLS=True)
        assert deliver(app, now=now).deferred == 1
        assert plain.received == []

        # An untrusted certificate is refused.
        server.configure(app, SMTP_STARTTLS=True, SMTP_USERNAME="kosodate", SMTP_PASSWORD="s3cret-password")
        assert deliver(app, now=now + timedelta(minutes=2)).deferred == 1
        [r] = rows(app)
        assert r["status"] == "pending" and "CERTIFICATE_VERIFY_FAILED" in r["last_error"]

        # Trusted (as a private CA would be, through SSL_CERT_FILE): delivered.
        monkeypatch.setenv("SSL_CERT_FILE", str(certificate))
        assert deliver(app, now=now + timedelta(minutes=4)).sent == 1
    finally:
        server.stop()
        plain.stop()
    assert len(server.received) == 1
    assert auth.seen and auth.seen[-1][1:] == (b"kosodate", True)  # logged in over TLS


# --- refused input ------------------------------------------------------------------


@pytest.mark.parametrize("to,subject,message", [
    ("a@example.jp\r\nBcc: victim@example.jp", "お知らせ", "改行"),
    ("a@example.jp", "お知らせ\r\nBcc: victim@example.jp", "改行"),
    ("a@example.jp", "お知らせ\nX-Injected: 1", "改行"),
    ("not-an-address", "お知らせ", "形式が正しくありません"),
    ("山田 <a@example.jp>", "お知らせ", "形式が正しくありません"),
    ("", "お知らせ", "宛先"),
    ("a@example.jp", "", "件名がありません"),
    ("a@example.jp", "長" * 121, "120文字以内"),
], ids=["crlf-in-address", "crlf-in-subject", "lf-in-subject", "not-an-address", "display-name",
        "no-address", "no-subject", "long-subject"])
def test_header_injection_and_bad_input_are_refused(app, to, subject, message):
    with app.app_context():
        with pytest.raises(MailError, match=message) as refused:
            enqueue(to, subject, "本文", kind="test")
        assert isinstance(refused.value, ValueError)
        db.session.commit()
    assert rows(app) == []


def test_long_bodies_and_bad_kinds_are_refused(app):
    with app.app_context():
        with pytest.raises(MailError, match="リンク"):
            enqueue("a@example.jp", "お知らせ", "あ" * 4001, kind="test")
        with pytest.raises(MailError, match="種類"):
            enqueue("a@example.jp", "お知らせ", "本文", kind="Invitation\r\n")
    assert rows(app) == []


# --- without SMTP (development) -----------------------------------------------------


def test_without_smtp_host_messages_stay_in_the_outbox_and_it_is_logged_once(app, caplog, monkeypatch):
    # Alembic's fileConfig() (tests/test_migrations.py, same process) disables existing loggers.
    monkeypatch.setattr(app.logger, "disabled", False)
    app.config["SMTP_HOST"] = ""
    queue(app, ["a@example.jp"])
    with caplog.at_level(logging.WARNING):
        first, second = deliver(app), deliver(app)
    assert first.claimed == second.claimed == 0
    assert [r["status"] for r in rows(app)] == ["pending"]
    assert len([r for r in caplog.records if "SMTP_HOST" in r.getMessage()]) == 1


# --- command line -------------------------------------------------------------------


def test_cli_queue_and_send_once_print_counts(app, runner, smtp):
    smtp.handler.rcpt_replies["later@example.jp"] = "451 4.2.1 Mailbox busy"
    for to in ("a@example.jp", "b@example.jp", "later@example.jp"):
        result = runner.invoke(args=["mail", "queue", "--to", to])
        assert result.exit_code == 0, result.output
        assert "送信待ちに追加しました" in result.output

    result = runner.invoke(args=["mail", "send", "--once"])

    assert result.exit_code == 0, result.output
    assert "送信 2 件、再試行待ち 1 件、失敗 0 件" in result.output
    assert len(smtp.received) == 2
    assert smtp.handler.parsed()["Subject"] == "テストメール（子育て支援ネットワーク）"


def test_cli_send_once_drains_every_batch(app, runner, smtp):
    queue(app, addresses(5))
    result = runner.invoke(args=["mail", "send", "--once", "--batch", "2"])
    assert result.exit_code == 0, result.output
    assert "送信 5 件、再試行待ち 0 件、失敗 0 件" in result.output
    assert sorted(smtp.handler.message_ids().values()) == [1] * 5


def test_cli_queue_refuses_a_bad_address(app, runner):
    result = runner.invoke(args=["mail", "queue", "--to", "not-an-address"])
    assert result.exit_code != 0
    assert "形式が正しくありません" in result.output
    assert rows(app) == []


def test_cli_send_once_without_smtp_says_so(app, runner):
    app.config["SMTP_HOST"] = ""
    queue(app, ["a@example.jp"])
    result = runner.invoke(args=["mail", "send", "--once"])
    assert result.exit_code == 0, result.output
    assert "SMTP_HOST が設定されていない" in result.output
    assert "送信 0 件、再試行待ち 0 件、失敗 0 件" in result.output
    assert [r["status"] for r in rows(app)] == ["pending"]


def test_the_loop_delivers_and_stops_cleanly_on_sigterm(app, smtp):
    env = {
        **os.environ,
        "KOSODATE_ENV": "test",
        "SECRET_KEY": "test-secret",
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp.port),
        "SMTP_STARTTLS": "false",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "mail", "send", "--loop", "--interval", "0.2"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        queue(app, ["a@example.jp", "b@example.jp"])
        deadline = time.monotonic() + 30
        while len(smtp.received) < 2 and time.monotonic() < deadline and worker.poll() is None:
            time.sleep(0.05)
        worker.send_signal(signal.SIGTERM)
        output, _ = worker.communicate(timeout=15)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    assert worker.returncode == 0, output
    assert len(smtp.received) == 2, output
    assert "送信を始めます" in output and "終了しました" in output
    assert {r["status"] for r in rows(app)} == {"sent"}


# --- the administrator's view -------------------------------------------------------


@pytest.fixture
def outbox_users(app):
    with arranged(app):
        niiza = f.municipality(f.NIIZA)
        admin, desk = f.user(Role.ADMIN), f.user(Role.DESK, niiza)
        enqueue("parent@example.jp", "【新座市】ご招待", "ワンタイムリンク https://example.jp/invite/SECRET-TOKEN\n",
                kind="invitation", municipality_id=niiza.id)
        failed = enqueue("nobody@example.jp", "届かないお知らせ", "本文", kind="test")
        failed.status, failed.attempts, failed.last_error = "failed", 8, "550 5.1.1 User unknown"
        return admin.email, desk.email, failed.id


def test_admin_sees_the_outbox_and_can_filter_by_status(app, outbox_users):
    admin, _, failed_id = outbox_users
    client = app.test_client()
    login(client, admin)

    page = client.get("/admin/outbox")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "送信メール（2）" in html
    assert "【新座市】ご招待" in html and "parent@example.jp" in html and "新座市" in html
    assert "送信待ち" in html and "失敗" in html and "550 5.1.1 User unknown" in html
    assert "SMTP_HOST" in html  # not configured in the tests: the page says mail stays here

    failed = client.get("/admin/outbox?status=failed").get_data(as_text=True)
    assert "届かないお知らせ" in failed and "【新座市】ご招待" not in failed
    assert f"/admin/outbox/{failed_id}" in failed


def test_message_bodies_are_shown_only_in_development(app, outbox_users):
    admin, _, _ = outbox_users
    with app.app_context():
        invitation_id = db.session.scalar(select(OutboxMessage.id).where(OutboxMessage.kind == "invitation"))
    client = app.test_client()
    login(client, admin)

    hidden = client.get(f"/admin/outbox/{invitation_id}").get_data(as_text=True)
    assert "【新座市】ご招待" in hidden and "parent@example.jp" in hidden
    assert "SECRET-TOKEN" not in hidden
    assert "開発モード以外では表示しません" in hidden

    app.config["KOSODATE_ENV"] = "development"
    shown = client.get(f"/admin/outbox/{invitation_id}").get_data(as_text=True)
    assert "SECRET-TOKEN" in shown

    assert client.get("/admin/outbox/999999").status_code == 404


def test_the_outbox_is_for_administrators_only(app, outbox_users):
    _, desk, failed_id = outbox_users
    client = app.test_client()
    login(client, desk)
    assert client.get("/admin/outbox").status_code == 403
    assert client.get(f"/admin/outbox/{failed_id}").status_code == 403
    assert client.get("/admin/outbox?status=failed").status_code == 403


# --- configuration ------------------------------------------------------------------


def test_smtp_settings_come_from_the_environment(monkeypatch, tmp_path):
    url = f"sqlite:///{tmp_path}/c.db"
    monkeypatch.setenv("SMTP_HOST", "smtp.example.jp")
    monkeypatch.setenv("SMTP_STARTTLS", "false")
    monkeypatch.setenv("SMTP_FROM", "新座市 <no-reply@example.jp>")
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": url})
    assert app.config["SMTP_HOST"] == "smtp.example.jp"
    assert app.config["SMTP_PORT"] == 587 and app.config["SMTP_STARTTLS"] is False
    assert app.config["MAIL_MAX_ATTEMPTS"] == 8 and app.config["MAIL_LEASE_SECONDS"] == 300

    monkeypatch.setenv("SMTP_STARTTLS", "maybe")
    with pytest.raises(ConfigError, match="SMTP_STARTTLS"):
        create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": url})

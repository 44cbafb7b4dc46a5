"""A trickling SMTP server does not hold a delivery session past SMTP_SESSION_DEADLINE.

The servers here are real sockets on loopback that answer just often enough
that no single read reaches SMTP_TIMEOUT: an endless multi-line greeting
(``220-…`` a line at a time) and a reply to DATA sent a byte at a time.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time

import pytest

from portal import create_app
from portal.config import ConfigError
from portal.mail.worker import deliver_due
from tests.conftest import TEST_CONFIG
from tests.test_mail import addresses, queue, rows

DEADLINE = 2  # seconds
TRICKLE = 0.2  # seconds between lines (or bytes): far below SMTP_TIMEOUT


class TricklingServer:
    """A minimal SMTP server on loopback that trickles: from the greeting on, or after ``fast`` messages."""

    def __init__(self, *, greeting_only: bool, fast: int = 0) -> None:
        self.greeting_only, self.fast = greeting_only, fast
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.2)
        self.port = self.listener.getsockname()[1]
        self.stop = threading.Event()
        self.closed = threading.Event()  # the worker hung up
        self.accepted = 0  # messages answered 250 after DATA
        self.trickled = 0  # messages whose reply was trickled
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def configure(self, app) -> None:
        app.config.update({"SMTP_HOST": "127.0.0.1", "SMTP_PORT": self.port, "SMTP_STARTTLS": False,
                           "SMTP_USERNAME": "", "SMTP_PASSWORD": "", "SMTP_TIMEOUT": 5,
                           "SMTP_SESSION_DEADLINE": DEADLINE})

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=10)
        self.listener.close()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            with conn, contextlib.suppress(OSError):  # the worker cut the connection
                self._talk(conn)
            self.closed.set()

    def _trickle(self, conn, pieces) -> None:
        for piece in pieces:
            if self.stop.is_set():
                return
            conn.sendall(piece)
            time.sleep(TRICKLE)

    def _talk(self, conn) -> None:
        if self.greeting_only:
            self._trickle(conn, iter(lambda: b"220-kosodate trickling greeting\r\n", None))
            return
        conn.sendall(b"220 trickle.example.jp ESMTP\r\n")
        reader = conn.makefile("rb")
        for line in reader:
            verb = line[:4].upper()
            if verb in (b"EHLO", b"HELO"):
                conn.sendall(b"250-trickle.example.jp\r\n250 8BITMIME\r\n")
            elif verb == b"DATA":
                conn.sendall(b"354 go ahead\r\n")
                while reader.readline() not in (b".\r\n", b""):
                    pass
                if self.accepted < self.fast:
                    self.accepted += 1
                    conn.sendall(b"250 OK\r\n")
                else:
                    self.trickled += 1
                    self._trickle(conn, iter(lambda: b"2", None))  # "2222…": a reply line that never ends
                    return
            elif verb == b"QUIT":
                conn.sendall(b"221 bye\r\n")
                return
            else:
                conn.sendall(b"250 OK\r\n")


@pytest.fixture
def trickling(request, app):
    server = TricklingServer(**request.param)
    server.configure(app)
    yield server
    server.close()


def _deliver_in_thread(app):
    """Deliver in a thread, so that a hung session fails the test instead of hanging it."""
    result: dict = {}

    def run():
        with app.app_context():
            started = time.monotonic()
            result["counts"] = deliver_due()
            result["seconds"] = time.monotonic() - started

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout=60)
    assert not thread.is_alive(), "the delivery session is still held by the trickling server"
    return result


@pytest.mark.parametrize("trickling", [{"greeting_only": True}], indirect=True)
def test_an_endless_greeting_is_cut_at_the_deadline_and_the_messages_wait(app, trickling):
    ids = queue(app, addresses(3))

    result = _deliver_in_thread(app)

    # The greeting never ends; SMTP_TIMEOUT (5 s) alone would never fire, a line comes every 0.2 s.
    assert result["seconds"] < 10 * DEADLINE
    assert trickling.closed.wait(10), "the worker did not close the connection"
    counts = result["counts"]
    assert (counts.sent, counts.deferred, counts.failed) == (0, 3, 0)
    after = rows(app)
    assert [r["id"] for r in after] == ids  # none lost
    for r in after:
        assert r["status"] == "pending" and r["attempts"] == 0  # as for a server that is down
        assert r["locked_until"] is None
        assert "制限時間" in r["last_error"]


@pytest.mark.parametrize("trickling", [{"greeting_only": False, "fast": 1}], indirect=True)
def test_a_reply_trickled_a_byte_at_a_time_is_cut_and_only_accepted_mail_counts_as_sent(app, trickling):
    ids = queue(app, addresses(3))

    result = _deliver_in_thread(app)

    assert result["seconds"] < 10 * DEADLINE
    assert trickling.closed.wait(10)
    assert trickling.trickled == 1  # the second message's reply was trickled, and the session cut
    after = {r["id"]: r for r in rows(app)}
    assert sorted(after) == ids
    sent = [r for r in after.values() if r["status"] == "sent"]
    waiting = [r for r in after.values() if r["status"] == "pending"]
    assert len(sent) == trickling.accepted == 1
    assert len(waiting) == 2  # the cut one and the untried one: claimed, not sent, due again
    for r in waiting:
        assert r["attempts"] == 0 and r["locked_until"] is None and "制限時間" in r["last_error"]
    assert result["counts"].sent == 1 and result["counts"].deferred == 2


def test_the_session_deadline_comes_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("SMTP_SESSION_DEADLINE", "45")
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'c.sqlite3'}"})
    assert app.config["SMTP_SESSION_DEADLINE"] == 45
    for bad in ("0", "-3", "soon", "nan", "inf"):
        monkeypatch.setenv("SMTP_SESSION_DEADLINE", bad)
        with pytest.raises(ConfigError, match="SMTP_SESSION_DEADLINE"):
            create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'c.sqlite3'}"})

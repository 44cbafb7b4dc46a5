"""An overall deadline for one SMTP session.

``SMTP_TIMEOUT`` bounds each socket operation only: a server that trickles an
endless multi-line greeting (``220-…`` a line a second) or a reply a byte at a
time never lets one read time out, and would hold the worker and its claimed
messages for ever. A timer cuts the connection when the session's time is up:
shutting the socket down wakes the blocked read, which fails like a dropped
connection, and the worker releases what it has not sent.
"""

from __future__ import annotations

import contextlib
import smtplib
import socket
import threading
import time


class SessionDeadline:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._at = time.monotonic() + seconds
        self._smtp: smtplib.SMTP | None = None
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._cut)
        self._timer.daemon = True

    def watch(self, smtp: smtplib.SMTP) -> None:
        self._smtp = smtp
        self._timer.start()

    def remaining(self) -> float:
        return self._at - time.monotonic()

    @property
    def expired(self) -> bool:
        return time.monotonic() >= self._at

    def _cut(self) -> None:
        with self._lock:
            sock = self._smtp.sock if self._smtp is not None else None
            if sock is None:
                return
            # The plain socket's shutdown, also under TLS: SSLSocket.shutdown would
            # unwrap the TLS object under a read running in the worker's thread.
            with contextlib.suppress(OSError):  # already closed
                socket.socket.shutdown(sock, socket.SHUT_RDWR)

    def cancel(self) -> None:
        self._timer.cancel()
        with self._lock:  # a cut in progress finishes before the socket is closed
            self._smtp = None


class DeadlineSMTP(smtplib.SMTP):
    """``smtplib.SMTP`` whose connection the deadline cuts, from the greeting on."""

    def __init__(self, host: str, port: int, *, timeout: float, deadline: SessionDeadline) -> None:
        self.deadline = deadline
        deadline.watch(self)  # before connecting: a trickling greeting is cut too
        super().__init__(host, port, timeout=min(timeout, max(deadline.remaining(), 0.1)))

    def _get_socket(self, host, port, timeout):
        sock = super()._get_socket(host, port, timeout)
        if self.deadline.expired:  # the timer fired while the TCP connect was pending
            sock.close()
            raise TimeoutError(f"SMTP session deadline of {self.deadline.seconds:g} s passed")
        return sock

"""A real SMTP server on loopback (aiosmtpd), for tests that read what arrived."""

from __future__ import annotations

import email
import email.policy
import socket
from collections import Counter

from aiosmtpd.controller import Controller


class Recorder:
    """aiosmtpd handler: stores what it accepted; can refuse some recipients or all data."""

    def __init__(self) -> None:
        self.received: list = []
        self.rcpt_replies: dict[str, str] = {}  # address -> reply, e.g. "550 5.1.1 User unknown"
        self.data_reply: str | None = None  # e.g. "451 4.3.0 Try again later"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = self.rcpt_replies.get(address)
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.data_reply:
            return self.data_reply
        self.received.append(envelope)
        return "250 Message accepted for delivery"

    def raw(self, i: int = 0) -> bytes:
        envelope = self.received[i]
        return envelope.original_content or envelope.content

    def parsed(self, i: int = 0):
        return email.message_from_bytes(self.raw(i), policy=email.policy.default)

    def message_ids(self) -> Counter:
        return Counter(self.parsed(i)["Message-ID"] for i in range(len(self.received)))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SmtpServer:
    """Start, stop and restart (on the same port) an aiosmtpd server in this process."""

    def __init__(self, **smtp_kwargs) -> None:
        self.handler = Recorder()
        self.port = _free_port()
        self.smtp_kwargs = smtp_kwargs
        self.controller: Controller | None = None

    def start(self) -> SmtpServer:
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port, **self.smtp_kwargs)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def configure(self, app, **extra) -> None:
        app.config.update({"SMTP_HOST": "127.0.0.1", "SMTP_PORT": self.port, "SMTP_STARTTLS": False,
                           "SMTP_USERNAME": "", "SMTP_PASSWORD": "", "SMTP_TIMEOUT": 5, **extra})

    @property
    def received(self) -> list:
        return self.handler.received

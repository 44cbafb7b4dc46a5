"""Queue e-mail in the caller's transaction, and build what goes on the wire.

``enqueue`` only adds a row to the outbox and flushes: the mail rides in the
caller's transaction, so a change that is rolled back never sends mail, and
a change that is committed always does (the worker delivers it later).

No personal data of families ever goes into an e-mail. Write a short notice
with a link to the service; the reader logs in to see the details. The
limits below keep texts short on purpose.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, parseaddr

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from sqlalchemy import and_, delete, or_

from portal.extensions import db
from portal.japanese import InputError
from portal.mail.models import FAILED, SENT, OutboxMessage
from portal.timeutil import utcnow

MAX_SUBJECT_CHARS = 120
MAX_BODY_CHARS = 4000
_KIND = re.compile(r"[a-z][a-z0-9_]{0,39}")
_SENDER = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+")


class MailError(InputError):
    """A message that cannot be queued; the message is Japanese."""


def _has_line_break(text: str) -> bool:
    # CR, LF and the other characters str.splitlines() breaks on: any of them
    # in a header could start a new header (header injection).
    return any(c in text for c in "\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")


def normalize_address(raw: str) -> str:
    """The recipient in ASCII form (IDN domains as punycode), or MailError."""
    if _has_line_break(raw):
        raise MailError("メールアドレスに改行を含めることはできません。")
    address = raw.strip()
    if not address:
        raise MailError("宛先のメールアドレスがありません。")
    try:
        checked = validate_email(address, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as e:
        raise MailError(f"宛先のメールアドレス「{address}」の形式が正しくありません。") from e
    return checked.ascii_email or checked.normalized


def enqueue(to: str, subject: str, body: str, *, kind: str, municipality_id: int | None = None) -> OutboxMessage:
    """Put one e-mail in the outbox, in the current transaction (flush, no commit).

    ``kind`` names what caused the mail (``invitation``, ``application_received``).
    Keep ``body`` short and free of personal data: a notice and a link.
    """
    if not _KIND.fullmatch(kind or ""):
        raise MailError("メールの種類（kind）は半角英小文字・数字・_ で指定してください。")
    address = normalize_address(to)
    if _has_line_break(subject):
        raise MailError("件名に改行を含めることはできません。")
    subject = subject.strip()
    if not subject:
        raise MailError("件名がありません。")
    if len(subject) > MAX_SUBJECT_CHARS:
        raise MailError(f"件名は{MAX_SUBJECT_CHARS}文字以内にしてください。")
    if not body.strip():
        raise MailError("本文がありません。")
    if len(body) > MAX_BODY_CHARS:
        raise MailError(f"本文は{MAX_BODY_CHARS}文字以内にしてください。詳しい内容はメールに書かず、サービスへのリンクで案内してください。")
    domain = current_app.config["MAIL_MESSAGE_ID_DOMAIN"]
    message = OutboxMessage(
        kind=kind,
        to_address=address,
        subject=subject,
        body_text=body.replace("\r\n", "\n").replace("\r", "\n"),
        municipality_id=municipality_id,
        message_id=f"<outbox-{uuid.uuid4().hex}@{domain}>",
    )
    db.session.add(message)
    db.session.flush()
    return message


def sender_address(sender: str) -> Address:
    """SMTP_FROM (``表示名 <addr@example.jp>``) as an Address; ValueError when unusable."""
    if _has_line_break(sender):
        raise ValueError("SMTP_FROM must be one line")
    display_name, addr = parseaddr(sender)
    if not addr:
        raise ValueError(f"SMTP_FROM has no address: {sender!r}")
    # A plain syntax check: email-validator refuses special-use domains such
    # as the default's .local, which is fine as a sender in development.
    if not _SENDER.fullmatch(addr):
        raise ValueError(f"SMTP_FROM address is not valid: {addr!r}")
    local, _, domain = addr.rpartition("@")
    return Address(display_name=display_name, username=local, domain=domain)


def build_email(msg: OutboxMessage, sender: str | Address) -> EmailMessage:
    """The message as sent: ASCII headers (RFC 2047 for Japanese), UTF-8 body."""
    email = EmailMessage(policy=SMTP)
    email["From"] = sender if isinstance(sender, Address) else sender_address(sender)
    email["To"] = msg.to_address
    email["Subject"] = msg.subject
    # The time it was written: a resend carries the same Date and Message-ID.
    email["Date"] = format_datetime(msg.created_at.replace(tzinfo=UTC))
    email["Message-ID"] = msg.message_id
    # RFC 3834: sent by a machine, so auto-responders stay quiet.
    email["Auto-Submitted"] = "auto-generated"
    body = msg.body_text
    # base64 keeps a Japanese body 7-bit clean through every relay; ASCII stays readable.
    email.set_content(body, charset="utf-8", cte=None if body.isascii() else "base64")
    return email


def purge_outbox(days: int, now: datetime | None = None) -> int:
    """Delete sent and failed messages older than ``days`` (recipients and bodies with their links).

    Sent ones count from when the server accepted them, failed ones from when
    they were queued. Pending and sending messages are never touched: mail is
    not lost to a purge. Returns how many rows were deleted (flush, no commit).
    """
    if days < 1:
        raise ValueError("days must be at least 1")
    cutoff = (now or utcnow()) - timedelta(days=days)
    done = or_(and_(OutboxMessage.status == SENT, OutboxMessage.sent_at < cutoff),
               and_(OutboxMessage.status == FAILED, OutboxMessage.created_at < cutoff))
    return db.session.execute(
        delete(OutboxMessage).where(done).execution_options(synchronize_session=False)
    ).rowcount

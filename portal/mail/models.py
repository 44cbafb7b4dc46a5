"""送信待ちメール (the outbox): every e-mail is a row here before it is sent."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.timeutil import utcnow

PENDING = "pending"  # waiting for its (next) attempt
SENDING = "sending"  # claimed by a worker until locked_until (a lease)
SENT = "sent"  # accepted by the SMTP server
FAILED = "failed"  # refused permanently, or out of attempts
STATUSES = (PENDING, SENDING, SENT, FAILED)

STATUS_LABELS = {PENDING: "送信待ち", SENDING: "送信中", SENT: "送信済み", FAILED: "失敗"}

ERROR_MAX_CHARS = 500


class OutboxMessage(db.Model):
    """One e-mail. Not tenant-scoped: one worker serves every municipality.

    ``municipality_id`` only records which municipality the mail was sent for.
    """

    __tablename__ = "outbox_messages"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'sending', 'sent', 'failed')", name="status"),
        # The worker's question: what is due now?
        Index("ix_outbox_messages_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    municipality_id: Mapped[int | None] = mapped_column(ForeignKey("municipalities.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(40))
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    body_text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # The lease of the worker that claimed the message (status sending). A
    # worker that dies leaves it behind; once it has expired, another worker
    # takes the message over. The token tells a worker whether it still holds it.
    locked_until: Mapped[datetime | None] = mapped_column(DateTime)
    lease_token: Mapped[str | None] = mapped_column(String(32))
    last_error: Mapped[str] = mapped_column(String(ERROR_MAX_CHARS), default="")
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    # RFC 5322 Message-ID, fixed at enqueue time: a resend after a crash
    # carries the same one, so receivers can drop the duplicate.
    message_id: Mapped[str] = mapped_column(String(200), unique=True)

    municipality = relationship("Municipality", lazy="joined")

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)

    def __repr__(self) -> str:
        return f"<OutboxMessage {self.id} {self.kind} {self.status}>"

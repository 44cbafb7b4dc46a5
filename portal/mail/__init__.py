"""E-mail through an outbox: enqueue in the caller's transaction, deliver with a worker.

    from portal.mail import enqueue
    enqueue("someone@example.jp", "登録のご案内", "次のリンクから…\nhttps://…", kind="invitation")

Mail must never carry personal data of families: send a short notice and a
link to the service, where the reader logs in to see the details.
"""

from portal.mail.services import MailError, build_email, enqueue

__all__ = ["MailError", "build_email", "enqueue"]

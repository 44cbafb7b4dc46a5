"""E-mail through an outbox: enqueue in the caller's transaction, deliver with a worker.

    from portal.mail import enqueue
    enqueue("someone@example.jp", "登録のご案内", "次のリンクから…\nhttps://…", kind="invitation")

Mail must never carry personal data of families: send a short notice and a
link to the service, where the reader logs in to see the details.
"""

from flask import Flask

from portal.mail.services import MailError, build_email, enqueue

__all__ = ["MailError", "build_email", "enqueue", "register"]


def register(app: Flask) -> None:
    from portal.mail import cli, models, services, views  # noqa: F401  (models: the tables it owns)
    from portal.mail.kinds import kind_label
    from portal.retention import Purge, register_purge

    app.register_blueprint(views.bp)
    cli.register_cli(app)
    app.jinja_env.filters["mail_kind"] = kind_label
    register_purge(Purge(
        "outbox", 90, ("outbox_messages",), lambda s: services.purge_outbox(int(s["OUTBOX_RETENTION_DAYS"])),
        lambda n, s: f"送信済み・失敗したメール {n} 件を削除しました（{s['OUTBOX_RETENTION_DAYS']}日より前のもの）。"))

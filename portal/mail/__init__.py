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
    from portal.mail import cli, models, views  # noqa: F401  (models: the tables it owns)
    from portal.mail.kinds import kind_label

    app.register_blueprint(views.bp)
    cli.register_cli(app)
    app.jinja_env.filters["mail_kind"] = kind_label

"""登録制度: the public application form, and the desk's review queue."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from tenants.registration import models, views  # noqa: F401  (models: the tables it owns)

    app.register_blueprint(views.bp)

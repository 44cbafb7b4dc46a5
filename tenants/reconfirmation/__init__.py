"""担当者の再確認: the desk runs rounds; each member organisation confirms its own contacts."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from tenants.reconfirmation import models, views  # noqa: F401  (models: the tables it owns)

    app.register_blueprint(views.bp)

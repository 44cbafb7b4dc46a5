"""構成員名簿の取り込み（CSV・Excel）と書き出し."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from tenants.transfer import models, views  # noqa: F401  (models: the tables it owns)

    app.register_blueprint(views.bp)

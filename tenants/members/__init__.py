"""構成員: member organisations and their 担当者 (working-level contacts)."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from tenants.members import models, views  # noqa: F401  (models: the tables it owns)

    app.register_blueprint(views.bp)

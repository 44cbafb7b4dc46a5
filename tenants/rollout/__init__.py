"""Rollout toward "a network everywhere": declared status and 地域子育て応援タウン requirements."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from tenants.rollout import models, views  # noqa: F401  (models: the tables it owns)

    app.register_blueprint(views.bp)

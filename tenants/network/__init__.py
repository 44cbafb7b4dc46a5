"""市町村子育て支援ネットワーク: the network record, the desk, the coverage matrix."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from tenants.network import models, views  # noqa: F401  (models: the tables it owns)

    app.register_blueprint(views.bp)

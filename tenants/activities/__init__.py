"""活動状況: the network's meetings, study sessions and guidebook work, as the desk records them."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from tenants.activities import models, views  # noqa: F401  (models: the tables it owns)

    app.register_blueprint(views.bp)

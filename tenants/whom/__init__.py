"""誰に連絡？ — who to call about what, searched across the member organisations."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from tenants.whom import views

    app.register_blueprint(views.bp)

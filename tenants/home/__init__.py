"""A municipality's home page for its desk staff and member users."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from tenants.home import views

    app.register_blueprint(views.bp)

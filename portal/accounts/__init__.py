"""Accounts and login: users and roles, passwords, sessions, invitations and resets."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from portal.accounts import models, views  # noqa: F401  (models: the tables it owns)

    app.register_blueprint(views.bp)

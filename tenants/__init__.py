"""The Municipality tenant: its table, automatic scoping, the municipal menu; one sub-package per feature."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    # row_security: on PostgreSQL, the scope's settings for row-level security.
    from tenants import cli, models, navigation, row_security  # noqa: F401  (models: the tables it owns)

    cli.register_cli(app)
    navigation.register_navigation(app)

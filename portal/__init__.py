"""kosodate-net: the application shell."""

from __future__ import annotations

import os
from types import ModuleType
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from portal.config import load_config
from portal.database import engine_options, register_database
from portal.extensions import csrf, db, login_manager, migrate

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Wire the application together. No database work happens here."""
    app = Flask(
        __name__,
        template_folder=os.path.join(ROOT, "templates"),
        static_folder="static",
        instance_relative_config=True,
    )
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.update(load_config(app.instance_path, config))
    register_extensions(app)
    from portal.security.input import register_id_converter

    register_id_converter(app)  # before any route uses <id:...>
    for feature in features():
        feature.register(app)
    register_request_hooks(app)
    register_template_helpers(app)
    register_commands(app)
    if app.config["TRUSTED_PROXIES"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["TRUSTED_PROXIES"], x_proto=1)  # type: ignore[method-assign]
    return app


def features() -> tuple[ModuleType, ...]:
    """Every feature, in the order its pages register.

    Each is a module or package with ``register(app)``, which imports the models
    whose tables it owns and adds its blueprint, its CLI commands and the template
    globals other pages use. This is the wiring: the only place the shell imports
    tenants and dashboard (the arrows otherwise run dashboard → tenants → portal).
    """
    import dashboard
    import tenants
    from portal import accounts, health, landing, mail
    from tenants import (
        activities,
        audit,
        handovers,
        home,
        members,
        myorg,
        network,
        reconfirmation,
        registration,
        rollout,
        transfer,
        whom,
    )

    return (
        landing, accounts, health, mail, dashboard,
        tenants, home, network, members, whom, transfer, reconfirmation, audit, myorg,
        registration, handovers, rollout, activities,
    )


def register_extensions(app: Flask) -> None:
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(app.config)
    db.init_app(app)
    register_database(app)
    migrate.init_app(app, db, directory=os.path.join(ROOT, "migrations"), render_as_batch=True)
    login_manager.init_app(app)
    csrf.init_app(app)


def register_request_hooks(app: Flask) -> None:
    from portal.errors import register_error_pages
    from portal.security.headers import register_security_headers
    from portal.security.input import register_input_checks
    from portal.security.policy import register_access_policy
    from portal.transactions import register_transaction_boundary
    from tenants.context import register_tenant_context

    # Order matters: what the request carries (first of all hooks), who you
    # are and what your role allows, then which municipality.
    register_input_checks(app)
    register_access_policy(app)
    register_tenant_context(app)
    register_transaction_boundary(app)
    register_security_headers(app)
    register_error_pages(app)


def register_template_helpers(app: Flask) -> None:
    """The shell's filters and globals; each feature adds its own in its register()."""
    from portal.forms import register_template_helpers as register_form_helpers
    from portal.search import SEARCH_MAX_CHARS
    from portal.timeutil import fiscal_year_label, format_datetime_jst, wareki

    app.jinja_env.filters["wareki"] = wareki
    app.jinja_env.filters["datetime_jst"] = format_datetime_jst
    app.jinja_env.filters["fiscal_year"] = fiscal_year_label
    app.jinja_env.globals["search_max_chars"] = SEARCH_MAX_CHARS
    register_form_helpers(app)
    # A constant of the process: a global, not a context processor run on every render.
    app.jinja_env.globals["app_mode"] = app.config["KOSODATE_ENV"]


def register_commands(app: Flask) -> None:
    """The shell's commands; each feature adds its own in its register()."""
    from portal.cli import register_cli
    from portal.retention import register_cli as register_retention_cli

    register_cli(app)
    register_retention_cli(app)
    if app.config["KOSODATE_ENV"] != "production":
        # Fictional data, never offered in production.
        from tenants.demo import demo_command

        app.cli.add_command(demo_command)
        try:
            from tools.synth import synth_command
        except ModuleNotFoundError as e:  # an installed copy: tools/ is only in the repository
            if e.name != "tools":
                raise
        else:
            app.cli.add_command(synth_command)

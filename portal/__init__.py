"""kosodate-net: the application shell."""

from __future__ import annotations

import os
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
    register_models()
    from portal.security.input import register_id_converter

    register_id_converter(app)
    register_blueprints(app)
    register_request_hooks(app)
    register_template_helpers(app)
    register_commands(app)
    if app.config["TRUSTED_PROXIES"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["TRUSTED_PROXIES"], x_proto=1)  # type: ignore[method-assign]
    return app


def register_extensions(app: Flask) -> None:
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(app.config)
    db.init_app(app)
    register_database(app)
    migrate.init_app(app, db, directory=os.path.join(ROOT, "migrations"), render_as_batch=True)
    login_manager.init_app(app)
    csrf.init_app(app)


def register_models() -> None:
    # Importing the model modules registers their tables on the metadata.
    import portal.accounts.models  # noqa: F401
    import portal.mail.models  # noqa: F401
    import tenants.activities.models  # noqa: F401
    import tenants.core.audit  # noqa: F401  (the audit trail's table)
    import tenants.handovers.models  # noqa: F401
    import tenants.members.models  # noqa: F401
    import tenants.models  # noqa: F401
    import tenants.network.models  # noqa: F401
    import tenants.reconfirmation.models  # noqa: F401
    import tenants.registration.models  # noqa: F401
    import tenants.rollout.models  # noqa: F401
    import tenants.row_security  # noqa: F401  (PostgreSQL: the scope's settings for row-level security)
    import tenants.transfer.models  # noqa: F401


def register_blueprints(app: Flask) -> None:
    from dashboard.views import bp as dashboard_bp
    from portal.accounts.views import bp as accounts_bp
    from portal.health import bp as health_bp
    from portal.home import bp as home_bp
    from portal.mail.views import bp as mail_admin_bp
    from tenants.activities.views import bp as activities_bp
    from tenants.audit.views import bp as audit_bp
    from tenants.handovers.views import bp as handovers_bp
    from tenants.home.views import bp as municipality_bp
    from tenants.members.views import bp as members_bp
    from tenants.myorg.views import bp as myorg_bp
    from tenants.network.views import bp as network_bp
    from tenants.reconfirmation.views import bp as reconfirmation_bp
    from tenants.registration.views import bp as registration_bp
    from tenants.rollout.views import bp as rollout_bp
    from tenants.transfer.views import bp as transfer_bp
    from tenants.whom.views import bp as whom_bp

    for bp in (
        home_bp, accounts_bp, health_bp, dashboard_bp,
        municipality_bp, network_bp, members_bp, whom_bp, transfer_bp, reconfirmation_bp, audit_bp, myorg_bp,
    ):
        app.register_blueprint(bp)
    app.register_blueprint(mail_admin_bp)
    app.register_blueprint(registration_bp)
    app.register_blueprint(handovers_bp)
    app.register_blueprint(rollout_bp)
    app.register_blueprint(activities_bp)


def register_request_hooks(app: Flask) -> None:
    from portal.errors import register_error_pages
    from portal.security.headers import register_security_headers
    from portal.security.input import register_input_checks
    from portal.security.policy import register_access_policy
    from portal.transactions import register_transaction_boundary
    from tenants.context import register_tenant_context
    from tenants.navigation import register_navigation

    # Order matters: what the request carries (first of all hooks), who you
    # are and what your role allows, then which municipality.
    register_input_checks(app)
    register_access_policy(app)
    register_tenant_context(app)
    register_transaction_boundary(app)
    register_security_headers(app)
    register_error_pages(app)
    register_navigation(app)


def register_template_helpers(app: Flask) -> None:
    from portal.accounts.forms import LogoutForm
    from portal.forms import register_template_helpers as register_form_helpers
    from portal.mail.kinds import kind_label as mail_kind_label
    from portal.search import SEARCH_MAX_CHARS
    from portal.timeutil import fiscal_year_label, format_datetime_jst, wareki

    app.jinja_env.filters["wareki"] = wareki
    app.jinja_env.filters["datetime_jst"] = format_datetime_jst
    app.jinja_env.filters["fiscal_year"] = fiscal_year_label
    app.jinja_env.globals["search_max_chars"] = SEARCH_MAX_CHARS
    app.jinja_env.filters["mail_kind"] = mail_kind_label
    register_form_helpers(app)
    # formdata=None: the header's logout form must not read the request body
    # (it may be the too-large body an error page is answering).
    app.context_processor(lambda: {"logout_form": LogoutForm(formdata=None), "app_mode": app.config["KOSODATE_ENV"]})


def register_commands(app: Flask) -> None:
    from portal.cli import register_cli
    from portal.mail.cli import register_cli as register_mail_cli
    from portal.retention import register_cli as register_retention_cli
    from tenants.cli import register_cli as register_tenant_cli
    from tenants.handovers.cli import register_cli as register_handovers_cli
    from tools.synth import (
        register_cli as register_synth_cli,  # development data (tools/ in the repository)
    )

    register_cli(app)
    register_mail_cli(app)
    register_tenant_cli(app)
    register_handovers_cli(app)
    register_retention_cli(app)
    register_synth_cli(app)

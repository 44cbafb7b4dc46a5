"""変更履歴: who created, changed or removed what, when, with before and after values."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from tenants.audit import models, views  # noqa: F401  (models: the tables it owns)
    from tenants.members.services import shown_value

    app.register_blueprint(views.bp)
    # Audited values are shown the same way everywhere (also on the member's own page).
    app.add_template_global(shown_value, "shown_value")

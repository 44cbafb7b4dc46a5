"""変更履歴: who created, changed or removed what, when, with before and after values.

The trail itself is written by every feature through ``tenants.core.audit``;
this feature is its page.
"""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from tenants.audit import views
    from tenants.core import audit, labels  # noqa: F401  (audit: the trail's table)

    app.register_blueprint(views.bp)
    # Audited values are shown the same way everywhere (also on the member's own page).
    app.add_template_global(labels.shown_value, "shown_value")

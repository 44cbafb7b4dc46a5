"""自分の団体: a member user keeps its own organisation's entry current.

Public details apply at once; changes to the name or category wait for the
desk's approval (``OrganizationChangeRequest``).
"""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from portal.timeutil import today_jst
    from tenants.myorg import services, views

    app.register_blueprint(views.bp)

    @app.template_global("myorg_open_tasks")
    def open_tasks(organization):
        """For the member's home page: the same list as on 自分の団体."""
        return services.open_tasks(organization, today_jst())

    @app.template_global("myorg_pending_request")
    def pending_request(organization):
        """For the desk's organisation page: a notice when a change waits for approval."""
        return services.pending_request_for(organization)

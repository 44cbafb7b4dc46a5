"""相談と引継ぎ: consultations recorded at the desk or a member, handed over between organisations."""

from __future__ import annotations

from flask import Flask

WEEKDAYS = "月火水木金土日"


def register(app: Flask) -> None:
    from flask_login import current_user

    from portal.retention import register_purge
    from portal.timeutil import utcnow, wareki
    from tenants.handovers import cli, inbox, models, parties, retention, views  # noqa: F401  (models: the tables it owns)

    app.register_blueprint(views.bp)
    cli.register_cli(app)
    for purge in retention.PURGES:
        register_purge(purge)

    @app.template_filter("wareki_weekday")
    def wareki_weekday(value) -> str:
        return f"{wareki(value)}（{WEEKDAYS[value.weekday()]}）"

    @app.template_global("handover_counts")
    def handover_counts():
        """For the home page: what needs action in the user's inbox (None for roles without one)."""
        party = parties.party_of(current_user)
        return inbox.counts(party, utcnow()) if party is not None else None

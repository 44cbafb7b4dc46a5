"""`flask --app wsgi dashboard rebuild-summaries`."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from dashboard import summary
from portal.extensions import db
from tenants.scoping import EVERYTHING, scoped

dashboard_cli = AppGroup("dashboard", help="県ダッシュボード（市町村ごとの集計）")


@dashboard_cli.command("rebuild-summaries")
def rebuild_summaries() -> None:
    """Recompute the figures behind the dashboard (members, contacts, handovers per month) for every municipality.

    They are kept up to date in the transaction of every change to their
    sources; this is for data loaded around the application (or if ever in
    doubt): when they already agree, the figures come out the same. (The
    handovers per month are summed from the per-day counts: after
    ``handovers rebuild-daily`` they follow by themselves.) Writes wait for it
    at their commit: run it when the prefecture is quiet.
    """
    with scoped(db.session, EVERYTHING):
        n = summary.rebuild(db.session)
        db.session.commit()
    click.echo(f"県ダッシュボードの集計 {n} 行を作り直しました。")


def register_cli(app: Flask) -> None:
    app.cli.add_command(dashboard_cli)

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
    """Recompute every municipality's member and contact figures behind the dashboard.

    They are kept up to date in the transaction of every change to members and
    contacts; this is for data loaded around the application (or if ever in
    doubt): when they already agree, the figures come out the same.
    """
    with scoped(db.session, EVERYTHING):
        n = summary.rebuild(db.session)
        db.session.commit()
    click.echo(f"構成員・担当者の集計を {n} 市町村分作り直しました。")


def register_cli(app: Flask) -> None:
    app.cli.add_command(dashboard_cli)

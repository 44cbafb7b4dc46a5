"""`flask --app wsgi handovers escalate | purge | rebuild-daily`."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from portal.extensions import db
from tenants.handovers import daily, notifications
from tenants.scoping import EVERYTHING, scoped

handovers_cli = AppGroup("handovers", help="相談の引継ぎ（期限超過の通知、保存期間を過ぎた記録の消去）")


@handovers_cli.command("escalate")
def escalate() -> None:
    """Tell each desk about handovers whose first response is overdue (once per handover).

    Safe to run as often as you like (cron every 5–15 minutes): a handover is
    escalated once, so a second run sends nothing new.
    """
    # url_for() needs a request context; links use PUBLIC_BASE_URL anyway.
    with current_app.test_request_context(), scoped(db.session, EVERYTHING):
        escalated = notifications.escalate_overdue()
        db.session.commit()
    total = sum(len(v) for v in escalated.values())
    click.echo(f"期限超過の引継ぎ {total} 件を総合支援窓口に通知しました（{len(escalated)} 市町村）。")


@handovers_cli.command("purge")
@click.option("--years", type=click.IntRange(min=1), default=None,
              help="保存期間（年）。省略時は設定 HANDOVER_RETENTION_YEARS（既定 5）")
@click.option("--no-vacuum", is_flag=True, help="消去の後の VACUUM を省略する（後で retention vacuum を実行）")
def purge(years: int | None, no_vacuum: bool) -> None:
    """Erase free text, case reference and contact preference of consultations closed longer ago than the retention period.

    Category, age band, urgency, dates, states and the bounce count stay, so the figures do not change.
    Runs the whole ``retention purge`` (access log and sent e-mail too, then VACUUM).
    """
    from portal.retention import run_purge

    run_purge({"HANDOVER_RETENTION_YEARS": years} if years else None, vacuum_after=not no_vacuum)


@handovers_cli.command("rebuild-daily")
def rebuild_daily() -> None:
    """Recompute the per-day handover counts behind the prefecture dashboard from the handovers.

    They are kept up to date as handovers are sent and answered; this is for
    data loaded around the application (or if ever in doubt); when they
    already agree, the counts come out the same.
    """
    with scoped(db.session, EVERYTHING):
        n = daily.rebuild()
        db.session.commit()
    click.echo(f"引継ぎの日別集計 {n} 行を作り直しました。")


def register_cli(app: Flask) -> None:
    app.cli.add_command(handovers_cli)

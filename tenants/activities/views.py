"""/m/<code>/activities: the desk records the network's activities (活動状況)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from sqlalchemy import select

from portal.accounts.models import Role
from portal.pagination import paginate
from portal.security.policy import allow
from portal.timeutil import today_jst
from tenants.activities import services
from tenants.activities.forms import ActivityForm
from tenants.activities.models import ActivityKind, NetworkActivity
from tenants.core.forms import ButtonForm, form_status, submit
from tenants.core.loading import get_or_404
from tenants.navigation import nav_item

bp = Blueprint("activities", __name__, url_prefix="/m/<code>")
nav_item("activities", "活動記録", "activities.index", (Role.DESK, Role.ADMIN), order=14, group="network")


MANAGERS = (Role.DESK, Role.ADMIN)
PAGE_SIZE = 50


@bp.get("/activities")
@allow(*MANAGERS, tenant=True)
def index():
    stmt = select(NetworkActivity).order_by(NetworkActivity.held_on.desc(), NetworkActivity.id.desc())
    return render_template(
        "activities/index.html",
        page=paginate(stmt, PAGE_SIZE),
        recent=services.recent_count(),
        today=today_jst(),
    )


@bp.route("/activities/new", methods=["GET", "POST"])
@allow(*MANAGERS, tenant=True)
def new():
    form = ActivityForm()
    if not form.is_submitted():
        form.kind.data = ActivityKind.EXCHANGE.value
        form.held_on.data = today_jst()
    if activity := submit(form, services.create):
        flash(f"活動「{activity.title}」を記録しました。", "success")
        return redirect(url_for("activities.index"))
    return render_template("activities/form.html", form=form, activity=None), form_status(form)


@bp.route("/activities/<int:activity_id>/edit", methods=["GET", "POST"])
@allow(*MANAGERS, tenant=True)
def edit(activity_id: int):
    activity = get_or_404(NetworkActivity, activity_id)
    form = ActivityForm(obj=activity)
    if submit(form, lambda data: services.update(activity, data), current=activity):
        flash(f"活動「{activity.title}」を保存しました。", "success")
        return redirect(url_for("activities.index"))
    return render_template("activities/form.html", form=form, activity=activity), form_status(form)


@bp.route("/activities/<int:activity_id>/delete", methods=["GET", "POST"])
@allow(*MANAGERS, tenant=True)
def delete(activity_id: int):
    activity = get_or_404(NetworkActivity, activity_id)
    form = ButtonForm()
    if form.validate_on_submit():
        title = activity.title
        services.delete(activity)
        flash(f"活動「{title}」を削除しました。", "success")
        return redirect(url_for("activities.index"))
    return render_template("activities/delete.html", activity=activity, form=form)

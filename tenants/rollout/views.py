"""/m/<code>/status: the desk declares its network status (未着手・準備中・設置済)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for

from portal.accounts.models import Role
from portal.security.policy import allow
from portal.timeutil import today_jst
from tenants.context import current_municipality
from tenants.core.forms import form_status, submit
from tenants.navigation import nav_item
from tenants.rollout import services
from tenants.rollout.forms import DeclarationForm
from tenants.rollout.models import NetworkStatus

bp = Blueprint("rollout", __name__, url_prefix="/m/<code>")
nav_item("rollout", "設置状況", "rollout.status", (Role.DESK, Role.ADMIN), order=12, group="network")


@bp.route("/status", methods=["GET", "POST"])
@allow(Role.DESK, Role.ADMIN, tenant=True)
def status():
    current = services.current_declaration()
    form = DeclarationForm()
    if not form.is_submitted():
        form.status.data = current.status if current else NetworkStatus.NOT_STARTED.value
        form.declared_on.data = today_jst()
        # The declaration this one follows: another one saved meanwhile is a conflict.
        form.version.data = current.id if current else None
    saved = submit(form, lambda data: services.declare(current_municipality.id, data),
                   current=current, current_version=current.id if current else None)
    if saved:
        flash(f"設置状況を「{NetworkStatus(form.status.data).label}」として申告しました。", "success")
        return redirect(url_for("rollout.status"))
    return render_template(
        "rollout/status.html",
        form=form,
        current=current,
        history=services.history(),
        town=services.get_town(),
    ), form_status(form)

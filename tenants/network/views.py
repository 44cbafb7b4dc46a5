"""The network page: record, desk, coverage matrix."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for

from portal.accounts.models import Role
from portal.security.policy import allow
from portal.timeutil import today_jst
from tenants.context import current_municipality
from tenants.core.forms import form_status, submit
from tenants.navigation import nav_item
from tenants.network import services
from tenants.network.forms import DeskForm, NetworkForm

bp = Blueprint("network", __name__, url_prefix="/m/<code>")
nav_item("network", "ネットワーク", "network.show", (Role.DESK, Role.ADMIN), order=10, group="network")

MANAGERS = (Role.DESK, Role.ADMIN)


@bp.get("/network")
@allow(*MANAGERS, tenant=True)
def show():
    coverage, summary = services.coverage_and_summary(today_jst())
    return render_template(
        "network/show.html",
        municipality=current_municipality,
        network=services.get_network(),
        desk=services.get_desk(),
        coverage=coverage,
        summary=summary,
    )


@bp.route("/network/edit", methods=["GET", "POST"])
@allow(*MANAGERS, tenant=True)
def edit():
    network = services.get_network()
    form = NetworkForm(obj=network)
    if not network and not form.is_submitted():
        form.name.data = f"{current_municipality.name}子育て支援ネットワーク"
    if submit(form, services.save_network, current=network):
        flash("ネットワークの情報を保存しました。", "success")
        return redirect(url_for("network.show"))
    return render_template("network/edit.html", form=form, network=network), form_status(form)


@bp.route("/network/desk", methods=["GET", "POST"])
@allow(*MANAGERS, tenant=True)
def edit_desk():
    desk = services.get_desk()
    form = DeskForm(obj=desk)
    if not desk and not form.is_submitted():
        form.name.data = f"{current_municipality.name}子育て総合支援窓口"
    if submit(form, services.save_desk, current=desk):
        flash("総合支援窓口の情報を保存しました。", "success")
        return redirect(url_for("network.show"))
    return render_template("network/desk.html", form=form), form_status(form)

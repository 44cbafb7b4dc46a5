"""担当者の再確認: the desk runs rounds; each member organisation confirms its own contacts."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal.accounts.models import Role
from portal.security.policy import allow
from portal.timeutil import fiscal_year_start, today_jst, wareki
from tenants.core.forms import form_status, submit
from tenants.core.loading import get_or_404
from tenants.members import services as members
from tenants.members.freshness import freshness
from tenants.members.models import Contact, MemberOrganization
from tenants.navigation import nav_item
from tenants.reconfirmation import services
from tenants.reconfirmation.forms import ContactForm
from tenants.reconfirmation.models import ReconfirmationRound, ReconfirmationTask
from tenants.reconfirmation.services import ReconfirmationError

bp = Blueprint("reconfirmation", __name__, url_prefix="/m/<code>")

nav_item("reconfirmation", "担当者の確認", "reconfirmation.index", (Role.DESK, Role.ADMIN), order=40, group="network")
nav_item("my_contacts", "担当者の確認", "reconfirmation.mine", (Role.MEMBER,), order=40)

DESK = (Role.DESK, Role.ADMIN)


# ---------------------------------------------------------------------------
# Desk: rounds and their progress


def _render_index(error: str | None = None, status: int = 200):
    today = today_jst()
    round_ = services.open_round()
    context = {"today": today, "round": round_, "past": services.past_rounds(), "error": error}
    if round_ is not None:
        progress = services.round_progress(round_)
        only_unfinished = request.args.get("show") == "unfinished"
        context.update(
            progress=progress,
            rows=progress.unfinished if only_unfinished else progress.rows,
            only_unfinished=only_unfinished,
        )
    else:
        context.update(counts=services.freshness_counts(today), april=fiscal_year_start(today))
    return render_template("reconfirmation/index.html", **context), status


@bp.get("/reconfirmation")
@allow(*DESK, tenant=True)
def index():
    return _render_index()


@bp.post("/reconfirmation/start")
@allow(*DESK, tenant=True)
def start():
    try:
        round_ = services.start_round(today_jst(), current_user)
    except ReconfirmationError as e:
        return _render_index(error=e.message, status=409)
    flash(f"担当者の再確認を始めました。{len(round_.tasks)}団体に確認をお願いしています。", "success")
    return redirect(url_for("reconfirmation.index"))


@bp.post("/reconfirmation/<int:round_id>/close")
@allow(*DESK, tenant=True)
def close(round_id: int):
    round_ = get_or_404(ReconfirmationRound, round_id)
    try:
        progress = services.close_round(round_)
    except ReconfirmationError as e:
        return _render_index(error=e.message, status=409)
    flash(
        f"再確認を終了しました（{progress.completed} / {progress.tasks} 団体が確認済み）。",
        "success",
    )
    return redirect(url_for("reconfirmation.index"))


@bp.get("/reconfirmation/tasks/<int:task_id>")
@allow(*DESK, tenant=True)
def task(task_id: int):
    task_ = get_or_404(ReconfirmationTask, task_id)
    today = today_jst()
    round_ = task_.round
    contacts = [
        {
            "contact": c,
            "freshness": freshness(c.last_confirmed_on, today),
            "in_round": c.last_confirmed_on is not None and c.last_confirmed_on >= round_.started_on,
        }
        for c in task_.organization.contacts
    ]
    return render_template(
        "reconfirmation/task.html",
        task=task_, round=round_, organization=task_.organization, contacts=contacts,
        state=services.task_state(task_),
    )


@bp.post("/reconfirmation/contacts/<int:contact_id>/confirm")
@allow(*DESK, tenant=True)
def confirm_contact(contact_id: int):
    """The desk phoned the organisation and confirms a contact on its behalf."""
    contact = get_or_404(Contact, contact_id)
    members.confirm_contact(contact, today_jst())
    flash(f"{contact.name}さん（{contact.organization.name}）を確認済みにしました。", "success")
    open_task = services.open_task_for(contact.organization)
    if open_task is not None:
        return redirect(url_for("reconfirmation.task", task_id=open_task.id))
    return redirect(url_for("reconfirmation.index"))


# ---------------------------------------------------------------------------
# Member organisations: their own contacts


def _my_organization() -> MemberOrganization:
    """The logged-in member's organisation, within this municipality only."""
    return get_or_404(MemberOrganization, current_user.member_organization_id)


def _my_contact(contact_id: int) -> tuple[MemberOrganization, Contact]:
    organization = _my_organization()
    # Another organisation's contact is as unknown as one that does not exist.
    return organization, get_or_404(Contact, contact_id, Contact.organization_id == organization.id)


def _render_mine(organization: MemberOrganization, error: str | None = None, status: int = 200):
    today = today_jst()
    task_ = services.open_task_for(organization)
    started_on = task_.round.started_on if task_ is not None else None
    contacts = [
        {
            "contact": c,
            "freshness": freshness(c.last_confirmed_on, today),
            "in_round": started_on is not None and c.last_confirmed_on is not None and c.last_confirmed_on >= started_on,
        }
        for c in organization.contacts
    ]
    return render_template(
        "reconfirmation/mine.html",
        organization=organization, contacts=contacts, task=task_,
        state=services.task_state(task_) if task_ is not None else None,
        today=today, error=error,
    ), status


@bp.get("/my/contacts")
@allow(Role.MEMBER, tenant=True)
def mine():
    return _render_mine(_my_organization())


@bp.post("/my/contacts/complete")
@allow(Role.MEMBER, tenant=True)
def my_complete():
    organization = _my_organization()
    task_ = services.open_task_for(organization)
    if task_ is None:
        return _render_mine(organization, error="いま受け付けている再確認はありません。", status=409)
    listed = request.form.getlist("contact_id", type=int)
    versions = request.form.getlist("contact_version", type=int)
    try:
        services.complete_task(task_, today_jst(), current_user, listed_contact_ids=listed,
                               listed_versions=dict(zip(listed, versions, strict=False)) if versions else None)
    except ReconfirmationError as e:
        return _render_mine(organization, error=e.message, status=e.status)
    flash("ご確認ありがとうございました。すべての担当者を確認済みにしました。", "success")
    return redirect(url_for("reconfirmation.mine"))


@bp.post("/my/contacts/<int:contact_id>/confirm")
@allow(Role.MEMBER, tenant=True)
def my_confirm(contact_id: int):
    organization, contact = _my_contact(contact_id)
    # 「変更なし」 vouches for what the page showed: not for a version saved since.
    version = request.form.get("version", type=int)
    if version is not None and version != contact.version:
        return _render_mine(organization, error=services.STALE_CONFIRMATION, status=409)
    members.confirm_contact(contact, today_jst())
    flash(f"{contact.name}さんの情報を「変更なし」として確認しました。", "success")
    return redirect(url_for("reconfirmation.mine"))


@bp.route("/my/contacts/<int:contact_id>/edit", methods=["GET", "POST"])
@allow(Role.MEMBER, tenant=True)
def my_edit(contact_id: int):
    organization, contact = _my_contact(contact_id)
    form = ContactForm(obj=contact)
    today = today_jst()
    # Editing is checking: the same change confirms the contact.
    changes = submit(form, lambda data: members.update_contact(contact, {**data, "last_confirmed_on": today}),
                     current=contact)
    if changes is not None:
        flash(f"{contact.name}さんの情報を更新し、{wareki(today)}付けで確認済みにしました。", "success")
        return redirect(url_for("reconfirmation.mine"))
    return render_template(
        "reconfirmation/contact_form.html", form=form, organization=organization, contact=contact,
        can_delete=len(organization.contacts) > 1,
    ), form_status(form)


@bp.route("/my/contacts/new", methods=["GET", "POST"])
@allow(Role.MEMBER, tenant=True)
def my_new():
    organization = _my_organization()
    form = ContactForm()
    if contact := submit(form, lambda data: members.create_contact(organization, {**data, "last_confirmed_on": today_jst()})):
        flash(f"{contact.name}さんを担当者に登録しました。", "success")
        return redirect(url_for("reconfirmation.mine"))
    return render_template(
        "reconfirmation/contact_form.html", form=form, organization=organization, contact=None, can_delete=False,
    ), form_status(form)


@bp.post("/my/contacts/<int:contact_id>/delete")
@allow(Role.MEMBER, tenant=True)
def my_delete(contact_id: int):
    organization, contact = _my_contact(contact_id)
    name = contact.name
    try:
        services.remove_contact(contact)
    except ReconfirmationError as e:
        return _render_mine(organization, error=e.message, status=409)
    flash(f"{name}さんを担当者から外しました。", "success")
    return redirect(url_for("reconfirmation.mine"))

"""構成員: list, detail, and editing organisations and their contacts."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from portal.accounts.models import Role
from portal.search import bounded_query, query_error
from portal.security.policy import allow
from portal.timeutil import today_jst
from portal.urls import url_pattern
from tenants.core.forms import ButtonForm, form_status, submit
from tenants.core.loading import get_or_404
from tenants.members import listing, services
from tenants.members.categories import CATEGORIES
from tenants.members.forms import ContactForm, OrganizationForm
from tenants.members.freshness import Freshness, freshness
from tenants.members.models import Contact, MemberOrganization, MemberStatus
from tenants.navigation import nav_item

bp = Blueprint("members", __name__, url_prefix="/m/<code>")
nav_item("members", "構成員", "members.index", (Role.DESK, Role.ADMIN), order=20)

MANAGERS = (Role.DESK, Role.ADMIN)
PAGE_SIZE = 100


@bp.get("/members")
@allow(*MANAGERS, tenant=True)
def index():
    category = request.args.get("category", "")
    status = request.args.get("status", "")
    q = bounded_query(request.args.get("q"))

    # One query whatever the number of members: the count, the page and its contacts.
    page = listing.page_of(
        listing.statement(category, status, q), PAGE_SIZE, today_jst(), url_pattern("members.show", "org_id"),
    )
    return render_template(
        "members/index.html",
        page=page,
        filters={"category": category, "status": status, "q": q},
        search_error=query_error(request.args.get("q")),
        categories=CATEGORIES,
        statuses=MemberStatus.labels(),
        freshness_states=[f.value for f in Freshness],
    )


@bp.route("/members/new", methods=["GET", "POST"])
@allow(*MANAGERS, tenant=True)
def new():
    form = OrganizationForm()
    if org := submit(form, services.create_organization):
        flash(f"「{org.name}」を構成員に追加しました。続けて担当者を登録してください。", "success")
        return redirect(url_for("members.new_contact", org_id=org.id))
    return render_template("members/org_form.html", form=form, org=None), form_status(form)


@bp.get("/members/<int:org_id>")
@allow(*MANAGERS, tenant=True)
def show(org_id: int):
    org = get_or_404(MemberOrganization, org_id)
    today = today_jst()
    return render_template(
        "members/show.html",
        org=org,
        confirm_form=ButtonForm(),
        freshness=lambda c: freshness(c.last_confirmed_on, today),
        # Each contact's three buttons: links built once for the page, formatted per contact.
        contact_urls={action: url_pattern(f"members.{action}_contact", "contact_id")
                      for action in ("confirm", "edit", "delete")},
    )


@bp.route("/members/<int:org_id>/edit", methods=["GET", "POST"])
@allow(*MANAGERS, tenant=True)
def edit(org_id: int):
    org = get_or_404(MemberOrganization, org_id)
    form = OrganizationForm(obj=org)
    changes = submit(form, lambda data: services.update_organization(org, data), current=org)
    if changes is not None:
        flash("変更を保存しました。" if changes else "変更はありませんでした。", "success")
        return redirect(url_for("members.show", org_id=org.id))
    return render_template("members/org_form.html", form=form, org=org), form_status(form)


@bp.route("/members/<int:org_id>/delete", methods=["GET", "POST"])
@allow(*MANAGERS, tenant=True)
def delete(org_id: int):
    org = get_or_404(MemberOrganization, org_id)
    form = ButtonForm()
    if form.validate_on_submit():
        name = org.name
        try:
            services.delete_organization(org)
        except services.OrganizationInUse as e:
            return render_template("members/delete.html", org=org, form=form, blockers=e.reasons), 409
        flash(f"「{name}」を構成員から削除しました。", "success")
        return redirect(url_for("members.index"))
    return render_template("members/delete.html", org=org, form=form, blockers=services.deletion_blockers(org))


@bp.route("/members/<int:org_id>/contacts/new", methods=["GET", "POST"])
@allow(*MANAGERS, tenant=True)
def new_contact(org_id: int):
    org = get_or_404(MemberOrganization, org_id)
    form = ContactForm()
    if not form.is_submitted():
        form.last_confirmed_on.data = today_jst()
        form.is_primary.data = not org.contacts
    if contact := submit(form, lambda data: services.create_contact(org, data)):
        flash(f"担当者「{contact.name}」さんを登録しました。", "success")
        return redirect(url_for("members.show", org_id=org.id))
    return render_template("members/contact_form.html", form=form, org=org, contact=None), form_status(form)


@bp.route("/contacts/<int:contact_id>/edit", methods=["GET", "POST"])
@allow(*MANAGERS, tenant=True)
def edit_contact(contact_id: int):
    contact = get_or_404(Contact, contact_id)
    form = ContactForm(obj=contact)
    changes = submit(form, lambda data: services.update_contact(contact, data), current=contact)
    if changes is not None:
        flash("担当者の変更を保存しました。" if changes else "変更はありませんでした。", "success")
        return redirect(url_for("members.show", org_id=contact.organization_id))
    return render_template(
        "members/contact_form.html", form=form, org=contact.organization, contact=contact
    ), form_status(form)


@bp.post("/contacts/<int:contact_id>/confirm")
@allow(*MANAGERS, tenant=True)
def confirm_contact(contact_id: int):
    contact = get_or_404(Contact, contact_id)
    if ButtonForm().validate_on_submit():
        services.confirm_contact(contact, today_jst())
        flash(f"「{contact.name}」さんの連絡先を確認済みにしました。", "success")
    return redirect(url_for("members.show", org_id=contact.organization_id))


@bp.route("/contacts/<int:contact_id>/delete", methods=["GET", "POST"])
@allow(*MANAGERS, tenant=True)
def delete_contact(contact_id: int):
    contact = get_or_404(Contact, contact_id)
    form = ButtonForm()
    org_id = contact.organization_id
    if form.validate_on_submit():
        name = contact.name
        services.delete_contact(contact)
        flash(f"担当者「{name}」さんを削除しました。", "success")
        return redirect(url_for("members.show", org_id=org_id))
    return render_template("members/delete_contact.html", contact=contact, form=form)

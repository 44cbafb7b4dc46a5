"""自分の団体: the member's own entry, change requests and the desk's decisions.

Public details (reading, address, phone, ...) go straight through
``tenants.members.services.update_organization`` (validated, audited). The
name and the category are held: a change creates or updates the
organisation's one pending ``OrganizationChangeRequest``, which the desk
approves (applied through the same service, so a duplicate name is refused
as anywhere else) or rejects with a reason. Every step is audited and
announced by e-mail: a short notice and a link, never a contact's details.

Functions flush but never commit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask import url_for
from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import selectinload

from portal.accounts import tokens
from portal.accounts.models import Role, User
from portal.database import lock_for_write
from portal.extensions import db
from portal.japanese import clean
from portal.mail.services import enqueue
from portal.timeutil import fiscal_year_label, utcnow
from tenants.core import audit
from tenants.core.audit import AuditEntry
from tenants.core.labels import field_label
from tenants.core.validation import Fields, ValidationError
from tenants.members import services as members
from tenants.members.freshness import Freshness, freshness
from tenants.members.models import (
    ChangeRequestStatus,
    Contact,
    MemberOrganization,
    OrganizationChangeRequest,
)
from tenants.reconfirmation import services as reconfirmation
from tenants.reconfirmation.models import ReconfirmationTask

# What a member organisation changes itself, at once.
PUBLIC_FIELDS = (
    "name_kana", "postal_code", "address", "phone", "email", "website", "consultation_tags", "public_consent",
)
# What waits for the desk.
HELD_FIELDS = ("name", "category")

HELD_NOTICE = "名称・区分の変更は総合支援窓口の承認後に反映されます。"
MAIL_PREFIX = "【子育て支援ネットワーク】"


class ChangeRequestError(Exception):
    """A refused decision; the message is Japanese and meant for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# ---------------------------------------------------------------------------
# The member's side


@dataclass
class Submission:
    """What one save of the member's form did."""

    applied: dict[str, list[Any]] = field(default_factory=dict)
    request: OrganizationChangeRequest | None = None
    request_changed: bool = False

    @property
    def changed(self) -> bool:
        return bool(self.applied) or self.request_changed


def pending_request_for(org: MemberOrganization) -> OrganizationChangeRequest | None:
    return db.session.scalar(
        select(OrganizationChangeRequest)
        .where(
            OrganizationChangeRequest.organization_id == org.id,
            OrganizationChangeRequest.status == ChangeRequestStatus.PENDING.value,
        )
        .order_by(OrganizationChangeRequest.id.desc())
        .limit(1)
    )


def recent_requests_for(org: MemberOrganization, limit: int = 5) -> list[OrganizationChangeRequest]:
    return list(db.session.scalars(
        select(OrganizationChangeRequest)
        .where(OrganizationChangeRequest.organization_id == org.id)
        .order_by(OrganizationChangeRequest.id.desc())
        .limit(limit)
    ))


def _lock(org: MemberOrganization) -> None:
    """Serialise saves of one organisation (portal.database.lock_for_write).

    Two tabs saving at once must not open two pending requests.
    """
    lock_for_write(select(MemberOrganization.id).where(MemberOrganization.id == org.id))


def submit_changes(org: MemberOrganization, data: dict[str, Any], user: User) -> Submission:
    """The member's form: apply the public details, hold the name and category.

    Everything is validated first, so bad input changes nothing. A held
    field equal to the current value proposes nothing for that field and
    leaves any pending proposal for it as it is; a different value replaces
    the pending proposal for that field.
    """
    public = {k: data[k] for k in PUBLIC_FIELDS if k in data}
    held = {k: data[k] for k in HELD_FIELDS if k in data}
    # One check of every field (held ones too, duplicate name included).
    values = members.validate_organization({**public, **held}, existing=org)
    _lock(org)

    outcome = Submission()
    outcome.applied = members.update_organization(org, public) if public else {}

    proposed = {k: values[k] for k in HELD_FIELDS if k in values and values[k] != getattr(org, k)}
    if proposed:
        outcome.request, outcome.request_changed = _propose(org, proposed, user)
    else:
        outcome.request = pending_request_for(org)

    if outcome.changed:
        _notify_desk(org, outcome)
    return outcome


def _propose(
    org: MemberOrganization, proposed: dict[str, Any], user: User
) -> tuple[OrganizationChangeRequest, bool]:
    request = pending_request_for(org)
    changes = dict(request.changes) if request is not None else {}
    for name, value in proposed.items():
        changes[name] = [getattr(org, name), value]
    # Keep the list's order (name, category) so pages and audits are stable.
    changes = {k: changes[k] for k in HELD_FIELDS if k in changes}
    if request is not None and request.changes == changes:
        return request, False
    if request is None:
        request = OrganizationChangeRequest(
            organization_id=org.id, status=ChangeRequestStatus.PENDING.value, reason="",
        )
        db.session.add(request)
    # Assign a new dict: JSON columns do not notice changes made in place.
    request.changes = changes
    request.requested_by_id = user.id
    db.session.flush()
    audit.record("request", "change_request", request, changes, label=org.name)
    return request, True


# ---------------------------------------------------------------------------
# The desk's side


def pending_requests() -> list[OrganizationChangeRequest]:
    """The municipality's pending requests, oldest first (three queries whatever their number)."""
    return list(db.session.scalars(
        select(OrganizationChangeRequest)
        .where(OrganizationChangeRequest.status == ChangeRequestStatus.PENDING.value)
        .options(
            selectinload(OrganizationChangeRequest.organization),
            selectinload(OrganizationChangeRequest.requested_by),
        )
        .order_by(OrganizationChangeRequest.requested_at, OrganizationChangeRequest.id)
    ))


def decided_requests(limit: int = 20) -> list[OrganizationChangeRequest]:
    return list(db.session.scalars(
        select(OrganizationChangeRequest)
        .where(OrganizationChangeRequest.status != ChangeRequestStatus.PENDING.value)
        .options(selectinload(OrganizationChangeRequest.organization))
        .order_by(OrganizationChangeRequest.decided_at.desc(), OrganizationChangeRequest.id.desc())
        .limit(limit)
    ))


def _claim(request: OrganizationChangeRequest, status: ChangeRequestStatus, decided_by: User, reason: str) -> None:
    """Decide a pending request exactly once, whatever two desk users do at the same moment."""
    decided = db.session.execute(
        update(OrganizationChangeRequest)
        .where(
            OrganizationChangeRequest.id == request.id,
            OrganizationChangeRequest.status == ChangeRequestStatus.PENDING.value,
        )
        .values(status=status.value, decided_by_id=decided_by.id, decided_at=utcnow(), reason=reason)
        .execution_options(synchronize_session="fetch")
    ).rowcount
    if decided != 1:
        raise ChangeRequestError("この申請は既に処理されています。画面を読み込み直してください。")
    db.session.refresh(request)


def approve(request: OrganizationChangeRequest, decided_by: User) -> dict[str, list[Any]]:
    """Apply the proposed name/category through the members service.

    Raises ``ValidationError`` (e.g. the name is now taken) or
    ``ChangeRequestError``; the caller answers >= 400, which rolls back.
    """
    _claim(request, ChangeRequestStatus.APPROVED, decided_by, "")
    org = request.organization
    proposed = {k: v[1] for k, v in request.changes.items() if k in HELD_FIELDS}
    applied = members.update_organization(org, proposed)
    audit.record(
        "approve", "change_request", request,
        {k: [v[0], v[1]] for k, v in request.changes.items()}, label=org.name,
    )
    _notify_requester(request, approved=True)
    return applied


def reject(request: OrganizationChangeRequest, reason: str | None, decided_by: User) -> None:
    fields = Fields(OrganizationChangeRequest, {"reason": reason})
    reason = fields.text("reason", multiline=True)
    if not clean(reason):
        raise ValidationError({"reason": "却下の理由を入力してください。申請した団体に表示されます。"})
    fields.valid()
    _claim(request, ChangeRequestStatus.REJECTED, decided_by, reason)
    audit.record(
        "reject", "change_request", request,
        {**{k: [v[0], v[1]] for k, v in request.changes.items()}, "reason": reason},
        label=request.organization.name,
    )
    _notify_requester(request, approved=False)


# ---------------------------------------------------------------------------
# E-mail: a notice and a link, nothing about any person


def _one_line(text: str, limit: int) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def desk_users(municipality_id: int) -> list[User]:
    # Users are not tenant rows: their municipality is named explicitly.
    return list(db.session.scalars(
        select(User)
        .where(User.role == Role.DESK.value, User.municipality_id == municipality_id, User.active.is_(True))
        .order_by(User.id)
    ))


def _notify_desk(org: MemberOrganization, outcome: Submission) -> None:
    name = _one_line(org.name, 60)
    lines = [f"{name}が登録情報を更新しました。", ""]
    if outcome.applied:
        labels = "、".join(field_label(k) for k in outcome.applied)
        lines.append(f"反映済みの変更: {labels}")
    if outcome.request_changed and outcome.request is not None:
        labels = "、".join(field_label(k) for k in outcome.request.changes)
        lines.append(f"承認待ちの変更: {labels}（総合支援窓口の承認が必要です）")
        url = tokens.link(url_for("myorg.requests", _anchor=f"request-{outcome.request.id}"))
    else:
        url = tokens.link(url_for("members.show", org_id=org.id))
    lines += ["", "内容は次のページで確認できます（ログインが必要です）。", url, ""]
    body = "\n".join(lines)
    subject = f"{MAIL_PREFIX}{name}が登録情報を更新しました"
    for user in desk_users(org.municipality_id):
        enqueue(user.email, subject, body, kind="member_updated", municipality_id=org.municipality_id)


def _notify_requester(request: OrganizationChangeRequest, *, approved: bool) -> None:
    user = request.requested_by
    org = request.organization
    # Only someone who still acts for this organisation.
    if user is None or not user.active or user.member_organization_id != org.id:
        return
    labels = "、".join(field_label(k) for k in request.changes)
    if approved:
        subject = f"{MAIL_PREFIX}名称・区分の変更が承認されました"
        first = f"{labels}の変更が総合支援窓口で承認され、登録情報に反映されました。"
    else:
        subject = f"{MAIL_PREFIX}名称・区分の変更は承認されませんでした"
        first = f"{labels}の変更は総合支援窓口で承認されませんでした。理由は次のページでご確認ください。"
    url = tokens.link(url_for("myorg.show"))
    body = f"{first}\n\n{url}\n（ログインが必要です）\n"
    enqueue(user.email, subject, body, kind="change_request_decided", municipality_id=org.municipality_id)


# ---------------------------------------------------------------------------
# Open tasks and history


@dataclass(frozen=True)
class OpenTask:
    key: str
    title: str
    detail: str
    endpoint: str
    action: str
    # True when the member has to act; False when it waits for the desk.
    actionable: bool = True


def open_tasks(org: MemberOrganization, today: date) -> list[OpenTask]:
    """What the organisation should do now, then what waits for the desk."""
    tasks: list[OpenTask] = []
    contacts = list(org.contacts)
    task = reconfirmation.open_task_for(org)
    state = reconfirmation.task_state(task) if task is not None else None
    if task is not None and not state.complete:
        tasks.append(OpenTask(
            "reconfirmation",
            f"担当者の再確認（{fiscal_year_label(task.round.started_on)}）",
            f"総合支援窓口から担当者の確認をお願いしています。確認済み {state.confirmed} / {state.total}人。",
            "reconfirmation.mine", "担当者を確認する",
        ))
    if not contacts:
        if task is None or state.complete:
            tasks.append(OpenTask(
                "no_contact", "担当者が登録されていません",
                "相談を引き継ぐときに連絡する、実務の担当者を登録してください。",
                "reconfirmation.my_new", "担当者を登録する",
            ))
    elif not any(c.is_primary for c in contacts):
        tasks.append(OpenTask(
            "no_primary", "主担当が決まっていません",
            "最初に連絡する担当者を1人、主担当にしてください。",
            "reconfirmation.mine", "担当者を見る",
        ))
    if task is None:
        stale = sum(1 for c in contacts if freshness(c.last_confirmed_on, today) is not Freshness.CURRENT)
        if stale:
            tasks.append(OpenTask(
                "stale_contacts", f"確認が必要な担当者が{stale}人います",
                "4月1日以降に確認していない担当者がいます。異動がないか確かめてください。",
                "reconfirmation.mine", "担当者を確認する",
            ))
    pending = pending_request_for(org)
    if pending is not None:
        labels = "・".join(field_label(k) for k in pending.changes)
        tasks.append(OpenTask(
            "change_request", f"{labels}の変更: 承認待ち",
            "総合支援窓口が確認しています。承認されると登録情報に反映されます。",
            "myorg.show", "申請内容を見る", actionable=False,
        ))
    return tasks


def history(org: MemberOrganization, limit: int = 50) -> list[AuditEntry]:
    """This organisation's own audit entries: itself, its contacts, its requests and tasks.

    Each entry is matched through a row that still belongs to this
    organisation, and only from that row's creation on: where SQLite reuses
    the id of a deleted row, the old row's history never shows up here.
    (Entries of contacts that were removed are on the desk's 変更履歴.)
    """
    org_entries = and_(
        AuditEntry.entity == "organization", AuditEntry.entity_id == org.id, AuditEntry.at >= org.created_at,
    )
    def owned(entity: str, model: Any, created: Any) -> Any:
        # Entries of rows of ``model`` that belong to this organisation, from the row's creation on.
        row = select(model.id).where(model.id == AuditEntry.entity_id, model.organization_id == org.id,
                                     created <= AuditEntry.at)
        return and_(AuditEntry.entity == entity, row.exists())

    contact_entries = owned("contact", Contact, Contact.created_at)
    request_entries = owned("change_request", OrganizationChangeRequest, OrganizationChangeRequest.requested_at)
    task_entries = owned("reconfirmation_task", ReconfirmationTask, ReconfirmationTask.created_at)
    return list(db.session.scalars(
        select(AuditEntry)
        .where(or_(org_entries, contact_entries, request_entries, task_entries))
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(limit)
    ))

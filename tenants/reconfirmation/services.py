"""担当者の再確認: rounds, tasks and their progress.

The desk starts a round (typically after 1 April, when staff move); every
active or suspended member organisation gets a task. A task is complete when
every contact of the organisation has been confirmed since the round started,
or when the organisation reported "変更なし、すべて確認しました"
(``complete_task``, which confirms every listed contact in one go).

While a round is open its state is worked out from the contacts, so a
confirmation made anywhere (the member page, the desk, the member list)
counts. Closing a round freezes it: complete tasks get ``completed_at``, and
the final numbers no longer move when contacts change later.

Contact changes go through ``tenants.members.services`` (validation, search
text, audit). Functions here flush but never commit.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import case, func, select, update

from portal.database import lock_for_write
from portal.extensions import db
from portal.timeutil import fiscal_year_label, fiscal_year_start, twelve_months_ago, utcnow
from tenants.core import audit
from tenants.members import services as members
from tenants.members.categories import category_label
from tenants.members.models import Contact, MemberOrganization, MemberStatus
from tenants.models import Municipality
from tenants.reconfirmation.models import ReconfirmationRound, ReconfirmationTask
from tenants.scoping import TenantScopeError, get_scope

# Organisations that take part in a round: not those still applying or gone.
TAKING_PART = (MemberStatus.ACTIVE.value, MemberStatus.SUSPENDED.value)


class ReconfirmationError(Exception):
    """A refused action; the message is Japanese and meant for the user."""

    def __init__(self, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


STALE_CONFIRMATION = (
    "他の方が先に更新しました。最新の内容を表示しています。確かめてから、もう一度確認してください。"
)


# ---------------------------------------------------------------------------
# Rounds


def round_label(round_: ReconfirmationRound) -> str:
    return f"{fiscal_year_label(round_.started_on)} 担当者の再確認"


def open_round() -> ReconfirmationRound | None:
    """The municipality's open round, if any."""
    return db.session.scalar(
        select(ReconfirmationRound)
        .where(ReconfirmationRound.closed_at.is_(None))
        .order_by(ReconfirmationRound.id.desc())
        .limit(1)
    )


def _lock_municipality() -> None:
    """Serialise round changes of one municipality (portal.database.lock_for_write).

    Two desk users pressing 「再確認を始める」 at the same moment must not open
    two rounds.
    """
    scope = get_scope(db.session)
    if scope is None or scope.municipality_id is None:
        raise TenantScopeError("reconfirmation rounds are started and closed within one municipality")
    lock_for_write(select(Municipality.id).where(Municipality.id == scope.municipality_id))


def start_round(today: date, started_by) -> ReconfirmationRound:
    """Open a round and give every active or suspended organisation a task."""
    _lock_municipality()
    current = open_round()
    if current is not None:
        raise ReconfirmationError(
            f"{current.started_on.month}月{current.started_on.day}日に始めた再確認がまだ終わっていません。"
            "新しく始めるには、先にそのラウンドを終了してください。"
        )
    round_ = ReconfirmationRound(started_on=today, started_by_id=getattr(started_by, "id", None))
    db.session.add(round_)
    db.session.flush()
    organization_ids = db.session.scalars(
        select(MemberOrganization.id).where(MemberOrganization.status.in_(TAKING_PART)).order_by(MemberOrganization.id)
    ).all()
    db.session.add_all(ReconfirmationTask(round_id=round_.id, organization_id=oid) for oid in organization_ids)
    db.session.flush()
    audit.record(
        "start", "reconfirmation_round", round_,
        {"started_on": today.isoformat(), "tasks": len(organization_ids)},
        label=round_label(round_),
    )
    return round_


def close_round(round_: ReconfirmationRound) -> RoundProgress:
    """End a round; its numbers are frozen as they are now."""
    _lock_municipality()
    if round_.closed_at is not None:
        raise ReconfirmationError("このラウンドは既に終了しています。")
    progress = round_progress(round_)
    now = utcnow()
    newly_complete = [r.task_id for r in progress.rows if r.complete and r.completed_at is None]
    if newly_complete:
        db.session.execute(
            update(ReconfirmationTask)
            .where(ReconfirmationTask.id.in_(newly_complete))
            .values(completed_at=now)
            .execution_options(synchronize_session="fetch")
        )
    round_.closed_at = now
    db.session.flush()
    audit.record(
        "close", "reconfirmation_round", round_,
        {
            "started_on": round_.started_on.isoformat(),
            "tasks": progress.tasks,
            "completed": progress.completed,
            "contacts_confirmed": progress.contacts_confirmed,
            "contacts_total": progress.contacts_total,
        },
        label=round_label(round_),
    )
    return progress


# ---------------------------------------------------------------------------
# Progress


@dataclass(frozen=True)
class TaskState:
    confirmed: int
    total: int
    complete: bool

    @property
    def label(self) -> str:
        return "確認済み" if self.complete else "未確認"


def _is_complete(completed_at: datetime | None, confirmed: int, total: int, closed: bool) -> bool:
    if closed:
        return completed_at is not None
    return completed_at is not None or (total > 0 and confirmed == total)


def _confirmed_since(started_on: date):
    return func.coalesce(func.sum(case((Contact.last_confirmed_on >= started_on, 1), else_=0)), 0)


def task_state(task: ReconfirmationTask) -> TaskState:
    """Where one organisation stands in its round (one query)."""
    round_ = task.round
    total, confirmed = db.session.execute(
        select(func.count(Contact.id), _confirmed_since(round_.started_on))
        .where(Contact.organization_id == task.organization_id)
    ).one()
    return TaskState(
        confirmed=int(confirmed), total=int(total),
        complete=_is_complete(task.completed_at, int(confirmed), int(total), round_.closed_at is not None),
    )


@dataclass(frozen=True)
class ProgressRow:
    task_id: int
    organization_id: int
    name: str
    category: str
    status: str
    confirmed: int
    total: int
    complete: bool
    completed_at: datetime | None

    @property
    def category_label(self) -> str:
        return category_label(self.category)

    @property
    def status_label(self) -> str:
        return MemberStatus(self.status).label


@dataclass(frozen=True)
class RoundProgress:
    round: ReconfirmationRound
    rows: list[ProgressRow] = field(default_factory=list)

    @property
    def tasks(self) -> int:
        return len(self.rows)

    @property
    def completed(self) -> int:
        return sum(1 for r in self.rows if r.complete)

    @property
    def remaining(self) -> int:
        return self.tasks - self.completed

    @property
    def contacts_total(self) -> int:
        return sum(r.total for r in self.rows)

    @property
    def contacts_confirmed(self) -> int:
        return sum(r.confirmed for r in self.rows)

    @property
    def percent(self) -> int:
        # Rounded down: 99.5 % must not read as 100 %.
        return 100 * self.completed // self.tasks if self.tasks else 0

    @property
    def unfinished(self) -> list[ProgressRow]:
        return [r for r in self.rows if not r.complete]


def round_progress(round_: ReconfirmationRound) -> RoundProgress:
    """Totals and one row per organisation, in one SQL query whatever their number."""
    closed = round_.closed_at is not None
    statement = (
        select(
            ReconfirmationTask.id,
            ReconfirmationTask.completed_at,
            MemberOrganization.id,
            MemberOrganization.name,
            MemberOrganization.name_kana,
            MemberOrganization.category,
            MemberOrganization.status,
            func.count(Contact.id),
            _confirmed_since(round_.started_on),
        )
        .join(MemberOrganization, MemberOrganization.id == ReconfirmationTask.organization_id)
        .outerjoin(Contact, Contact.organization_id == MemberOrganization.id)
        .where(ReconfirmationTask.round_id == round_.id)
        .group_by(
            ReconfirmationTask.id, ReconfirmationTask.completed_at,
            MemberOrganization.id, MemberOrganization.name, MemberOrganization.name_kana,
            MemberOrganization.category, MemberOrganization.status,
        )
        .order_by(MemberOrganization.name_kana, MemberOrganization.name, MemberOrganization.id)
    )
    rows = []
    for task_id, completed_at, org_id, name, _kana, category, status, total, confirmed in db.session.execute(statement):
        total, confirmed = int(total), int(confirmed)
        rows.append(ProgressRow(
            task_id=task_id, organization_id=org_id, name=name, category=category, status=status,
            confirmed=confirmed, total=total, completed_at=completed_at,
            complete=_is_complete(completed_at, confirmed, total, closed),
        ))
    return RoundProgress(round=round_, rows=rows)


@dataclass(frozen=True)
class PastRound:
    id: int
    started_on: date
    closed_at: datetime
    tasks: int
    completed: int

    @property
    def label(self) -> str:
        return fiscal_year_label(self.started_on)


def past_rounds() -> list[PastRound]:
    """Closed rounds, newest first, with their frozen numbers (one query)."""
    statement = (
        select(
            ReconfirmationRound.id,
            ReconfirmationRound.started_on,
            ReconfirmationRound.closed_at,
            func.count(ReconfirmationTask.id),
            func.count(ReconfirmationTask.completed_at),
        )
        .outerjoin(ReconfirmationTask, ReconfirmationTask.round_id == ReconfirmationRound.id)
        .where(ReconfirmationRound.closed_at.is_not(None))
        .group_by(ReconfirmationRound.id, ReconfirmationRound.started_on, ReconfirmationRound.closed_at)
        .order_by(ReconfirmationRound.started_on.desc(), ReconfirmationRound.id.desc())
    )
    return [
        PastRound(id=i, started_on=s, closed_at=c, tasks=int(t), completed=int(d))
        for i, s, c, t, d in db.session.execute(statement)
    ]


@dataclass(frozen=True)
class FreshnessCounts:
    total: int
    current: int
    due: int
    stale: int


def freshness_counts(today: date) -> FreshnessCounts:
    """How many contacts of taking-part organisations are current, due or stale (one query).

    The same rules as ``tenants.members.freshness.freshness``, in SQL.
    """
    stale_limit, april = twelve_months_ago(today), fiscal_year_start(today)
    stale = (Contact.last_confirmed_on.is_(None)) | (Contact.last_confirmed_on <= stale_limit)
    due = (Contact.last_confirmed_on > stale_limit) & (Contact.last_confirmed_on < april)
    total, n_stale, n_due = db.session.execute(
        select(
            func.count(Contact.id),
            func.coalesce(func.sum(case((stale, 1), else_=0)), 0),
            func.coalesce(func.sum(case((due, 1), else_=0)), 0),
        )
        .join(MemberOrganization, MemberOrganization.id == Contact.organization_id)
        .where(MemberOrganization.status.in_(TAKING_PART))
    ).one()
    total, n_stale, n_due = int(total), int(n_stale), int(n_due)
    return FreshnessCounts(total=total, current=total - n_stale - n_due, due=n_due, stale=n_stale)


# ---------------------------------------------------------------------------
# Tasks


def open_task_for(organization: MemberOrganization) -> ReconfirmationTask | None:
    """The organisation's task in the open round, if there is one."""
    return db.session.scalar(
        select(ReconfirmationTask)
        .join(ReconfirmationRound, ReconfirmationRound.id == ReconfirmationTask.round_id)
        .where(ReconfirmationTask.organization_id == organization.id, ReconfirmationRound.closed_at.is_(None))
        .order_by(ReconfirmationTask.id.desc())
        .limit(1)
    )


def complete_task(
    task: ReconfirmationTask, today: date, completed_by=None,
    listed_contact_ids: Collection[int] | None = None, listed_versions: dict[int, int] | None = None,
) -> None:
    """「変更なし、すべて確認しました」: confirm every contact and mark the task done.

    ``listed_contact_ids`` are the contacts the user saw; if the organisation's
    contacts changed meanwhile nothing is confirmed, so nobody confirms a
    contact they never saw.
    """
    if task.round.closed_at is not None:
        raise ReconfirmationError("この再確認は既に終了しています。")
    organization = task.organization
    contacts = list(organization.contacts)
    if not contacts:
        raise ReconfirmationError("担当者を1人以上登録してください。")
    if listed_contact_ids is not None and set(listed_contact_ids) != {c.id for c in contacts}:
        raise ReconfirmationError(
            "担当者の一覧が変わりました。画面を読み込み直し、内容を確かめてからもう一度お願いします。"
        )
    # ``listed_versions``: the version of each contact as the user saw it; one saved since is not confirmed unseen.
    if listed_versions is not None and any(listed_versions.get(c.id) != c.version for c in contacts):
        raise ReconfirmationError(STALE_CONFIRMATION)
    for contact in contacts:
        members.confirm_contact(contact, today)
    task.completed_at = utcnow()
    task.completed_by_id = getattr(completed_by, "id", None)
    db.session.flush()
    audit.record(
        "complete", "reconfirmation_task", task,
        {"round_id": task.round_id, "confirmed_on": today.isoformat(), "contacts": [c.name for c in contacts]},
        label=organization.name,
    )


def remove_contact(contact: Contact) -> None:
    """A member removes a contact who has left; never the last one."""
    if len(contact.organization.contacts) <= 1:
        raise ReconfirmationError(
            "担当者が1人もいなくなるため削除できません。先に後任の担当者を登録してから削除してください。"
        )
    members.delete_contact(contact)

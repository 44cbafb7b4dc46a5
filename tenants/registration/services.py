"""登録制度: applications to join a municipality's network, and the desk's decision.

Anyone may apply through the public form (``submit_application``): the input
is checked with the member normalisers (the same rules as the member list),
floods are refused, and the applicant and the desk are told by e-mail. The
desk approves (``approve``: the organisation, its first contact and a
`member` user are created and the contact is invited) or declines with a
reason (``decline``).

Every function runs inside a ``/m/<code>/`` request, so queries are scoped to
that municipality. Functions flush but never commit; a raised error means the
view answers >= 400 and the request boundary rolls everything back.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from flask import current_app, url_for
from sqlalchemy import func, select, update

from portal.accounts import invitations
from portal.accounts import services as accounts
from portal.accounts.models import Role, User
from portal.accounts.tokens import link
from portal.database import serialise
from portal.extensions import db
from portal.japanese import fold
from portal.mail.services import enqueue
from portal.timeutil import today_jst, utcnow
from tenants.core import audit
from tenants.core.validation import Fields, ValidationError, column_limit, too_long
from tenants.members import services as members
from tenants.members.models import MemberOrganization, MemberStatus
from tenants.models import Municipality
from tenants.registration.models import Registration, RegistrationStatus
from tenants.scoping import EVERYTHING, scoped

# Form field (= Registration column) -> the member normaliser's field.
ORG_FIELDS = {
    "org_name": "name",
    "org_name_kana": "name_kana",
    "category": "category",
    "postal_code": "postal_code",
    "address": "address",
    "phone": "phone",
    "email": "email",
    "website": "website",
    "consultation_tags": "consultation_tags",
    "public_consent": "public_consent",
}
CONTACT_FIELDS = {
    "contact_name": "name",
    "contact_name_kana": "name_kana",
    "contact_title": "title",
    "contact_phone": "phone",
    "contact_email": "email",
}
FLOOD_MESSAGE = "短時間に多くの申請があったため、受け付けを一時停止しています。時間をおいてお試しください。"

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


class RegistrationError(Exception):
    """A refused decision; the message is Japanese and meant for the desk."""

    def __init__(self, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class TooManyApplications(Exception):
    """The flood limits are reached; nothing was stored."""

    message = FLOOD_MESSAGE


# ---------------------------------------------------------------------------
# Applying


def address_key(remote_addr: str | None) -> str:
    """What floods are counted by: the IPv4 address, or the IPv6 /64 network.

    One IPv6 subscriber usually holds a whole /64, so counting single IPv6
    addresses would let one sender apply from endless addresses.
    """
    try:
        ip = ipaddress.ip_address((remote_addr or "").strip())
    except ValueError:
        return (remote_addr or "")[:45]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def _one_line(value: Any) -> Any:
    """Single-line fields: line breaks and control characters become spaces."""
    return _CONTROL.sub(" ", value) if isinstance(value, str) else value


def _multi_line(value: str | None) -> str:
    """Free text kept as written (no NFKC: it is prose), with tidy line ends and no control characters."""
    text = (value or "").replace("\r\n", "\n").replace("\r", "\n")
    text = re.sub(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]", " ", text)
    lines = [line.rstrip(" \t\u3000") for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip(" \t\u3000\n")


def validate_application(data: dict[str, Any]) -> dict[str, Any]:
    """The stored form of an application, or ValidationError keyed by form field."""
    fields = Fields(Registration, data)
    for rules, names in ((members.normalise_organization, ORG_FIELDS), (members.normalise_contact, CONTACT_FIELDS)):
        values, errors = rules({target: _one_line(data.get(source)) for source, target in names.items()})
        fields.take(
            {source: values[target] for source, target in names.items() if target in values},
            {source: errors[target] for source, target in names.items() if target in errors},
        )
    if not data.get("category"):
        fields.errors["category"] = "区分を選んでください。"
    if "contact_email" not in fields.errors and not fields.values.get("contact_email"):
        fields.refuse("contact_email", "メールアドレスを入力してください（承認後のログインに使います）。")
    fields.values["info_offered"] = _multi_line(data.get("info_offered"))
    # The member rules kept to the member columns; the application's own columns must hold the values too.
    for name in fields.values:
        if name not in fields.errors:
            fields.fits(name)
    if not data.get("terms_accepted"):
        fields.refuse("terms_accepted", "参加にあたっての約束を確認し、同意してください。")
    return fields.valid()


def _count_since(since, *criteria) -> int:
    return db.session.scalar(
        select(func.count(Registration.id)).where(Registration.submitted_at >= since, *criteria)
    ) or 0


def _count_everywhere_since(since, *criteria) -> int:
    # A flood crosses municipalities: one sender, one inbox, whichever join form.
    with scoped(db.session, EVERYTHING):
        return _count_since(since, *criteria)


def is_flooded(address: str, contact_email: str | None = None) -> bool:
    """True when one more application would exceed a flood limit.

    Per sender address (or IPv6 /64) and per recipient e-mail, across the
    whole deployment: at most REGISTRATION_MAX_PER_ADDRESS in 24 hours; per
    municipality: at most REGISTRATION_MAX_PER_HOUR in an hour, whoever sends them.
    """
    cfg = current_app.config
    now = utcnow()
    day = now - timedelta(hours=24)
    if _count_since(now - timedelta(hours=1)) >= cfg["REGISTRATION_MAX_PER_HOUR"]:
        return True
    if _count_everywhere_since(day, Registration.applicant_address == address) >= cfg["REGISTRATION_MAX_PER_ADDRESS"]:
        return True
    # The confirmation goes to the typed address: nobody's mailbox can be flooded through us.
    return bool(contact_email) and (
        _count_everywhere_since(day, Registration.contact_email == contact_email) >= cfg["REGISTRATION_MAX_PER_ADDRESS"]
    )


def submit_application(data: dict[str, Any], municipality: Municipality, remote_addr: str | None) -> Registration:
    """Store an application and queue the e-mails (applicant, desk). Raises
    TooManyApplications or ValidationError; nothing is stored then."""
    address = address_key(remote_addr)
    # The limits count across municipalities, so applications are taken one
    # at a time in the whole deployment (they are rare; the counts then hold exactly).
    serialise("registration.submit")
    if is_flooded(address):
        raise TooManyApplications()
    values = validate_application(data)
    if is_flooded(address, values["contact_email"]):
        raise TooManyApplications()
    now = utcnow()
    registration = Registration(
        status=RegistrationStatus.SUBMITTED.value,
        submitted_at=now,
        terms_accepted_at=now,
        applicant_address=address,
        **values,
    )
    db.session.add(registration)
    db.session.flush()
    _mail_applicant_received(registration, municipality)
    _mail_desk_new_application(municipality)
    return registration


def _network_title(municipality: Municipality) -> str:
    return f"{municipality.name} 子育て支援ネットワーク"


def _mail_applicant_received(registration: Registration, municipality: Municipality) -> None:
    # Echo only the organisation name: the rest stays off the wire.
    body = (
        f"{_network_title(municipality)}への登録申請を受け付けました。\n\n"
        f"申請した団体: {registration.org_name}\n\n"
        f"今後の流れ: {municipality.name}の総合支援窓口が申請内容を確認し、結果をこのメールアドレスにお知らせします。\n"
        "承認された場合は、ログイン用のパスワードを設定するご案内を別のメールでお送りします。\n\n"
        "この申請に心当たりがない場合は、このメールを破棄してください。\n"
    )
    enqueue(
        registration.contact_email,
        f"{_network_title(municipality)}への登録申請を受け付けました",
        body,
        kind="application_received",
        municipality_id=municipality.id,
    )


def desk_users(municipality: Municipality) -> list[User]:
    # Users are not tenant rows: their municipality is a plain column.
    return list(
        db.session.scalars(
            select(User)
            .where(User.role == Role.DESK.value, User.municipality_id == municipality.id, User.active.is_(True))
            .order_by(User.id)
        )
    )


def _mail_desk_new_application(municipality: Municipality) -> None:
    url = link(url_for("registration.queue", code=municipality.code))
    body = (
        f"{_network_title(municipality)}に、新しい登録申請が届きました。\n"
        "次のリンクからログインして、内容を確認してください。\n\n"
        f"{url}\n"
    )
    for user in desk_users(municipality):
        enqueue(user.email, f"【{municipality.name}】新しい登録申請が届きました", body,
                kind="application_to_review", municipality_id=municipality.id)


# ---------------------------------------------------------------------------
# Reviewing


def status_counts() -> dict[str, int]:
    rows = db.session.execute(select(Registration.status, func.count(Registration.id)).group_by(Registration.status))
    counts = {s.value: 0 for s in RegistrationStatus}
    counts.update(rows.tuples().all())  # a Result has keys(): update() would take it for a mapping
    return counts


@dataclass
class Duplicates:
    """What makes an application look like one already known."""

    organization: MemberOrganization | None = None
    twins: list[Registration] = field(default_factory=list)
    user_exists: bool = False

    def __bool__(self) -> bool:
        return self.organization is not None or bool(self.twins) or self.user_exists

    @property
    def blocks_approval(self) -> bool:
        return self.organization is not None or self.user_exists


def duplicates_for(registrations: list[Registration]) -> dict[int, Duplicates]:
    """Duplicates of many applications in three queries, whatever their number."""
    if not registrations:
        return {}
    keys = {fold(r.org_name) for r in registrations}
    orgs = {
        o.name_key: o
        for o in db.session.scalars(select(MemberOrganization).where(MemberOrganization.name_key.in_(keys)))
    }
    pending_by_key: dict[str, list[Registration]] = {}
    for other in db.session.scalars(
        select(Registration).where(Registration.status == RegistrationStatus.SUBMITTED.value).order_by(Registration.id)
    ):
        pending_by_key.setdefault(fold(other.org_name), []).append(other)
    emails = {r.contact_email for r in registrations}
    taken = set(db.session.scalars(select(User.email).where(User.email.in_(emails))))
    out = {}
    for r in registrations:
        key = fold(r.org_name)
        out[r.id] = Duplicates(
            organization=orgs.get(key),
            twins=[o for o in pending_by_key.get(key, []) if o.id != r.id],
            user_exists=r.contact_email in taken,
        )
    return out


def _already_decided(registration: Registration) -> RegistrationError:
    return RegistrationError(f"この申請は既に「{registration.status_label}」になっています。もう一度判断することはできません。")


def _claim(registration: Registration, status: RegistrationStatus, reviewer: User) -> None:
    """Decide once: a conditional UPDATE, so two desk users cannot both decide."""
    now = utcnow()
    decided = db.session.execute(
        update(Registration)
        .where(Registration.id == registration.id, Registration.status == RegistrationStatus.SUBMITTED.value)
        .values(status=status.value, reviewed_at=now, reviewed_by_id=reviewer.id)
        .execution_options(synchronize_session=False)
    ).rowcount
    if decided != 1:
        db.session.refresh(registration)
        raise _already_decided(registration)
    registration.status = status.value
    registration.reviewed_at = now
    registration.reviewed_by_id = reviewer.id


def _approval_problem(registration: Registration) -> str | None:
    existing = members.find_organization_by_name(registration.org_name)
    if existing is not None:
        return (f"「{existing.name}」は既に構成員として登録されているため、承認できません。"
                "同じ団体の申請であればお断りしてください。別の団体であれば、申請者に名称を確かめてください。")
    if accounts.find_user_by_email(registration.contact_email) is not None:
        return (f"メールアドレス {registration.contact_email} の利用者が既にいるため、承認できません。"
                "申請者に別のメールアドレスで申請し直してもらうか、お断りしてください。")
    return None


def approve(registration: Registration, reviewer: User) -> MemberOrganization:
    """Create the organisation, its primary contact and a member user; invite the contact.

    Raises RegistrationError (nothing should be kept: the caller rolls back).
    """
    if registration.status != RegistrationStatus.SUBMITTED.value:
        raise _already_decided(registration)
    problem = _approval_problem(registration)
    if problem:
        raise RegistrationError(problem)
    _claim(registration, RegistrationStatus.APPROVED, reviewer)
    today = today_jst()
    try:
        org = members.create_organization({
            **{target: getattr(registration, source) for source, target in ORG_FIELDS.items()},
            "status": MemberStatus.ACTIVE.value,
            "joined_on": today,
        })
        contact = members.create_contact(org, {
            **{target: getattr(registration, source) for source, target in CONTACT_FIELDS.items()},
            "is_primary": True,
            "last_confirmed_on": today,
        })
        user = accounts.create_user(
            email=registration.contact_email,
            role=Role.MEMBER,
            password=None,
            municipality_id=registration.municipality_id,
            member_organization_id=org.id,
            display_name=contact.name,
        )
    except ValidationError as e:
        raise RegistrationError(f"申請内容をそのまま登録できません（{e}）。お断りするか、申請し直してもらってください。") from e
    except accounts.AccountError as e:
        raise RegistrationError(str(e)) from e
    invitations.send_invitation(user, organization_name=org.name, municipality_id=registration.municipality_id)
    registration.organization_id = org.id
    db.session.flush()
    audit.record(
        "approve", "registration", registration,
        {"結果": "承認", "構成員": org.name, "担当者": contact.name, "招待した利用者": user.email},
        label=registration.org_name,
    )
    return org


def validate_reason(reason: str | None) -> str:
    text = _multi_line(reason)
    if not text:
        raise ValidationError({"reason": "お断りする理由を入力してください（申請者にメールで伝わります）。"})
    if len(text) > (limit := column_limit(Registration, "decline_reason")):
        raise ValidationError({"reason": too_long(limit)})
    return text


def decline(registration: Registration, reviewer: User, reason: str | None, municipality: Municipality) -> None:
    """Decline with a reason, which is e-mailed to the applicant as the desk wrote it."""
    if registration.status != RegistrationStatus.SUBMITTED.value:
        raise _already_decided(registration)
    text = validate_reason(reason)
    _claim(registration, RegistrationStatus.DECLINED, reviewer)
    registration.decline_reason = text
    db.session.flush()
    body = (
        f"{_network_title(municipality)}への登録申請（{registration.org_name}）について、"
        "総合支援窓口で確認した結果、今回は登録を見送らせていただくことになりました。\n\n"
        "理由:\n"
        f"{text}\n\n"
        f"ご不明な点は、{municipality.name}の総合支援窓口にお問い合わせください。\n"
    )
    enqueue(registration.contact_email, f"{_network_title(municipality)}への登録申請について", body,
            kind="application_declined", municipality_id=municipality.id)
    audit.record(
        "decline", "registration", registration,
        {"結果": "お断り", "理由": text},
        label=registration.org_name,
    )

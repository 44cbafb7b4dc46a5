"""Small factories for test data. Call them inside `with arranged(app):`."""

from __future__ import annotations

import itertools
from contextlib import contextmanager
from datetime import date, datetime

from flask import current_app
from sqlalchemy import select

from portal.accounts import services as accounts
from portal.accounts.models import Role, User
from portal.extensions import db
from portal.timeutil import today_jst
from tenants import municipalities

# The handover services the handover factories below call.
from tenants.handovers.consultations import close_consultation, record_consultation
from tenants.handovers.models import Consultation, Handover
from tenants.handovers.parties import party_of
from tenants.handovers.transitions import accept, decline, resolve, send_handover, start, withdraw
from tenants.models import Municipality
from tenants.network.models import Network
from tenants.scoping import Scope, scoped

PASSWORD = "correct-horse-battery"
NIIZA = "112305"
SAITAMA = "111007"
KAWAGOE = "112011"

_seq = itertools.count(1)


def municipality(code: str = NIIZA) -> Municipality:
    m = db.session.scalar(select(Municipality).where(Municipality.code == code))
    if m is None:
        municipalities.load(code[:2])
        m = db.session.scalar(select(Municipality).where(Municipality.code == code))
    return m


def user(role: Role | str, municipality_: Municipality | None = None, *, email: str | None = None,
         password: str = PASSWORD, is_demo: bool = False, organization_=None) -> User:
    role = Role(role)
    n = next(_seq)
    return accounts.create_user(
        email=email or f"{role.value}{n}@example.jp",
        role=role,
        password=password,
        municipality_id=municipality_.id if municipality_ is not None else None,
        member_organization_id=organization_.id if organization_ is not None else None,
        display_name=f"テスト利用者{n}",
        is_demo=is_demo,
    )


def network(municipality_: Municipality, name: str | None = None) -> Network:
    n = Network(
        municipality_id=municipality_.id,
        name=name or f"{municipality_.name}子育てネットワーク",
        established_on=date(2010, 4, 1),
    )
    db.session.add(n)
    db.session.flush()
    return n


def organization(municipality_: Municipality, name: str | None = None, category: str = "hoken_center", **data):
    """A member organisation, created through the real service (validated, audited)."""
    from tenants.members import services as members

    with scoped(db.session, Scope(municipality_id=municipality_.id)):
        return members.create_organization({"name": name or f"テスト団体{next(_seq)}", "category": category, **data})


TODAY = object()


def contact(org, name: str | None = None, *, confirmed=TODAY, **data):
    """A contact; confirmed today unless told otherwise (a date, or None for never)."""
    from tenants.members import services as members

    if confirmed is TODAY:
        confirmed = today_jst()
    with scoped(db.session, Scope(municipality_id=org.municipality_id)):
        return members.create_contact(
            org, {"name": name or f"担当 {next(_seq)}号", "last_confirmed_on": confirmed, **data}
        )


def registration(municipality_, org_name: str | None = None, **data):
    """An application to join (登録申請), stored as the public form would store it."""
    from portal.timeutil import utcnow
    from tenants.registration.models import Registration

    n = next(_seq)
    values = {
        "org_name": org_name or f"申請団体{n}",
        "category": "npo",
        "contact_name": f"申請 {n}号",
        "contact_email": f"applicant{n}@example.jp",
        "terms_accepted_at": utcnow(),
        "applicant_address": "192.0.2.1",
        **data,
    }
    r = Registration(municipality_id=municipality_.id, **values)
    db.session.add(r)
    db.session.flush()
    return r


def declaration(municipality_, status: str = "established", declared_on: date | None = None, note: str = ""):
    """A network status declaration (未着手・準備中・設置済), as a desk would declare it."""
    from tenants.rollout.models import NetworkStatusDeclaration

    d = NetworkStatusDeclaration(municipality_id=municipality_.id, status=status,
                                 declared_on=declared_on or date(2015, 4, 1), note=note)
    db.session.add(d)
    db.session.flush()
    return d


def one_member(code: str = NIIZA):
    """A municipality with its network and one member organisation (保健センター, one contact). (municipality, org)"""
    m = municipality(code)
    network(m)
    org = organization(m, "新座市保健センター", "hoken_center")
    contact(org, "見本 花子")
    return m, org


def saitama(niiza_declared: date | None = None, saitama_declared: date | None = None):
    """Saitama's municipalities; 新座市 and さいたま市 with their networks, declared 設置済. (niiza, saitama city)"""
    municipalities.load("11")
    niiza, saitama_city = municipality(NIIZA), municipality(SAITAMA)
    network(niiza, "新座市子育てネットワーク推進委員会")
    network(saitama_city, "さいたま市子育て支援ネットワーク全体会議")
    declaration(niiza, "established", niiza_declared)
    declaration(saitama_city, "established", saitama_declared)
    return niiza, saitama_city


def activity(municipality_, held_on: date, title: str = "情報交換会", kind: str = "exchange", **data):
    """A network activity (活動記録)."""
    from tenants.activities.models import NetworkActivity

    a = NetworkActivity(municipality_id=municipality_.id, held_on=held_on, title=title, kind=kind, **data)
    db.session.add(a)
    db.session.flush()
    return a


# ---------------------------------------------------------------------------
# Consultations and handovers, through the services (no HTTP): for tests that
# need one to exist. Tests of the forms and buttons use tests/support/handovers.py.

SUMMARY = "3歳児の言葉の遅れが心配。母親が一人で抱え込んでいる様子。"
# A consultation as the desk records it, unless told otherwise (the form's fields).
CONSULTATION = {
    "category": "development", "urgency": "normal", "age_band": "age3_5", "summary": SUMMARY,
    "contact_preference": "平日午後に電話", "case_reference": "R8-0012", "consent": "given", "consent_reason": "",
}


def _user_of(by: User | str) -> User:
    if isinstance(by, User):
        return by
    found = db.session.scalar(select(User).where(User.email == by))
    assert found is not None, f"no user {by}"
    return found


@contextmanager
def _as_party_of(user: User):
    """What a request of ``user`` has around the service call: the municipality's scope, url_for."""
    with scoped(db.session, Scope(municipality_id=user.municipality_id)), current_app.test_request_context():
        yield party_of(user)


def consultation(by: User | str, **data) -> Consultation:
    """A consultation recorded by ``by`` (a desk or member user, or the email of one)."""
    user = _user_of(by)
    with _as_party_of(user) as party:
        return record_consultation({**CONSULTATION, **data}, user, party)


def handover(c: Consultation, to, by: User | str | None = None, *, now: datetime | None = None, **data) -> Handover:
    """``c`` sent to ``to`` ("desk", or an organisation or its id) by ``by`` (default: who recorded it)."""
    user = _user_of(by) if by is not None else db.session.get(User, c.created_by_id)
    recipient = "desk" if to == "desk" else str(getattr(to, "id", to))
    with _as_party_of(user) as party:
        return send_handover(c, {"recipient": recipient, **data}, user, party, today_jst(), now=now)


def respond(h: Handover, action: str, by: User | str, text: str = "", *, now: datetime | None = None) -> Handover:
    """``by`` takes ``action`` on ``h``: accept, start or withdraw; decline or resolve with ``text``."""
    user = _user_of(by)
    with _as_party_of(user) as party:
        if action in ("decline", "resolve"):
            {"decline": decline, "resolve": resolve}[action](h, user, party, text, now=now)
        else:
            {"accept": accept, "start": start, "withdraw": withdraw}[action](h, user, party, now=now)
    return h


def close(c: Consultation, outcome: str, by: User | str | None = None) -> Consultation:
    """The coordinator ends ``c`` without (further) handover."""
    user = _user_of(by) if by is not None else db.session.get(User, c.created_by_id)
    with _as_party_of(user) as party:
        close_consultation(c, outcome, user, party)
    return c

"""Small factories for test data. Call them inside `with arranged(app):`."""

from __future__ import annotations

import itertools
from datetime import date

from sqlalchemy import select

from portal.accounts import services as accounts
from portal.accounts.models import Role, User
from portal.extensions import db
from tenants import municipalities
from tenants.models import Municipality
from tenants.network.models import Network

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
    from tenants.scoping import Scope, scoped

    with scoped(db.session, Scope(municipality_id=municipality_.id)):
        return members.create_organization({"name": name or f"テスト団体{next(_seq)}", "category": category, **data})


TODAY = object()


def contact(org, name: str | None = None, *, confirmed=TODAY, **data):
    """A contact; confirmed today unless told otherwise (a date, or None for never)."""
    from portal.timeutil import today_jst
    from tenants.members import services as members

    if confirmed is TODAY:
        confirmed = today_jst()
    from tenants.scoping import Scope, scoped

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


def activity(municipality_, held_on: date, title: str = "情報交換会", kind: str = "exchange", **data):
    """A network activity (活動記録)."""
    from tenants.activities.models import NetworkActivity

    a = NetworkActivity(municipality_id=municipality_.id, held_on=held_on, title=title, kind=kind, **data)
    db.session.add(a)
    db.session.flush()
    return a

"""The handover tests' municipality and their HTTP steps, shared by every module that needs them.

A consultation or handover that is only a test's setup comes from the
factories (``f.consultation``, ``f.handover``: the services, no HTTP); the
steps here are for tests of the forms and buttons themselves.
"""

from __future__ import annotations

from types import SimpleNamespace

from sqlalchemy import func, select

from portal.accounts.models import Role
from portal.extensions import db
from tenants.scoping import EVERYTHING, set_scope
from tests import factories as f
from tests.conftest import arranged, csrf_token

M = f"/m/{f.NIIZA}"


def handover_world(app) -> SimpleNamespace:
    """Niiza (desk, 保健センター, 子育て支援センター, a nursery, their users) and Kawagoe: ids and emails."""
    with arranged(app):
        niiza, kawagoe = f.municipality(f.NIIZA), f.municipality(f.KAWAGOE)
        f.network(niiza)
        f.network(kawagoe)
        hoken = f.organization(niiza, "新座市保健センター", "hoken_center", phone="048-477-1111",
                               consultation_tags=["発達相談", "育児不安"])
        shien = f.organization(niiza, "新座市子育て支援センター", "shien_center", phone="048-477-5555",
                               consultation_tags=["発達相談", "育児不安"])
        other = f.organization(niiza, "新座市立第一保育園", "hoikusho")
        f.contact(hoken, "山田 花子", phone="048-477-2222", title="保健師", is_primary=True)
        f.contact(shien, "佐藤 陽子", phone="048-477-6666", is_primary=True)
        kawagoe_org = f.organization(kawagoe, "川越市保健センター", "hoken_center")
        return SimpleNamespace(
            niiza_id=niiza.id, kawagoe_id=kawagoe.id, hoken=hoken.id, shien=shien.id, other=other.id,
            kawagoe_org=kawagoe_org.id,
            desk=f.user(Role.DESK, niiza, email="desk@niiza.example.jp").email,
            desk2=f.user(Role.DESK, niiza, email="desk2@niiza.example.jp").email,
            hoken_user=f.user(Role.MEMBER, niiza, organization_=hoken, email="hoken@niiza.example.jp").email,
            hoken_user2=f.user(Role.MEMBER, niiza, organization_=hoken, email="hoken2@niiza.example.jp").email,
            shien_user=f.user(Role.MEMBER, niiza, organization_=shien, email="shien@niiza.example.jp").email,
            other_user=f.user(Role.MEMBER, niiza, organization_=other, email="other@niiza.example.jp").email,
            orphan_user=f.user(Role.MEMBER, niiza, email="orphan@niiza.example.jp").email,
            desk_kawagoe=f.user(Role.DESK, kawagoe, email="desk@kawagoe.example.jp").email,
            prefecture=f.user(Role.PREFECTURE).email,
            admin=f.user(Role.ADMIN).email,
        )


def post(client, url, data=None, follow=False):
    return client.post(url, data={**(data or {}), "csrf_token": csrf_token(client)},
                       follow_redirects=follow)


def record(client, **data) -> int:
    """A consultation recorded through the form; its id."""
    response = post(client, f"{M}/handovers/consultations/new", {**f.CONSULTATION, **data})
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(response.headers["Location"].rsplit("/", 1)[1])


def send(client, consultation_id, recipient, **data):
    return post(client, f"{M}/handovers/consultations/{consultation_id}/send", {"recipient": recipient, **data})


def sent_id(response) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(response.headers["Location"].rsplit("/", 1)[1])


def load(app, model, id_):
    """One row, detached, read past the tenant scope."""
    with app.app_context():
        set_scope(db.session, EVERYTHING)
        obj = db.session.get(model, id_)
        db.session.expunge_all()
        return obj


def count(app, model, *where) -> int:
    with app.app_context():
        set_scope(db.session, EVERYTHING)
        return db.session.scalar(select(func.count()).select_from(model).where(*where))

"""Tenant scoping is automatic and fails closed."""

import pytest
from sqlalchemy import delete, func, select, update

from portal.extensions import db
from tenants.network.models import Network
from tenants.scoping import EVERYTHING, Scope, TenantScopeError, scoped, set_scope
from tests import factories as f


@pytest.fixture
def two_networks(app):
    with app.app_context():
        set_scope(db.session, EVERYTHING)
        niiza, kawagoe = f.municipality(f.NIIZA), f.municipality(f.KAWAGOE)
        tokyo = f.municipality("131016")  # 千代田区, another prefecture
        ids = {
            "niiza": (niiza.id, f.network(niiza).id),
            "kawagoe": (kawagoe.id, f.network(kawagoe).id),
            "tokyo": (tokyo.id, f.network(tokyo).id),
        }
        db.session.commit()
    return ids


def test_query_without_scope_raises(app, two_networks):
    with app.app_context():
        with pytest.raises(TenantScopeError):
            db.session.scalars(select(Network)).all()
        with pytest.raises(TenantScopeError):
            db.session.get(Network, two_networks["niiza"][1])
        with pytest.raises(TenantScopeError):
            db.session.scalar(select(func.count(Network.id)))


def test_scope_filters_select_get_and_aggregates(app, two_networks):
    niiza_id, niiza_net = two_networks["niiza"]
    _, kawagoe_net = two_networks["kawagoe"]
    with app.app_context():
        set_scope(db.session, Scope(municipality_id=niiza_id))
        assert [n.id for n in db.session.scalars(select(Network))] == [niiza_net]
        assert db.session.get(Network, kawagoe_net) is None
        assert db.session.get(Network, niiza_net).id == niiza_net
        assert db.session.scalar(select(func.count(Network.id))) == 1
        # Even an explicit filter for another municipality finds nothing.
        assert db.session.scalars(select(Network).where(Network.id == kawagoe_net)).all() == []


def test_scope_reaches_into_subqueries_and_select_from(app, two_networks):
    niiza_id, _ = two_networks["niiza"]
    with app.app_context():
        counted_subquery = select(func.count()).select_from(select(Network).subquery())
        counted_from = select(func.count()).select_from(Network)
        with pytest.raises(TenantScopeError):
            db.session.scalar(counted_subquery)
        with pytest.raises(TenantScopeError):
            db.session.scalar(counted_from)
        set_scope(db.session, Scope(municipality_id=niiza_id))
        assert db.session.scalar(counted_subquery) == 1
        assert db.session.scalar(counted_from) == 1
        assert db.session.scalar(select(func.count()).select_from(select(Network.id).where(Network.id > 0).subquery())) == 1


def test_scope_filters_bulk_update_and_delete(app, two_networks):
    niiza_id, _ = two_networks["niiza"]
    with app.app_context():
        set_scope(db.session, Scope(municipality_id=niiza_id))
        db.session.execute(update(Network).values(activity_summary="更新"))
        db.session.execute(delete(Network).where(Network.name.like("%川越%")))
        db.session.commit()
        set_scope(db.session, EVERYTHING)
        rows = {n.municipality_id: n.activity_summary for n in db.session.scalars(select(Network))}
    assert rows[niiza_id] == "更新"
    assert rows[two_networks["kawagoe"][0]] == ""  # untouched, and not deleted


def test_prefecture_scope_sees_only_its_prefecture(app, two_networks):
    with app.app_context():
        with scoped(db.session, Scope(prefecture_code="11")):
            seen = {n.municipality_id for n in db.session.scalars(select(Network))}
    assert seen == {two_networks["niiza"][0], two_networks["kawagoe"][0]}


def test_new_rows_are_stamped_with_the_scope(app, two_networks):
    niiza_id, _ = two_networks["niiza"]
    kawagoe_id, _ = two_networks["kawagoe"]
    with app.app_context():
        set_scope(db.session, EVERYTHING)
        db.session.execute(delete(Network))
        db.session.commit()
        set_scope(db.session, Scope(municipality_id=niiza_id))
        n = Network(name="新しいネットワーク")
        db.session.add(n)
        db.session.flush()
        assert n.municipality_id == niiza_id
        db.session.add(Network(name="よその市", municipality_id=kawagoe_id))
        with pytest.raises(TenantScopeError):
            db.session.flush()
        db.session.rollback()


def test_writes_without_scope_or_moves_are_refused(app, two_networks):
    niiza_id, niiza_net = two_networks["niiza"]
    kawagoe_id, _ = two_networks["kawagoe"]
    with app.app_context():
        db.session.add(Network(name="範囲なし", municipality_id=niiza_id))
        with pytest.raises(TenantScopeError):
            db.session.flush()
        db.session.rollback()

        set_scope(db.session, Scope(municipality_id=niiza_id))
        n = db.session.get(Network, niiza_net)
        n.municipality_id = kawagoe_id
        with pytest.raises(TenantScopeError):
            db.session.flush()
        db.session.rollback()


def test_deleting_another_municipalitys_row_is_refused(app, two_networks):
    niiza_id, _ = two_networks["niiza"]
    _, kawagoe_net = two_networks["kawagoe"]
    with app.app_context():
        set_scope(db.session, EVERYTHING)
        other = db.session.get(Network, kawagoe_net)
        set_scope(db.session, Scope(municipality_id=niiza_id))
        db.session.delete(other)
        with pytest.raises(TenantScopeError):
            db.session.flush()
        db.session.rollback()


def test_scope_must_name_exactly_one_thing():
    with pytest.raises(ValueError):
        Scope()
    with pytest.raises(ValueError):
        Scope(municipality_id=1, prefecture_code="11")

"""Tenant scoping is automatic and fails closed."""

import pytest
from sqlalchemy import delete, exists, func, insert, select, text, union_all, update
from sqlalchemy.orm import aliased

from portal.extensions import db
from portal.timeutil import utcnow
from tenants.members.models import Contact, MemberOrganization
from tenants.models import Municipality
from tenants.network.models import Network
from tenants.scoping import EVERYTHING, SCOPE_CHECKED_BY_HAND, Scope, TenantScopeError, scoped, set_scope
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
    with app.app_context(), scoped(db.session, Scope(prefecture_code="11")):
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


# ---------------------------------------------------------------------------
# Every statement shape: filtered to the scope, or refused — never a leak.


@pytest.fixture
def shapes_world(app, two_networks):
    with app.app_context():
        set_scope(db.session, EVERYTHING)
        niiza = db.session.get(Municipality, two_networks["niiza"][0])
        kawagoe = db.session.get(Municipality, two_networks["kawagoe"][0])
        f.contact(f.organization(niiza, "新座市保健センター"), "新座 一郎")
        f.contact(f.organization(kawagoe, "川越市保健センター"), "川越 二郎")
        f.contact(f.organization(kawagoe, "川越市子育て支援センター"), "川越 三郎")
        db.session.commit()
    return two_networks


def _shapes():
    N, Org, C = Network, MemberOrganization, Contact
    return {
        "entity": (select(N), None),
        "column": (select(N.municipality_id), None),
        "count over a column": (select(func.count(N.id)), None),
        "select_from(entity)": (select(func.count()).select_from(N), None),
        "subquery of an entity": (select(func.count()).select_from(select(N).subquery()), None),
        "subquery of columns": (select(func.count()).select_from(select(Org.municipality_id).subquery()), None),
        "join": (select(C.municipality_id).join(Org, C.organization_id == Org.id), None),
        "join on a relationship": (select(Org.municipality_id).join(Org.contacts), None),
        "exists of an entity column": (
            select(Org.municipality_id).where(select(C.id).where(C.organization_id == Org.id).exists()), None),
        "scalar subquery": (select(select(func.count(Org.id)).scalar_subquery()), None),
        "union": (union_all(select(N.municipality_id), select(Org.municipality_id)), None),
        "aliased entity": (select(aliased(Org)), None),
        # Shapes the loader criteria cannot reach: refused.
        "count(*) with a WHERE only": (select(func.count()).where(Org.id > 0), TenantScopeError),
        "with_only_columns(count)": (select(Org).where(Org.id > 0).with_only_columns(func.count()), TenantScopeError),
        "select_from(Core table)": (select(func.count()).select_from(Org.__table__), TenantScopeError),
        "subquery of Core columns": (
            select(func.count()).select_from(select(Org.__table__.c.id).subquery()), TenantScopeError),
        "Core join": (select(func.count()).select_from(Org.__table__.join(C.__table__)), TenantScopeError),
        "exists() with a WHERE only": (
            select(Org.municipality_id).where(exists().where(C.organization_id != Org.id)), TenantScopeError),
        "second entity inside a function": (select(func.coalesce(N.municipality_id, Org.municipality_id)),
                                            TenantScopeError),
        "column of an alias": (select(aliased(Org).municipality_id), TenantScopeError),
        "Core alias": (select(func.count()).select_from(Org.__table__.alias()), TenantScopeError),
        "uncorrelated subquery naming an outer table": (
            select(N.municipality_id).where(
                select(Org.id).where(Org.municipality_id == N.municipality_id).correlate(None).exists()),
            TenantScopeError),
        "text()": (text("SELECT municipality_id FROM member_organizations"), TenantScopeError),
        "text() in a select": (select(text("count(*) FROM contacts")), TenantScopeError),
        "Core update": (update(Org.__table__).values(phone="x"), TenantScopeError),
        "Core delete": (delete(C.__table__), TenantScopeError),
        "insert from a select": (
            insert(Network.__table__).from_select(["municipality_id", "name"], select(Org.municipality_id, Org.name)),
            TenantScopeError),
    }


def _municipality_ids(result) -> set:
    out = set()
    for row in result:
        for value in row:
            out.add(value.municipality_id if hasattr(value, "municipality_id") else value)
    return out


@pytest.mark.parametrize("shape", list(_shapes()))
def test_every_statement_shape_is_filtered_or_refused(app, shapes_world, shape):
    niiza_id = shapes_world["niiza"][0]
    statement, refused = _shapes()[shape]
    with app.app_context():
        set_scope(db.session, Scope(municipality_id=niiza_id))
        if refused:
            for _ in range(2):  # the second time from what the first walk found (tenants.scoping._WALKED)
                with pytest.raises(refused):
                    db.session.execute(statement)
                db.session.rollback()
            # Nothing changed either: the refusal came before the statement ran.
            with scoped(db.session, EVERYTHING):
                assert db.session.scalar(select(func.count(Contact.id))) == 3
                assert db.session.scalar(select(func.count(Network.id))) == 3
            return
        values = _municipality_ids(db.session.execute(statement))
        assert _municipality_ids(db.session.execute(statement)) == values  # walked once, filtered every time
        if shape in ("count over a column", "select_from(entity)", "subquery of an entity", "scalar subquery"):
            assert values == {1}  # 新座市's one network / organisation, of 3 networks and 3 organisations
        elif shape == "subquery of columns":
            assert values == {1}
        else:
            assert values == {niiza_id}, values
            # The same statement object under another scope: that scope's rows.
            kawagoe_id = shapes_world["kawagoe"][0]
            with scoped(db.session, Scope(municipality_id=kawagoe_id)):
                assert _municipality_ids(db.session.execute(statement)) <= {kawagoe_id}


def test_refused_shapes_pass_under_everything_and_text_with_the_escape_hatch(app, shapes_world):
    niiza_id = shapes_world["niiza"][0]
    with app.app_context():
        with scoped(db.session, EVERYTHING):
            assert db.session.scalar(select(func.count()).where(MemberOrganization.id > 0)) == 3
            assert db.session.scalar(text("SELECT count(*) FROM contacts")) == 3
        set_scope(db.session, Scope(municipality_id=niiza_id))
        checked = text("SELECT count(*) FROM contacts WHERE municipality_id = :m").bindparams(m=niiza_id)
        checked = checked.execution_options(**{SCOPE_CHECKED_BY_HAND: True})
        assert db.session.scalar(checked) == 1
        # text() without a tenant table is fine, and so is a statement naming none.
        assert db.session.scalar(text("SELECT 1")) == 1


def test_handover_to_route_count_is_scoped(app, shapes_world):
    from tenants.handovers import inbox
    from tenants.handovers.models import Consultation
    from tenants.handovers.parties import DESK

    niiza_id, kawagoe_id = shapes_world["niiza"][0], shapes_world["kawagoe"][0]
    with app.app_context():
        set_scope(db.session, EVERYTHING)
        for municipality_id, n in ((niiza_id, 1), (kawagoe_id, 4)):
            for _ in range(n):
                db.session.add(Consultation(
                    municipality_id=municipality_id, received_by_organization_id=None, category="development",
                    urgency="normal", age_band="age3_5", summary="（架空）", contact_preference="電話",
                    consent="given",
                ))
        db.session.commit()
        set_scope(db.session, Scope(municipality_id=niiza_id))
        counts = inbox.counts(DESK, utcnow())
        _, count_stmt = inbox.inbox_query(DESK, "consultations", "open", utcnow())
        assert counts.to_route == 1
        assert db.session.scalar(count_stmt) == 1

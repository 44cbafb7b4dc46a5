"""tenants/core: what the features share (issue 13)."""

from __future__ import annotations

import pytest
from werkzeug.exceptions import NotFound

from portal.extensions import db
from tenants.core import labels
from tenants.core.enums import LabelledEnum
from tenants.core.forms import length_of
from tenants.core.loading import get_or_404
from tenants.core.validation import Fields, ValidationError, column_limit
from tenants.members.models import MemberOrganization, MemberStatus
from tenants.network.models import Network
from tenants.registration.models import Registration
from tenants.scoping import EVERYTHING, Scope, set_scope
from tests import factories as f


class Colour(LabelledEnum):
    RED = "red", "赤"
    BLUE = "blue", "青"


def test_a_labelled_enum_is_its_code_and_has_a_japanese_label():
    assert Colour("red") is Colour.RED and Colour.RED == "red" and f"{Colour.BLUE}" == "blue"
    assert Colour.RED.label == "赤"
    assert Colour.values() == {"red", "blue"}
    assert [(c.value, c.label) for c in Colour.choices()] == [("red", "赤"), ("blue", "青")]
    assert MemberStatus.ACTIVE.label == "活動中"


def test_a_limit_is_read_from_the_column_for_strings_and_declared_texts():
    assert column_limit(MemberOrganization, "name") == 120
    assert column_limit(Registration, "info_offered") == 1000  # Text, info={"max_length": ...}
    assert column_limit(MemberOrganization, "search_text") is None
    assert length_of(Network, "activity_summary").max == 4000
    with pytest.raises(KeyError):
        column_limit(MemberOrganization, "no_such_column")


def test_fields_collect_every_problem_then_refuse_at_once():
    fields = Fields(MemberOrganization, {"name": "　", "address": "あ" * 201, "public_consent": "on"})
    fields.text("name", required="名称を入力してください。")
    fields.text("address", label="住所")
    assert fields.flag("public_consent") is True
    with pytest.raises(ValidationError) as refused:
        fields.valid()
    assert refused.value.errors == {"name": "名称を入力してください。", "address": "住所は200文字以内で入力してください。"}
    assert str(refused.value) == "名称: 名称を入力してください。 住所: 住所は200文字以内で入力してください。"


def test_a_field_name_means_one_thing_across_features():
    labels.field_labels(name="名称")  # the same label again is fine
    with pytest.raises(ValueError):
        labels.field_labels(name="氏名")
    assert labels.shown_value("category", "hoken_center") == "保健センター"
    assert labels.shown_value("status", "left") == "退会"
    assert labels.shown_value("status", "未着手") == "未着手"  # not a member status: as stored


def test_get_or_404_stays_inside_the_tenant_scope_even_for_a_row_the_session_holds(app):
    with app.app_context():
        set_scope(db.session, EVERYTHING)
        niiza, kawagoe = f.municipality(f.NIIZA), f.municipality(f.KAWAGOE)
        theirs = f.network(kawagoe)
        db.session.flush()
        assert db.session.get(Network, theirs.id) is theirs  # now in the session's identity map
        set_scope(db.session, Scope(municipality_id=niiza.id))
        with pytest.raises(NotFound):
            get_or_404(Network, theirs.id)
        with pytest.raises(NotFound):
            get_or_404(Network, None)
        set_scope(db.session, Scope(municipality_id=kawagoe.id))
        assert get_or_404(Network, theirs.id) is theirs
        with pytest.raises(NotFound):
            get_or_404(Network, theirs.id, Network.name == "別の名前")
        db.session.rollback()

"""One place declares and shows what a field asks for (issue 12, items 4 and 9): every
form of the application, rendered through the field macro, marks its required fields,
shows its limits, never hands the browser a hard maxlength; an over-long text comes
back whole with a Japanese message and an error summary linking every field in error."""

from __future__ import annotations

import importlib
import inspect
import re

import pytest
from flask_wtf import FlaskForm
from markupsafe import Markup

from portal import create_app
from portal.forms import COUNTED_MIN, WTFORMS_HTML_PARAMS, field_limit, field_required, html_params, max_length
from tests.conftest import logged_in
from tests.support.handovers import M, handover_world, post

FORM_MODULES = [
    "portal.accounts.forms", "tenants.activities.forms", "tenants.handovers.forms", "tenants.members.forms",
    "tenants.myorg.forms", "tenants.network.forms", "tenants.reconfirmation.forms", "tenants.registration.forms",
    "tenants.rollout.forms", "tenants.transfer.forms",
]
TEXT_TYPES = {"StringField", "TextAreaField", "URLField", "SearchField"}


@pytest.fixture
def world(app):
    return handover_world(app)


def _form_classes():
    for name in FORM_MODULES:
        module = importlib.import_module(name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, FlaskForm) and cls is not FlaskForm and cls.__module__ == name:
                yield cls


@pytest.fixture(scope="module")
def rendering():
    app = create_app({"KOSODATE_ENV": "test", "WTF_CSRF_ENABLED": False, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    with app.test_request_context():
        yield app.jinja_env.get_template("_macros.html").module.field


def test_every_field_is_rendered_with_its_requirement_and_limit_and_no_hard_maxlength(rendering):
    seen = required = limited = 0
    for cls in _form_classes():
        form = cls(formdata=None)
        for f in form:
            if f.type in ("CSRFTokenField", "HiddenField") or f.type not in TEXT_TYPES | {"SelectField", "EmailField",
                                                                                           "TelField", "PasswordField"}:
                continue
            html = str(rendering(f))
            seen += 1
            assert "maxlength" not in html, f"{cls.__name__}.{f.name} still gives the browser a hard maxlength"
            label = re.search(r"<label[^>]*>(.*?)</label>", html, re.S).group(1)
            assert ("必須" in label) == field_required(f), f"{cls.__name__}.{f.name}"
            required += field_required(f)
            n = max_length(f)
            if f.type in TEXT_TYPES and n is not None and n >= COUNTED_MIN:
                assert f"{n:,}文字以内" in html and f'data-limit="{n}"' in html, f"{cls.__name__}.{f.name}"
                assert f'data-count-for="{f.id}"' in html
                limited += 1
            else:
                assert field_limit(f) is None and "文字以内" not in html
    assert seen > 60 and required > 15 and limited > 25


@pytest.mark.parametrize("form, field", [
    ("tenants.members.forms:OrganizationForm", "name"), ("tenants.members.forms:ContactForm", "name"),
    ("tenants.handovers.forms:ConsultationForm", "category"), ("tenants.handovers.forms:ConsultationForm", "age_band"),
    ("tenants.handovers.forms:ConsultationForm", "summary"), ("tenants.handovers.forms:ResolveForm", "outcome"),
    ("tenants.handovers.forms:DeclineForm", "reason"), ("tenants.myorg.forms:MyOrganizationForm", "name"),
])
def test_the_fields_people_missed_are_marked_required(rendering, form, field):
    module, name = form.split(":")
    f = getattr(importlib.import_module(module), name)(formdata=None)[field]
    assert '<span class="required">必須</span>' in str(rendering(f))


def test_limits_read_from_the_length_validator():
    from tenants.handovers.forms import ConsultationForm, DeclineForm, ResolveForm, SendForm

    app = create_app({"KOSODATE_ENV": "test", "WTF_CSRF_ENABLED": False, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    with app.test_request_context():
        assert max_length(ConsultationForm(formdata=None).summary) == 2000
        assert max_length(ConsultationForm(formdata=None).consent_reason) == 1000
        assert max_length(SendForm(formdata=None).message) == 1000
        assert max_length(ResolveForm(formdata=None).outcome) == 1000
        assert max_length(DeclineForm(formdata=None).reason) == 1000


def test_an_over_long_summary_comes_back_whole_with_a_summary_of_every_problem(app, world):
    desk = logged_in(app, world.desk)
    text = "（架空）" + "あ" * 1997 + "\r\n" + "い"  # 2,003 characters once the line end is one character
    response = post(desk, f"{M}/handovers/consultations/new", {"summary": text, "consent": ""})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert text.replace("\r\n", "\n") in html.replace("\r\n", "\n")  # shown again, not cut
    summary = re.search(r'<div class="error-summary".*?</div>', html, re.S).group(0)
    links = re.findall(r'<a href="#([a-z_0-9-]+)">([^<]+)</a>', summary)
    targets = {t for t, _ in links}
    assert {"summary", "category", "age_band", "consent-0"} <= targets
    assert any("2000文字以内" in text for _, text in links)
    for target in targets:
        assert f'id="{target}"' in html  # each link lands on its field


def test_a_summary_at_the_limit_with_line_breaks_is_accepted(app, world):
    desk = logged_in(app, world.desk)
    text = ("あ" * 99 + "\r\n") * 20  # 2,000 characters with "\n" line ends, 2,020 as the browser sends them
    response = post(desk, f"{M}/handovers/consultations/new", {
        "category": "development", "urgency": "normal", "age_band": "age3_5", "summary": text.strip(),
        "consent": "given", "consent_reason": "",
    })
    assert response.status_code == 302, response.get_data(as_text=True)



# html_params: ours (portal.forms) renders exactly what WTForms' own does, only faster (issue 14).

class _Html:
    """Something that renders itself (like a field or Markup): taken as it is."""

    def __html__(self):
        return '<b title="x">&amp;</b>'


ATTRIBUTE_VALUES = ["", "plain", 'say "hi"', "a & b", "<script>", "it's", "改行\nあり", "日本語", 0, 7, 3.5, None,
                    Markup('already "safe" <i>'), Markup("&amp;"), _Html(), True, False]
ATTRIBUTE_KEYS = ["id", "class_", "for_", "data_limit", "data_count_for", "aria_describedby", "aria_invalid",
                  "data-x", "required", "value", "type", "name", 'odd"key', "a<b"]


@pytest.mark.parametrize("key", ATTRIBUTE_KEYS)
def test_html_params_renders_every_kind_of_attribute_as_wtforms_does(key):
    for value in ATTRIBUTE_VALUES:
        ours, theirs = html_params(**{key: value}), WTFORMS_HTML_PARAMS(**{key: value})
        assert (str(ours), type(ours)) == (str(theirs), type(theirs)), (key, value)
    mixed = dict(zip(ATTRIBUTE_KEYS, ATTRIBUTE_VALUES, strict=False))
    assert html_params(**mixed) == WTFORMS_HTML_PARAMS(**mixed)
    assert html_params() == WTFORMS_HTML_PARAMS() == Markup("")


def test_every_widget_renders_through_ours_and_every_field_renders_as_with_wtforms_own(rendering, monkeypatch):
    """All forms, each field as the field macro and as a bare widget call, with and without errors."""
    import wtforms.widgets
    import wtforms.widgets.core as core

    assert core.html_params is wtforms.widgets.html_params is html_params
    assert core.Input.html_params is html_params and core.Button.html_params is html_params

    def render_all():
        out = []
        for cls in _form_classes():
            form = cls(formdata=None)
            for f in form:
                if f.type == "CSRFTokenField":
                    continue
                out.append(str(f()) + str(f.label()))
                f.errors = ["違います"]
                out.append(str(rendering(f)) if f.type not in ("HiddenField", "BooleanField") else str(f(class_="x")))
        return out

    ours = render_all()
    for target, name in ((core, "html_params"), (wtforms.widgets, "html_params")):
        monkeypatch.setattr(target, name, WTFORMS_HTML_PARAMS)
    monkeypatch.setattr(core.Input, "html_params", staticmethod(WTFORMS_HTML_PARAMS))
    monkeypatch.setattr(core.Button, "html_params", staticmethod(WTFORMS_HTML_PARAMS))
    assert len(ours) > 100
    assert ours == render_all()


def test_checkbox_lists_render_as_wtforms_list_widget_does(rendering):
    """CheckboxList (tenants.core.forms) against WTForms' ListWidget of CheckboxInput options: every
    MultiCheckboxField of every form, with nothing, some and every choice ticked, and a field with
    a required flag, render_kw and awkward labels."""
    from werkzeug.datastructures import MultiDict
    from wtforms.fields.choices import SelectChoice
    from wtforms.validators import DataRequired
    from wtforms.widgets import ListWidget

    from portal.forms import FlaskForm as PortalForm
    from tenants.core.forms import CheckboxList, MultiCheckboxField

    class Odd(PortalForm):
        tags = MultiCheckboxField("<タグ>", choices=[SelectChoice("a&b", 'say "hi"'), SelectChoice("<x>", ""),
                                                     SelectChoice("3", "三")],
                                  validators=[DataRequired()], render_kw={"class_": "checks", "data_x": "1"})
        free = MultiCheckboxField("自由", choices=["ひとつ", "ふたつ"], render_kw={"required": False})

    reference = ListWidget(prefix_label=False)
    checked = 0
    for cls in [*_form_classes(), Odd]:
        for name, f in cls(formdata=None)._fields.items():
            if not isinstance(f.widget, CheckboxList):
                continue
            values = [c.value for c in f._iter_choices_normalized()]
            for ticked in ([], values[:1], values[1::2], values):
                form = cls(formdata=MultiDict([(name, v) for v in ticked]))
                field = form[name]
                ours = str(field()), str(field(class_="x"))
                field.widget = reference
                assert ours == (str(field()), str(field(class_="x"))), (cls.__name__, name, ticked)
                checked += 1
    assert checked >= 4 * 4

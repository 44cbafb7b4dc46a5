"""Every message a form can show is Japanese, whatever is posted.

Walks every form class of every ``forms`` module, posts over-long text into
every field and tampered values into choices, dates and numbers, and fails
on any error message without Japanese in it (WTForms' English defaults).
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re

import pytest
from werkzeug.datastructures import MultiDict
from wtforms import BooleanField, DateField, DecimalField, FileField, IntegerField, SelectFieldBase

import dashboard
import portal
import tenants
from portal.forms import GENERIC, MESSAGES, FlaskForm

JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


def _form_classes():
    found = {}
    for package in (portal, tenants, dashboard):
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if info.name.rsplit(".", 1)[-1] != "forms":
                continue
            module = importlib.import_module(info.name)
            for name, cls in inspect.getmembers(module, inspect.isclass):
                if issubclass(cls, FlaskForm) and cls is not FlaskForm:
                    found[f"{cls.__module__}.{name}"] = cls
    return found


FORMS = _form_classes()


@pytest.fixture(scope="module")
def app():
    """Forms need a request context, not a database: one app for the module."""
    from portal import create_app
    from tests.conftest import TEST_CONFIG

    return create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_every_form_uses_the_japanese_base_class():
    import flask_wtf

    assert len(FORMS) >= 20
    stray = []
    for package in (portal, tenants, dashboard):
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            module = importlib.import_module(info.name)
            for name, cls in inspect.getmembers(module, inspect.isclass):
                if issubclass(cls, flask_wtf.FlaskForm) and not issubclass(cls, FlaskForm) \
                        and cls is not flask_wtf.FlaskForm:
                    stray.append(f"{cls.__module__}.{name}")
    assert stray == []


def _tampered(form) -> list[MultiDict]:
    """Posts that break every field at once: too long, wrong type, not a choice."""
    long_text, bad = MultiDict(), MultiDict()
    for field in form:
        if isinstance(field, FileField):
            continue
        if isinstance(field, (DateField,)) or "date" in field.type.lower():
            long_text.add(field.name, "2026-13-45")
            bad.add(field.name, "昨日")
        elif isinstance(field, (IntegerField, DecimalField)) or "integer" in field.type.lower():
            long_text.add(field.name, "9" * 400)
            bad.add(field.name, "たくさん")
        elif isinstance(field, SelectFieldBase):
            long_text.add(field.name, "zzz")
            bad.add(field.name, "<script>")
        elif isinstance(field, BooleanField):
            long_text.add(field.name, "y")
        else:
            long_text.add(field.name, "あ" * 20_000)
            bad.add(field.name, "x" * 300)
    return [long_text, bad, MultiDict()]


@pytest.mark.parametrize("name", sorted(FORMS))
def test_no_english_message_from_any_form(app, name):
    cls = FORMS[name]
    for data in _tampered(cls(formdata=None, meta={"csrf": False})):
        with app.test_request_context("/", method="POST", data=data):
            form = cls(formdata=data, meta={"csrf": False})
            form.validate()
            messages = [m for errors in form.errors.values() for m in errors if isinstance(m, str)]
            messages += list(getattr(form, "form_errors", []))
            english = [m for m in messages if not JAPANESE.search(m)]
            assert english == [], (name, dict(data))


def test_the_csrf_message_is_japanese_too(app):
    cls = FORMS["portal.accounts.forms.LoginForm"]
    with app.test_request_context("/login", method="POST", data={"email": "a@example.jp", "password": "x"}):
        form = cls()
        assert not form.validate()
        assert form.errors["csrf_token"] and all(JAPANESE.search(m) for m in form.errors["csrf_token"])


def test_translations_cover_wtforms_messages():
    assert all(JAPANESE.search(m) for m in MESSAGES.values()) and JAPANESE.search(GENERIC)

"""Glue between WTForms and the services: ``submit``, the shared fields, the button form.

Every view with a form answers the same way (README, Layout): 200 for the
form, a redirect once saved, **400** when the form comes back with problems
(WTForms' or the service's ``ValidationError``, on the fields), 409 when it
was loaded before someone else's save. A status >= 400 rolls the request's
transaction back (portal/transactions.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from markupsafe import Markup, escape
from sqlalchemy.orm.exc import StaleDataError
from wtforms import DateField, IntegerField, SelectMultipleField
from wtforms.validators import Length
from wtforms.widgets import CheckboxInput, ListWidget
from wtforms.widgets.core import clean_key

from portal.concurrency import VERSION_FIELDS, StaleEdit, check_version, stale_edit
from portal.extensions import db
from portal.forms import FlaskForm, html_params
from tenants.core.validation import ValidationError, column_limit, too_long

INVALID = 400


class ButtonForm(FlaskForm):
    """Only the CSRF token: for one-button actions (confirm, approve, delete)."""


class CheckboxList(ListWidget):
    """What ``ListWidget(prefix_label=False)`` draws for a MultiCheckboxField of CheckboxInput options,
    the same HTML, without binding, processing and rendering a field object for every choice on
    every render (≈18 µs a choice; the join form has 15). tests/test_form_fields.py compares the two."""

    validation_attrs = CheckboxInput.validation_attrs

    def __init__(self) -> None:
        super().__init__(html_tag="ul", prefix_label=False)

    def __call__(self, field, **kwargs):
        kwargs.setdefault("id", field.id)
        # Each option gets the field's render_kw (Meta.render_field) and the flags of the field's
        # validators (Input: only those the widget knows, unless render_kw says otherwise).
        shared = {clean_key(k): v for k, v in (field.render_kw or {}).items()}
        for name in self.validation_attrs:
            if name in vars(field.flags) and name not in shared:
                value = getattr(field.flags, name)
                shared[name] = value() if callable(value) else value
        html = [f"<ul {html_params(**kwargs)}>"]
        for i, choice in enumerate(field._iter_choices_normalized()):
            option_id = f"{field.id}-{i}"
            attrs = dict(shared)
            if choice.selected:
                attrs.setdefault("checked", True)
            attrs.setdefault("id", option_id)
            attrs.setdefault("type", "checkbox")
            attrs.setdefault("value", str(choice.value))
            label = escape(choice.label or choice.value)
            html.append(f'<li><input {html_params(name=field.name, **attrs)}> <label for="{escape(option_id)}">{label}</label></li>')
        html.append("</ul>")
        return Markup("".join(html))


class MultiCheckboxField(SelectMultipleField):
    widget = CheckboxList()
    option_widget = CheckboxInput()  # what iterating the field yields (a template drawing its own list)


class JaDateField(DateField):
    """A date field whose parse error is Japanese (the browser sends YYYY-MM-DD)."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = None
            raise ValueError("日付は 2026-05-20 のように入力してください。") from None


class JaIntegerField(IntegerField):
    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = None
            raise ValueError("半角の数字で入力してください。") from None


def length_of(model: type, name: str, label: str | None = None) -> Length:
    """The Length validator of a field stored in ``model``'s column ``name``: the column's limit."""
    limit = column_limit(model, name)
    if limit is None:
        raise ValueError(f"{model.__name__}.{name} declares no length")
    return Length(max=limit, message=too_long(limit, label))


# What a person may type for a postal code (〒, hyphens, spaces) before it is stored as 123-4567.
POSTAL_CODE_TYPED = Length(max=10, message=too_long(10))


def show_errors(form: FlaskForm, error: ValidationError) -> None:
    """Put a service's field messages on the form's fields (or the form itself)."""
    for name, message in error.errors.items():
        field = getattr(form, name, None)
        if field is not None:
            field.errors = [*(field.errors or []), message]
        else:
            form.form_errors.append(message)


def also_check(form: FlaskForm, validate) -> None:
    """After WTForms refused ``form`` (e.g. a text over its limit), let the service's ``validate`` report
    the other fields too, so the error summary lists every problem at once, not one per submission."""
    if "csrf_token" in form.errors:
        return
    try:
        validate(form_data(form))
    except ValidationError as e:
        for name, message in e.errors.items():
            field = getattr(form, name, None)
            if field is not None and not field.errors:
                field.errors = [message]


def form_data(form: FlaskForm) -> dict:
    return {name: f.data for name, f in form._fields.items() if name != "csrf_token" and name not in VERSION_FIELDS}


class _Saved:
    def __repr__(self) -> str:
        return "SAVED"


# What ``submit`` returns when the save succeeded and gave nothing back.
SAVED: Any = _Saved()
_UNVERSIONED = object()


def submit(form: FlaskForm, save: Callable[[dict], Any], *, current=_UNVERSIONED, current_version: int | None = None):
    """Validate ``form`` and hand its data to ``save``: what ``save`` returned (``SAVED`` for None), or
    None when nothing was saved.

    None means "show the form again": WTForms or the service found problems,
    which are now on the form's fields. The caller answers with
    ``form_status(form)`` — 400, or 409 for a stale form — so that the
    transaction rolls back. A save that returns something falsy (no changes:
    ``{}``) was still a save: test the result with ``is not None``.

    ``current`` is the row an edit form changes (None when there is none
    yet); a form loaded from an older version of it is refused
    (``form.stale``, 409) and nothing is saved.
    """
    if not form.validate_on_submit():
        return None
    try:
        if current is not _UNVERSIONED:
            check_version(form, current, current_version)
        result = save(form_data(form))
    except ValidationError as e:
        show_errors(form, e)
        return None
    except StaleEdit:
        return None
    except StaleDataError:
        # Another save got past the check at the same moment and won the row.
        db.session.rollback()
        if current is _UNVERSIONED or current is None:
            raise
        db.session.refresh(current)
        stale_edit(form, current, current.version)
        return None
    return SAVED if result is None else result


def form_status(form: FlaskForm) -> int:
    """409 for a form loaded before someone else's save, 400 for one shown again with problems, else 200."""
    if getattr(form, "stale", None) is not None:
        return StaleEdit.status
    return INVALID if form.is_submitted() else 200

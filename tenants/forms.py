"""Glue between WTForms and services that raise ValidationError."""

from __future__ import annotations

from sqlalchemy.orm.exc import StaleDataError

from portal.concurrency import VERSION_FIELDS, StaleEdit, check_version, stale_edit
from portal.extensions import db
from portal.forms import FlaskForm
from tenants.members.services import ValidationError


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


_NOT_SAVED = object()
_UNVERSIONED = object()


def submit(form: FlaskForm, save, *, current=_UNVERSIONED, current_version: int | None = None):
    """Validate ``form`` and hand its data to ``save``; the saved thing, or None.

    None means "show the form again": WTForms or the service found problems,
    which are now on the form's fields. The caller answers that with
    ``form_status(form)`` so that the transaction rolls back.

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
    return _NOT_SAVED if result is None else result


def form_status(form: FlaskForm) -> int:
    """409 for a form loaded before someone else's save, 400 for one shown again with problems, else 200."""
    if getattr(form, "stale", None) is not None:
        return StaleEdit.status
    return 400 if form.is_submitted() else 200

"""Glue between WTForms and services that raise ValidationError."""

from __future__ import annotations

from flask_wtf import FlaskForm

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
    return {name: f.data for name, f in form._fields.items() if name != "csrf_token"}


_NOT_SAVED = object()


def submit(form: FlaskForm, save):
    """Validate ``form`` and hand its data to ``save``; the saved thing, or None.

    None means "show the form again": WTForms or the service found problems,
    which are now on the form's fields. The caller answers that with
    ``form_status(form)`` so that the transaction rolls back.
    """
    if not form.validate_on_submit():
        return None
    try:
        result = save(form_data(form))
    except ValidationError as e:
        show_errors(form, e)
        return None
    return _NOT_SAVED if result is None else result


def form_status(form: FlaskForm) -> int:
    """400 for a submitted form shown again with its problems, else 200."""
    return 400 if form.is_submitted() else 200

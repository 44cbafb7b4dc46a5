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


def form_data(form: FlaskForm) -> dict:
    return {name: f.data for name, f in form._fields.items() if name != "csrf_token"}

"""What any request may carry, checked once for every route.

* **NUL** (U+0000) in the path, a query parameter or a form field is refused
  (404 for the path, 400 otherwise): PostgreSQL cannot store or compare it,
  and no person types it.
* Other **C0 control characters** (and DEL) are stripped from query and form
  values; tab, CR and LF stay, since multi-line fields need them.
* **Integers** read with ``request.args.get(..., type=int)`` (or ``form``)
  outside 1..2³¹−1 count as missing, so no overflowing id reaches the database.
* **Bodies**: a POST (PUT, PATCH, DELETE) carrying a body must be a form
  (``application/x-www-form-urlencoded`` or ``multipart/form-data``); JSON or
  anything else is 415, because Flask-WTF would otherwise read JSON as form data.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Flask, Request, abort, request
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.routing import IntegerConverter

# The largest id PostgreSQL's INTEGER holds; our primary keys are INTEGER.
MAX_INT = 2**31 - 1
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
BODY_METHODS = ("POST", "PUT", "PATCH", "DELETE")

_CONTROLS = re.compile(r"[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]")

MSG_NUL = "使えない文字（制御文字 NUL）が含まれています。入力し直してください。"
MSG_TYPE = "この形式のデータは受け付けていません。画面のフォームから送信してください。"


def bounded_int(value: Any) -> int:
    """``int`` for ids and page numbers: only 0..2³¹−1, so overflow cannot reach SQL."""
    number = int(value)
    if not 0 <= number <= MAX_INT:
        raise ValueError(f"{value!r} is out of range")
    return number


class BoundedMultiDict(ImmutableMultiDict):
    """``get(key, type=int)`` and ``getlist(key, type=int)`` bounded like ids."""

    def get(self, key, default=None, type=None):
        return super().get(key, default, bounded_int if type is int else type)

    def getlist(self, key, type=None):
        return super().getlist(key, bounded_int if type is int else type)


class PortalRequest(Request):
    parameter_storage_class = BoundedMultiDict


def clean_text(value: str) -> str:
    return _CONTROLS.sub("", value)


def _cleaned(data: ImmutableMultiDict) -> BoundedMultiDict:
    for key, value in data.items(multi=True):
        if "\x00" in key or "\x00" in value:
            abort(400, description=MSG_NUL)
    return BoundedMultiDict([(clean_text(k), clean_text(v)) for k, v in data.items(multi=True)])


def check_input():
    """before_request, before anything else reads the request."""
    if "\x00" in request.path:
        abort(404)
    if request.method in BODY_METHODS and _has_body() and request.mimetype not in FORM_TYPES:
        abort(415, description=MSG_TYPE)
    # Replace the parsed values once; every later reader (WTForms included) sees these.
    request.__dict__["args"] = _cleaned(request.args)
    if request.mimetype in FORM_TYPES:
        request.__dict__["form"] = _cleaned(request.form)
        for key in request.files:
            if "\x00" in key:
                abort(400, description=MSG_NUL)


def _has_body() -> bool:
    return bool(request.content_length) or request.headers.get("Transfer-Encoding", "").lower() == "chunked" \
        or bool(request.mimetype)


def register_input_checks(app: Flask) -> None:
    app.request_class = PortalRequest
    # First of all before_request hooks: the tenant context reads the path and
    # queries the database with it.
    app.before_request_funcs.setdefault(None, []).insert(0, check_input)


class IdConverter(IntegerConverter):
    """``<int:…>`` everywhere: ids above PostgreSQL's INTEGER are simply not found (404)."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_INT)
        super().__init__(map, *args, **kwargs)


def register_id_converter(app: Flask) -> None:
    """Before any blueprint adds a rule: rules pick their converter when added."""
    app.url_map.converters["int"] = IdConverter

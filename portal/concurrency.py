"""Optimistic locking for edit forms: no save writes back values it never saw.

Each edited model has a ``version`` column (SQLAlchemy ``version_id_col``):
every UPDATE says ``WHERE version = :loaded`` and counts it up. An edit form
carries the version it was loaded with, plus a snapshot of the values it
showed (``VersionedForm``). A save against a newer version raises
``StaleEdit`` with the differences and changes nothing; two saves racing past
that check are caught by the database (``StaleDataError``) and told the same.

The form is then shown again (409) with the other person's changes taken into
the fields this user did not touch, this user's own input kept, and the
current version: saving it once more keeps both changes.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from markupsafe import Markup
from wtforms import BooleanField, HiddenField
from wtforms.fields.choices import SelectChoice

from portal.timeutil import wareki

STALE_MESSAGE = "他の方が先に更新しました。"
STALE_DETAIL = (
    "この画面を開いた後に、次の項目が変更されています。あなたが変えた項目は入力のまま残し、"
    "それ以外は最新の内容にしました。確かめてから、もう一度保存してください。"
)
# For a save outside an edit form, which has no form to show again.
STALE_PAGE_DETAIL = "同じ内容を他の方が同時に変更したため、保存しませんでした。ページを読み込み直し、最新の内容を確かめてからもう一度お試しください。"
VERSION_FIELDS = frozenset({"version", "version_loaded"})
EMPTY = "（空欄）"


@dataclass(frozen=True)
class Difference:
    label: str
    loaded: str  # what the form showed when it was opened
    stored: str  # what is stored now
    yours: str  # what this user sent


class StaleEdit(Exception):
    """The row changed since the form was loaded; nothing was saved."""

    status = 409

    def __init__(self, differences: list[Difference]) -> None:
        super().__init__(STALE_MESSAGE)
        self.message = STALE_MESSAGE
        self.detail = STALE_DETAIL
        self.differences = differences


def _plain(value: Any) -> Any:
    """A field's data as JSON, so loaded, stored and submitted values compare alike."""
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (bool, int)):
        return value
    return str(value).strip()


def _encode(snapshot: dict[str, Any]) -> str:
    raw = json.dumps(snapshot, ensure_ascii=False, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(token: str | None) -> dict[str, Any] | None:
    if not token:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        value = json.loads(raw.decode())
    except (ValueError, UnicodeDecodeError):
        return None  # a damaged snapshot only costs the "loaded" column
    return value if isinstance(value, dict) else None


def _version(value: Any) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


class VersionedForm:
    """Mix into a FlaskForm whose save updates an existing row.

    ``version`` is filled from ``obj.version`` like any other field (or left
    empty when there is no row yet); render both hidden inputs with
    ``{{ form.version_inputs() }}``.
    """

    version = HiddenField()
    version_loaded = HiddenField()
    stale: StaleEdit | None = None
    # The fields compared and shown in a conflict; None: every field of the form.
    versioned_fields: tuple[str, ...] | None = None

    def edited_fields(self):
        return [
            f for name, f in self._fields.items()
            if name not in VERSION_FIELDS and name != "csrf_token"
            and (self.versioned_fields is None or name in self.versioned_fields)
        ]

    def snapshot(self) -> dict[str, Any]:
        return {f.name: _plain(f.data) for f in self.edited_fields()}

    def version_inputs(self) -> Markup:
        if not self.version_loaded.data:
            self.version_loaded.data = _encode(self.snapshot())
        return Markup(self.version()) + Markup(self.version_loaded())


def _shown(field, value: Any) -> str:
    """A value as the user reads it: choice labels, 和暦, チェックあり/なし."""
    if isinstance(field, BooleanField):
        return "チェックあり" if value else "チェックなし"
    choices = getattr(field, "choices", None)
    labels = {}
    for choice in choices or []:
        choice = SelectChoice.from_input(choice)
        labels[str(choice.value)] = str(choice.label)
    if isinstance(value, list):
        return "、".join(labels.get(str(v), str(v)) for v in value) or EMPTY
    if value in ("", None):
        return EMPTY
    if str(value) in labels:
        return labels[str(value)]
    if isinstance(value, str) and field.type in ("DateField", "JaDateField"):
        try:
            return wareki(date.fromisoformat(value))
        except ValueError:
            return value
    return str(value)


def check_version(form: VersionedForm, obj: Any, current_version: int | None = None) -> None:
    """Raise ``StaleEdit`` when ``obj`` moved on since ``form`` was loaded.

    ``obj`` is the row as stored now (None: there is none yet);
    ``current_version`` overrides ``obj.version`` for rows without one (e.g.
    the id of the latest entry of an append-only history). A newer version
    that changed none of the form's fields (say, only the search text) is no
    conflict: the save overwrites nothing it did not show.
    """
    if current_version is None and obj is not None:
        current_version = obj.version
    # What the browser sent; a form without it is refused rather than trusted.
    sent = form.version.raw_data[0] if form.version.raw_data else None
    if _version(sent) == current_version:
        return
    stored_form = type(form)(formdata=None, obj=obj)
    loaded = _decode(form.version_loaded.data)
    differences = _differences(form, stored_form, loaded)
    if loaded is not None and not differences:
        return
    raise _refuse(form, stored_form, loaded, current_version, differences)


def stale_edit(form: VersionedForm, obj: Any, current_version: int | None) -> StaleEdit:
    """Mark ``form`` as refused against ``obj`` as stored now (after a lost race)."""
    stored_form = type(form)(formdata=None, obj=obj)
    loaded = _decode(form.version_loaded.data)
    return _refuse(form, stored_form, loaded, current_version, _differences(form, stored_form, loaded))


def _differences(form: VersionedForm, stored_form: VersionedForm, loaded: dict | None) -> list[Difference]:
    """What changed between loading ``form`` and now; all differing fields when the load is unknown."""
    differences = []
    for field in form.edited_fields():
        stored = _plain(stored_form[field.name].data)
        yours = _plain(field.data)
        if loaded is not None and field.name in loaded:
            if loaded[field.name] != stored:
                differences.append(Difference(
                    field.label.text, _shown(field, loaded[field.name]), _shown(field, stored), _shown(field, yours)
                ))
        elif stored != yours:
            differences.append(Difference(field.label.text, "（不明）", _shown(field, stored), _shown(field, yours)))
    return differences


def _refuse(form, stored_form, loaded, current_version, differences) -> StaleEdit:
    """Prepare ``form`` to be shown again and return the refusal.

    With the loaded values known, the other person's changes go into the
    fields this user did not touch and the version becomes the current one:
    saving again applies this user's changes on top. Without them the form
    keeps its old version and is refused until reloaded.
    """
    if loaded is not None:
        for field in form.edited_fields():
            before = loaded.get(field.name)
            if field.name in loaded and _plain(field.data) == before:
                field.data, field.raw_data = stored_form[field.name].data, None
        form.version.data = "" if current_version is None else str(current_version)
        form.version.raw_data = None
        form.version_loaded.data = _encode(stored_form.snapshot())
    error = StaleEdit(differences)
    form.stale = error
    return error

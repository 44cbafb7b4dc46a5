"""The one form base class: every form's built-in messages in Japanese.

WTForms' own messages ("Not a valid choice.", "Field cannot be longer than
254 characters.") reach users whenever a form declares a validator without
its own message or a select or date is tampered with. WTForms ships a
Japanese catalogue, but it reads like a machine (「フィールドは…」「無効な日付型です」),
so the messages are ours; anything without an entry gets a generic Japanese
sentence rather than English.

It also holds the pieces every form shares: how a field says it is required
and how long it may be. One place declares a limit (a ``Length`` validator)
and one place shows it (``field`` in ``templates/_macros.html``). The browser
is never given a hard ``maxlength``: it would drop pasted text silently, where
the server answers with a Japanese message and shows the text again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import wtforms.widgets
import wtforms.widgets.core
from flask_wtf import FlaskForm as _FlaskForm
from flask_wtf.csrf import _FlaskFormCSRF
from markupsafe import Markup, escape
from wtforms import TextAreaField as _TextAreaField
from wtforms.validators import Length, ValidationError
from wtforms.widgets.core import clean_key

GENERIC = "入力内容を確認してください。"

MESSAGES = {
    "This field is required.": "入力してください。",
    "Invalid input.": "入力内容が正しくありません。",
    "Invalid email address.": "メールアドレスの形式が正しくありません。",
    "Invalid URL.": "URLの形式が正しくありません。",
    "Invalid IP address.": "IPアドレスの形式が正しくありません。",
    "Invalid Mac address.": "MACアドレスの形式が正しくありません。",
    "Invalid UUID.": "形式が正しくありません。",
    "Field must be equal to %(other_name)s.": "「%(other_name)s」と同じ内容を入力してください。",
    "Field must be at least %(min)d character long.": "%(min)d文字以上で入力してください。",
    "Field must be at least %(min)d characters long.": "%(min)d文字以上で入力してください。",
    "Field cannot be longer than %(max)d character.": "%(max)d文字以内で入力してください。",
    "Field cannot be longer than %(max)d characters.": "%(max)d文字以内で入力してください。",
    "Field must be exactly %(max)d character long.": "%(max)d文字で入力してください。",
    "Field must be exactly %(max)d characters long.": "%(max)d文字で入力してください。",
    "Field must be between %(min)d and %(max)d characters long.": "%(min)d文字以上%(max)d文字以内で入力してください。",
    "Number must be at least %(min)s.": "%(min)s以上の数を入力してください。",
    "Number must be at most %(max)s.": "%(max)s以下の数を入力してください。",
    "Number must be between %(min)s and %(max)s.": "%(min)sから%(max)sまでの数を入力してください。",
    "Date must be at least %(min)s.": "%(min)s以降の日付を入力してください。",
    "Date must be at most %(max)s.": "%(max)s以前の日付を入力してください。",
    "Date must be between %(min)s and %(max)s.": "%(min)sから%(max)sまでの日付を入力してください。",
    "Invalid value, must be one of: %(values)s.": "次のいずれかを入力してください: %(values)s",
    "Invalid value, can't be any of: %(values)s.": "次の値は使えません: %(values)s",
    "This field cannot be edited.": "この項目は変更できません。",
    "This field is disabled and cannot have a value.": "この項目には入力できません。",
    "Not a valid choice.": "選択肢の中から選んでください。",
    "Invalid Choice: could not coerce.": "選択肢の中から選んでください。",
    "Invalid choice(s): one or more data inputs could not be coerced.": "選択肢の中から選んでください。",
    "'%(value)s' is not a valid choice for this field.": "選択肢の中から選んでください。",
    "'%(value)s' are not valid choices for this field.": "選択肢の中から選んでください。",
    "Choices cannot be None.": "選択肢の中から選んでください。",
    "Not a valid date value.": "日付を正しく入力してください（例: 2026-04-01）。",
    "Not a valid datetime value.": "日時を正しく入力してください。",
    "Not a valid time value.": "時刻を正しく入力してください（例: 09:30）。",
    "Not a valid week value.": "週を正しく入力してください。",
    "Not a valid integer value.": "整数を半角数字で入力してください。",
    "Not a valid decimal value.": "数を半角数字で入力してください。",
    "Not a valid float value.": "数を半角数字で入力してください。",
    "Invalid CSRF Token.": "ページの有効期限が切れた可能性があります。ページを読み込み直して、もう一度お試しください。",
    "CSRF token missing.": "ページの有効期限が切れた可能性があります。ページを読み込み直して、もう一度お試しください。",
    "CSRF failed.": "ページの有効期限が切れた可能性があります。ページを読み込み直して、もう一度お試しください。",
    "CSRF token expired.": "ページの有効期限が切れました。ページを読み込み直して、もう一度お試しください。",
    "The CSRF token is missing.": "ページの有効期限が切れた可能性があります。ページを読み込み直して、もう一度お試しください。",
    "The CSRF token is invalid.": "ページの有効期限が切れた可能性があります。ページを読み込み直して、もう一度お試しください。",
    "The CSRF token has expired.": "ページの有効期限が切れました。ページを読み込み直して、もう一度お試しください。",
    "The CSRF session token is missing.": "ページの有効期限が切れた可能性があります。ページを読み込み直して、もう一度お試しください。",
    "The CSRF tokens do not match.": "ページの有効期限が切れた可能性があります。ページを読み込み直して、もう一度お試しください。",
    "The referrer header is missing.": "送信を受け付けられませんでした。ページを読み込み直して、もう一度お試しください。",
    "The referrer does not match the host.": "送信を受け付けられませんでした。ページを読み込み直して、もう一度お試しください。",
    "File required.": "ファイルを選んでください。",
    "This field is required": "入力してください。",
}


class JapaneseTranslations:
    """The gettext interface WTForms asks its Meta for."""

    def gettext(self, string: str) -> str:
        return MESSAGES.get(string, GENERIC)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return MESSAGES.get(singular if n == 1 else plural) or MESSAGES.get(plural, GENERIC)


TRANSLATIONS = JapaneseTranslations()


class _JapaneseCSRF(_FlaskFormCSRF):
    """Flask-WTF raises its CSRF messages in English without asking the translations."""

    def validate_csrf_token(self, form, field):
        try:
            super().validate_csrf_token(form, field)
        except ValidationError as e:
            raise ValidationError(MESSAGES.get(str(e.args[0]) if e.args else "", MESSAGES["CSRF failed."])) from None


class FlaskForm(_FlaskForm):
    """Use this instead of flask_wtf.FlaskForm (same name, so imports change in one word)."""

    class Meta(_FlaskForm.Meta):
        csrf_class = _JapaneseCSRF

        def get_translations(self, form):
            return TRANSLATIONS


class Needed:
    """Marks a field required (the 必須 badge, the HTML attribute); the service checks it and says why."""

    field_flags: ClassVar[dict] = {"required": True}

    def __call__(self, form, field) -> None:
        return None


def max_length(field) -> int | None:
    """The field's declared upper limit in characters, or None."""
    limits = [v.max for v in field.validators if isinstance(v, Length) and v.max is not None and v.max >= 0]
    return min(limits) if limits else None


class TextAreaField(_TextAreaField):
    """A textarea whose line ends are "\\n": browsers send "\\r\\n", which would count each line end twice
    against the limit the page shows."""

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if isinstance(self.data, str):
            self.data = self.data.replace("\r\n", "\n").replace("\r", "\n")


# Limits shorter than this belong to format fields (postal codes, phone numbers) whose own
# messages explain the format; a counter there would only be noise.
COUNTED_MIN = 40
_COUNTED_TYPES = {"StringField", "TextAreaField", "URLField", "SearchField"}


def field_limit(field) -> int | None:
    """The limit the page shows with a counter, or None."""
    if field.type not in _COUNTED_TYPES:
        return None
    n = max_length(field)
    return n if n is not None and n >= COUNTED_MIN else None


def field_required(field) -> bool:
    # render_kw={"required": True} is an older way some forms declare it; it counts too.
    return bool(field.flags.required or (field.render_kw or {}).get("required"))


@dataclass(frozen=True)
class FieldView:
    """What the ``field`` macro shows of one field, worked out in one call."""

    id: str
    required: bool
    limit: int | None
    widget: Markup  # the input itself, with its attributes


def field_view(field, id: str | None = None, hint: str | None = None, required: bool | None = None) -> FieldView:
    """The ``field`` macro's logic (templates/_macros.html) in Python: one call from the template
    instead of a dozen, which in Jinja each cost about as much as rendering the input itself.

    ``id`` when one form is on the page several times; ``required`` overrides the field's own flag.
    No hard ``maxlength``: the browser would cut pasted text silently (see the module docstring).
    """
    fid = id or field.id
    limit = field_limit(field)
    errors = field.errors
    described = []
    if hint:
        described.append(f"{fid}-hint")
    if limit:
        described.append(f"{fid}-limit")
    if errors:
        described.append(f"{fid}-error")
    attrs: dict[str, Any] = {"class": "input", "maxlength": False, "id": fid}
    if limit:
        attrs["data-limit"] = limit
    if described:
        attrs["aria-describedby"] = " ".join(described)
    if errors:
        attrs["aria-invalid"] = "true"
    return FieldView(fid, field_required(field) if required is None else required, limit, field(**attrs))


@dataclass(frozen=True)
class ErrorLink:
    label: str
    message: str
    target: str  # the id to link to; "" when the field is not on the page


_GROUPED_TYPES = {"RadioField", "MultiCheckboxField"}


def error_links(form) -> list[ErrorLink]:
    """Every field message of ``form``, in the form's order, with the element to jump to."""
    out = []
    for f in form:
        if not f.errors or f.name == "csrf_token":
            continue
        if f.type == "HiddenField":
            target = ""
        elif f.type in _GROUPED_TYPES:
            target = f"{f.id}-0"
        else:
            target = f.id
        errors = f.errors if isinstance(f.errors, list | tuple) else [str(f.errors)]
        for message in errors:
            out.append(ErrorLink(f.label.text, message, target))
    return out


# WTForms' own html_params, kept as the reference tests/test_form_fields.py compares ours with.
WTFORMS_HTML_PARAMS = wtforms.widgets.core.html_params


def _escaped(value: Any) -> str:
    """markupsafe's ``escape`` as text: for a plain string its own replacements (markupsafe's pure-Python
    ``_escape_inner``), without building a Markup object; anything else through ``escape`` itself."""
    if type(value) is str:
        return (value.replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;")
                .replace("'", "&#39;").replace('"', "&#34;"))
    return str(escape(value))


def html_params(**kwargs: Any) -> Markup:
    """WTForms' ``html_params`` (the attributes of every widget), same output, without its cost.

    WTForms builds each attribute with ``Markup('{k}="{v}"').format(...)``: markupsafe's
    escaping ``string.Formatter``, pure Python, which made up half the time of the public
    join form (≈200 attributes). Here the key and the value are escaped once each, exactly
    as that formatter and ``Markup.join`` escape them, and joined as text.
    """
    parts = []
    for key, value in sorted(kwargs.items()):
        if value is False:
            continue
        name = _escaped(clean_key(key))
        if value is True:
            parts.append(name)  # a boolean attribute: ``required``
        else:
            parts.append(f'{name}="{_escaped(value).replace(chr(34), "&quot;")}"')
    return Markup(" ".join(parts))


def _install_html_params() -> None:
    """Every widget renders through ``html_params`` above: the module function (Select,
    TextArea, ListWidget, Label) and the two widget classes that keep their own reference."""
    wtforms.widgets.core.html_params = html_params
    wtforms.widgets.html_params = html_params
    wtforms.widgets.core.Input.html_params = staticmethod(html_params)
    wtforms.widgets.core.Button.html_params = staticmethod(html_params)


_install_html_params()


def register_template_helpers(app) -> None:
    app.jinja_env.globals.update(field_limit=field_limit, field_required=field_required, field_view=field_view,
                                 error_links=error_links)

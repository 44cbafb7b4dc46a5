"""Form pieces every feature shares: how a field says it is required and how long it may be.

One place declares a limit (a ``Length`` validator) and one place shows it
(``field`` in ``templates/_macros.html``): the label's 必須 badge comes from the
``required`` flag, the 「n / 2,000文字」 counter from ``max_length``. The browser
is never given a hard ``maxlength``: it would drop pasted text silently, where
the server answers with a Japanese message and shows the text again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from wtforms import TextAreaField as _TextAreaField
from wtforms.validators import Length


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


def register_template_helpers(app) -> None:
    app.jinja_env.globals.update(field_limit=field_limit, field_required=field_required, error_links=error_links)

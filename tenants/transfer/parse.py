"""Rows of a roster file → the organisations and contacts in it, and every problem.

Importing goes table → parse → plan → apply. ``parse`` checks every cell of
every row with the same normalisers as the member forms and returns the
organisations found plus every problem (row, column, Japanese reason);
``create_batch`` stores that for the preview, and nothing else is written.
The desk then sees a preview (``plan``), and ``apply`` writes everything or
nothing.

Stable keys: an organisation is its folded name (MemberOrganization.name_key),
a contact its folded name within the organisation (Contact.name_key).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import delete

from portal.extensions import db
from portal.japanese import InputError, clean, fold
from portal.spreadsheet import unneutralise
from portal.timeutil import utcnow
from tenants.core.validation import column_limit
from tenants.members import services as members
from tenants.transfer.columns import (
    COLUMNS,
    CONTACT,
    HEADERS,
    KEEP_WHEN_EMPTY,
    ORG,
    REQUIRED_HEADERS,
    Column,
    cell_text,
    column_for_header,
)
from tenants.transfer.models import ImportBatch
from tenants.transfer.table import Table, read_table

# What a problem may echo back of the file: a tampered cell must not become
# a megabyte-long message on the preview page.
MAX_PROBLEM_COLUMN = 40
MAX_PROBLEM_MESSAGE = 400


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass
class Problem:
    line: int
    column: str
    message: str

    def __post_init__(self) -> None:
        self.column = _shorten(self.column, MAX_PROBLEM_COLUMN)
        self.message = _shorten(self.message, MAX_PROBLEM_MESSAGE)

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "column": self.column, "message": self.message}


@dataclass
class _Contact:
    line: int
    key: str
    values: dict[str, Any]  # is_primary: True, False or None (not said)
    blank: set[str]


@dataclass
class _Organization:
    line: int
    key: str
    values: dict[str, Any]
    blank: set[str]
    value_lines: dict[str, int] = field(default_factory=dict)
    contacts: dict[str, _Contact] = field(default_factory=dict)


@dataclass
class ParseResult:
    records: list[dict[str, Any]]
    problems: list[dict[str, Any]]

    @property
    def organization_count(self) -> int:
        return len(self.records)

    @property
    def contact_count(self) -> int:
        return sum(len(r["contacts"]) for r in self.records)


def _columns_of(line: int, header: list[Any], problems: list[Problem]) -> dict[int, Column]:
    """Which column holds which field, from the header row (normally row 1)."""
    by_index: dict[int, Column] = {}
    seen: dict[str, str] = {}
    for index, raw in enumerate(header):
        text = clean(cell_text(raw))
        if not text:
            continue
        column = column_for_header(text)
        if column is None:
            shown = _shorten(text, MAX_PROBLEM_COLUMN)
            problems.append(Problem(line, text, f"見出し「{shown}」は使えません。テンプレートの見出し（{'、'.join(HEADERS)}）を使ってください。"))
        elif column.header in seen:
            problems.append(Problem(line, text, f"見出し「{column.header}」の列が2つあります（「{seen[column.header]}」と「{text}」）。1つにしてください。"))
        else:
            seen[column.header] = text
            by_index[index] = column
    for required in REQUIRED_HEADERS:
        if required not in seen:
            problems.append(Problem(line, required, f"「{required}」の列がありません。{line}行目に見出し「{required}」を入れてください。"))
    contact_columns = [h for h in seen if h != "担当者名" and any(c.header == h and c.kind == CONTACT for c in COLUMNS)]
    if contact_columns and "担当者名" not in seen:
        problems.append(Problem(line, "担当者名", f"担当者の列（{'、'.join(contact_columns)}）があるときは「担当者名」の列も必要です。"))
    return by_index


def _cells(cells: list[Any], columns: dict[int, Column]) -> dict[Column, Any]:
    out: dict[Column, Any] = {}
    for index, column in columns.items():
        value = cells[index] if index < len(cells) else ""
        if isinstance(value, str):
            value = unneutralise(value.strip())
        out[column] = value
    return out


def _is_blank(value: Any) -> bool:
    return not isinstance(value, date) and not str(value).strip()


def _read_record(kind: str, line: int, cells: dict[Column, Any], problems: list[Problem]) -> tuple[dict[str, Any], set[str]] | None:
    """Typed, normalised values of one side (organisation or contact) of a row."""
    typed: dict[str, Any] = {}
    blank: set[str] = set()
    header_of = {}
    ok = True
    for column, value in cells.items():
        if column.kind != kind:
            continue
        header_of[column.field] = column.header
        if _is_blank(value):
            blank.add(column.field)
        try:
            typed[column.field] = column.read(value)
        except InputError as e:
            problems.append(Problem(line, column.header, str(e)))
            ok = False
    primary = typed.pop("is_primary", None) if kind == CONTACT else None
    normalise = members.normalise_organization if kind == ORG else members.normalise_contact
    values, errors = normalise(typed)
    for name, message in errors.items():
        header = header_of.get(name, "")
        if name == "name":
            message = f"{header}を入力してください。" if message == "入力してください。" else message
        problems.append(Problem(line, header, message))
        ok = False
    if kind == CONTACT:
        values["is_primary"] = primary
    if not ok:
        return None
    return values, blank


_EXAMPLE = re.compile(r"^[（(【\[]?記入例")


def parse(table: Table) -> ParseResult:
    """Every organisation and contact in the file, and every problem found in it."""
    problems: list[Problem] = []
    (header_line, header), *data_rows = table.rows
    columns = _columns_of(header_line, header, problems)
    if problems:
        return ParseResult([], [p.as_dict() for p in problems])
    has_contacts = any(c.kind == CONTACT for c in columns.values())
    orgs: dict[str, _Organization] = {}

    for line, raw_cells in data_rows:
        cells = _cells(raw_cells, columns)
        if all(_is_blank(v) for v in cells.values()):
            continue
        org_name = clean(cell_text(next(v for c, v in cells.items() if c.field == "name" and c.kind == ORG)))
        if _EXAMPLE.match(org_name):
            problems.append(Problem(line, "団体名", "テンプレートの記入例の行が残っています。この行を削除してください。"))
            continue
        org_part = _read_record(ORG, line, cells, problems)
        contact_cells = {c: v for c, v in cells.items() if c.kind == CONTACT}
        contact_part = None
        if has_contacts and not all(_is_blank(v) for v in contact_cells.values()):
            if all(_is_blank(v) for c, v in contact_cells.items() if c.field == "name"):
                others = [c.header for c, v in contact_cells.items() if not _is_blank(v)]
                problems.append(Problem(line, "担当者名", f"担当者名を入力してください（{'・'.join(f'「{h}」' for h in others)}に入力があります）。"))
            else:
                contact_part = _read_record(CONTACT, line, cells, problems)
        if org_part is None:
            continue
        org = _merge_organization(orgs, line, *org_part, problems)
        if org is None or contact_part is None:
            continue
        _add_contact(org, line, *contact_part, problems)

    records = []
    for org in orgs.values():
        primaries = [c for c in org.contacts.values() if c.values["is_primary"]]
        if len(primaries) > 1:
            for extra in primaries[1:]:
                problems.append(Problem(
                    extra.line, "主担当",
                    f"「{org.values['name']}」の主担当が2人います（{primaries[0].line}行目の{primaries[0].values['name']}さんと"
                    f"{extra.values['name']}さん）。主担当は1団体に1人です。",
                ))
        records.append(_record(org))
    problems.sort(key=lambda p: (p.line, HEADERS.index(p.column) if p.column in HEADERS else -1))
    return ParseResult(records if not problems else [], [p.as_dict() for p in problems])


def _merge_organization(orgs: dict[str, _Organization], line: int, values: dict[str, Any], blank: set[str], problems: list[Problem]) -> _Organization | None:
    """The organisation of this row: new, or the same as an earlier row, whose data must agree."""
    key = fold(values["name"])
    org = orgs.get(key)
    if org is None:
        org = orgs[key] = _Organization(line, key, values, blank, dict.fromkeys(values, line))
        return org
    header_of = {c.field: c.header for c in COLUMNS if c.kind == ORG}
    ok = True
    if values["name"] != org.values["name"]:
        problems.append(Problem(
            line, "団体名",
            f"団体名「{values['name']}」は{org.line}行目の「{org.values['name']}」と同じ団体として扱われます。"
            "同じ団体は同じ書き方にしてください。",
        ))
        ok = False
    for name, value in values.items():
        if name == "name" or name in blank:
            continue
        if name in org.blank:
            org.values[name] = value
            org.blank.discard(name)
            org.value_lines[name] = line
        elif org.values.get(name) != value:
            column = next(c for c in COLUMNS if c.kind == ORG and c.field == name)
            shown = column.show or (lambda v: v)
            problems.append(Problem(
                line, header_of[name],
                f"「{values['name']}」の{header_of[name]}が{org.value_lines[name]}行目と違います"
                f"（「{shown(org.values[name])}」と「{shown(value)}」）。同じ団体の行は同じ内容にしてください。",
            ))
            ok = False
    return org if ok else None


def _add_contact(org: _Organization, line: int, values: dict[str, Any], blank: set[str], problems: list[Problem]) -> None:
    key = fold(values["name"])
    earlier = org.contacts.get(key)
    if earlier is not None:
        problems.append(Problem(
            line, "担当者名",
            f"「{org.values['name']}」の担当者「{values['name']}」は{earlier.line}行目にもあります。1人1行にしてください。",
        ))
        return
    org.contacts[key] = _Contact(line, key, values, blank)


def _json(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in values.items()}


def _record(org: _Organization) -> dict[str, Any]:
    values = {k: v for k, v in org.values.items() if not (k in KEEP_WHEN_EMPTY and k in org.blank)}
    contacts = []
    for c in org.contacts.values():
        contact_values = {k: v for k, v in c.values.items() if not (k in KEEP_WHEN_EMPTY and k in c.blank)}
        primary = contact_values.pop("is_primary")
        contacts.append({"line": c.line, "key": c.key, "values": _json(contact_values), "primary": primary})
    return {"line": org.line, "key": org.key, "values": _json(values), "contacts": contacts}


# --- batches ----------------------------------------------------------------------------

DEFAULT_MAX_BYTES = 5 * 1024 * 1024
# Every row goes through the member services one by one (validation, audit):
# about 2 ms per organisation or contact on SQLite, 3.5 ms on PostgreSQL. 2,000
# rows (up to 4,000 records) stay well inside a worker's request timeout; a
# real network has tens to a few hundred members.
DEFAULT_MAX_ROWS = 2_000
# Uploaded rosters hold personal data: batches are kept only as long as a preview needs.
BATCH_RETENTION = timedelta(days=7)


def create_batch(data: bytes, filename: str, user_id: int | None, *, max_rows: int = DEFAULT_MAX_ROWS) -> ImportBatch:
    """Read and check an uploaded file; store what was found for the preview.

    Raises table.FileFormatError when the file cannot be read as a table.
    Problems in the rows do not raise: they are stored and shown.
    """
    result = parse(read_table(data, max_rows=max_rows))
    db.session.execute(delete(ImportBatch).where(ImportBatch.created_at < utcnow() - BATCH_RETENTION))
    batch = ImportBatch(
        created_by_id=user_id,
        filename=re.split(r"[\\/]", filename or "")[-1][: column_limit(ImportBatch, "filename")],
        sha256=hashlib.sha256(data).hexdigest(),
        rows=result.records,
        problems=result.problems,
    )
    db.session.add(batch)
    db.session.flush()
    return batch

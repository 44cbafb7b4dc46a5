"""Member roster import and export.

The file has one row per contact (担当者); an organisation's columns repeat on
each of its contacts' rows, and an organisation without contacts is one row
with the contact columns empty. Exports write exactly the format imports
read, so export → import changes nothing.

Importing is two steps. ``parse`` checks every cell of every row with the
same normalisers as the member forms and returns the organisations found
plus every problem (row, column, Japanese reason); nothing is written. The
desk sees a preview (``plan``), and ``apply`` writes everything through
tenants.members.services (validation, search text, audit) or, when anything
fails, nothing: the request transaction rolls back.

Stable keys: an organisation is its folded name (MemberOrganization.name_key),
a contact its folded name within the organisation (Contact.name_key).
Organisations absent from the file are never deleted.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Callable

from sqlalchemy import delete, select
from sqlalchemy.orm import selectinload

from portal.extensions import db
from portal.japanese import InputError, clean, fold
from portal.timeutil import utcnow, wareki
from tenants.core import audit
from tenants.members import services as members
from tenants.members.models import STATUS_LABELS, Contact, MemberOrganization, MemberStatus
from tenants.members.categories import CATEGORIES, category_by_name, category_label, tag_by_name
from tenants.transfer.csvio import Table, read_table, unneutralise
from tenants.transfer.models import ImportBatch

ORG = "organization"
CONTACT = "contact"



# --- cell readers: text in the file → the typed value the normalisers take ----


def _text(value: Any) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)


def _category(value: Any) -> str:
    text = clean(_text(value))
    if not text:
        raise InputError("区分を入力してください。")
    category = category_by_name(text)
    if category is None:
        raise InputError(f"区分「{text}」は登録されていません。")
    return category.code


_STATUS_BY_WORD = {fold(label): status.value for status, label in STATUS_LABELS.items()}
_STATUS_BY_WORD.update({fold(s.value): s.value for s in MemberStatus})


def _status(value: Any) -> str:
    text = clean(_text(value))
    if not text:
        return MemberStatus.ACTIVE.value
    status = _STATUS_BY_WORD.get(fold(text))
    if status is None:
        raise InputError(f"状態「{text}」は「{'・'.join(STATUS_LABELS.values())}」のどれかにしてください。")
    return status


_TAG_SEPARATORS = re.compile(r"[、,;，；\n]")


def _tags(value: Any) -> list[str]:
    names = [n.strip() for n in _TAG_SEPARATORS.split(clean(_text(value)))]
    tags, unknown = [], []
    for name in filter(None, names):
        tag = tag_by_name(name)
        (tags if tag else unknown).append(tag or name)
    if unknown:
        raise InputError(f"対応できる相談「{'、'.join(unknown)}」は一覧にありません。")
    return tags


_YES = {"はい", "1", "○", "〇", "◯", "●", "yes", "y", "true", "有", "あり", "同意", "済"}
_NO = {"いいえ", "0", "×", "✕", "no", "n", "false", "無", "なし", "-"}


def _yes_no(value: Any) -> bool | None:
    """True, False, or None for an empty cell."""
    text = unicodedata.normalize("NFKC", _text(value)).strip().casefold()
    if not text:
        return None
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise InputError(f"「{clean(_text(value))}」は「はい」か「いいえ」で入力してください。")


_ERAS = {"令和": 2018, "r": 2018, "平成": 1988, "h": 1988, "昭和": 1925, "s": 1925}
_ERA_STARTS = {"令和": date(2019, 5, 1), "平成": date(1989, 1, 8), "昭和": date(1926, 12, 25)}
_ERA_NAMES = {"r": "令和", "h": "平成", "s": "昭和"}
_WESTERN = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")
_JAPANESE = re.compile(r"(令和|平成|昭和|[rhs])\s*(\d{1,2}|元)\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")


def parse_date(value: Any) -> date | None:
    """2026-04-01, 2026/4/1, 2026年4月1日, 令和8年4月1日, R8.4.1; None for an empty cell."""
    if isinstance(value, date):
        return value
    text = unicodedata.normalize("NFKC", str(value)).strip().casefold()
    if not text:
        return None
    message = f"日付「{clean(str(value))}」は 2026-04-01 のように入力してください（令和8年4月1日 も使えます）。"
    era = None
    if m := _WESTERN.fullmatch(text):
        year, month, day = int(m[1]), int(m[2]), int(m[3])
    elif m := _JAPANESE.fullmatch(text):
        era = _ERA_NAMES.get(m[1], m[1])
        year = _ERAS[m[1]] + (1 if m[2] == "元" else int(m[2]))
        month, day = int(m[3]), int(m[4])
    else:
        raise InputError(message)
    try:
        result = date(year, month, day)
    except ValueError:
        raise InputError(message) from None
    if era and result < _ERA_STARTS[era]:
        raise InputError(message)
    return result


# --- cell writers: stored value → text in the file ------------------------------


def _yes_no_text(value: bool) -> str:
    return "はい" if value else "いいえ"


@dataclass(frozen=True)
class Column:
    header: str
    kind: str  # ORG or CONTACT
    field: str
    width: int  # Excel column width in characters
    read: Callable[[Any], Any] = _text
    write: Callable[[Any], Any] = lambda v: v if v is not None else ""
    show: Callable[[Any], str] | None = None  # how the preview shows a value


def _show_date(value: Any) -> str:
    return wareki(value) if value else "（なし）"


COLUMNS: tuple[Column, ...] = (
    Column("団体名", ORG, "name", 30),
    Column("団体名ふりがな", ORG, "name_kana", 30),
    Column("区分", ORG, "category", 18, _category, category_label, category_label),
    Column("郵便番号", ORG, "postal_code", 10),
    Column("住所", ORG, "address", 36),
    Column("電話番号", ORG, "phone", 15),
    Column("メールアドレス", ORG, "email", 28),
    Column("ウェブサイト", ORG, "website", 30),
    Column("状態", ORG, "status", 8, _status, lambda v: MemberStatus(v).label, lambda v: MemberStatus(v).label),
    Column("加入日", ORG, "joined_on", 12, parse_date, show=_show_date),
    Column("対応できる相談", ORG, "consultation_tags", 30, _tags, lambda v: "、".join(v or []), lambda v: "、".join(v or []) or "（なし）"),
    Column("公開同意", ORG, "public_consent", 9, _yes_no, _yes_no_text, _yes_no_text),
    Column("担当者名", CONTACT, "name", 16),
    Column("担当者ふりがな", CONTACT, "name_kana", 20),
    Column("役職・部署", CONTACT, "title", 20),
    Column("担当者電話番号", CONTACT, "phone", 15),
    Column("担当者メールアドレス", CONTACT, "email", 28),
    Column("連絡がつく時間帯", CONTACT, "reachable_hours", 20),
    Column("主担当", CONTACT, "is_primary", 8, _yes_no, _yes_no_text, _yes_no_text),
    Column("最終確認日", CONTACT, "last_confirmed_on", 12, parse_date, show=_show_date),
)
HEADERS = tuple(c.header for c in COLUMNS)
REQUIRED_HEADERS = ("団体名", "区分")
# An empty date cell leaves the stored date as it is (a confirmation date is never erased by a file).
KEEP_WHEN_EMPTY = {"joined_on", "last_confirmed_on"}
DATE_FIELDS = {"joined_on", "last_confirmed_on"}

_HEADER_ALIASES = {
    "名称": "団体名", "団体・機関名": "団体名", "機関・団体名": "団体名", "構成員名": "団体名",
    "ふりがな": "団体名ふりがな", "団体ふりがな": "団体名ふりがな", "団体名よみがな": "団体名ふりがな",
    "種別": "区分", "分類": "区分", "電話": "電話番号", "tel": "電話番号", "メール": "メールアドレス",
    "e-mail": "メールアドレス", "email": "メールアドレス", "url": "ウェブサイト", "ホームページ": "ウェブサイト",
    "公開への同意": "公開同意", "担当者": "担当者名", "担当者氏名": "担当者名", "役職": "役職・部署",
    "部署": "役職・部署", "担当者電話": "担当者電話番号", "担当者メール": "担当者メールアドレス",
}


def _header_key(text: Any) -> str:
    text = unicodedata.normalize("NFKC", _text(text)).casefold()
    text = re.sub(r"[\s\u3000]+", "", text)
    return re.sub(r"[*＊※]|[(（]必須[)）]", "", text)


_COLUMN_BY_HEADER = {_header_key(c.header): c for c in COLUMNS}
_COLUMN_BY_HEADER.update({_header_key(alias): _COLUMN_BY_HEADER[_header_key(h)] for alias, h in _HEADER_ALIASES.items()})


# --- parsing ---------------------------------------------------------------------


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
        text = clean(_text(raw))
        if not text:
            continue
        column = _COLUMN_BY_HEADER.get(_header_key(text))
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
        org_name = clean(_text(next(v for c, v in cells.items() if c.field == "name" and c.kind == ORG)))
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
        org = orgs[key] = _Organization(line, key, values, blank, {name: line for name in values})
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


def _typed(values: dict[str, Any]) -> dict[str, Any]:
    """Back from the JSON stored in the batch: ISO dates become dates."""
    return {k: date.fromisoformat(v) if k in DATE_FIELDS and v else v for k, v in values.items()}


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

    Raises csvio.FileFormatError when the file cannot be read as a table.
    Problems in the rows do not raise: they are stored and shown.
    """
    result = parse(read_table(data, max_rows=max_rows))
    db.session.execute(delete(ImportBatch).where(ImportBatch.created_at < utcnow() - BATCH_RETENTION))
    batch = ImportBatch(
        created_by_id=user_id,
        filename=re.split(r"[\\/]", filename or "")[-1][:255],
        sha256=hashlib.sha256(data).hexdigest(),
        rows=result.records,
        problems=result.problems,
    )
    db.session.add(batch)
    db.session.flush()
    return batch


def same_file_applied_before(batch: ImportBatch) -> ImportBatch | None:
    """The last batch of the identical file that was imported, if any."""
    return db.session.scalar(
        select(ImportBatch)
        .where(ImportBatch.sha256 == batch.sha256, ImportBatch.id != batch.id, ImportBatch.applied_at.is_not(None))
        .order_by(ImportBatch.applied_at.desc())
        .limit(1)
    )


# --- the preview and the import ------------------------------------------------------


@dataclass
class FieldChange:
    label: str
    before: str
    after: str


@dataclass
class ContactPlan:
    line: int
    name: str
    contact: Contact | None
    changes: dict[str, Any]  # what to pass to create_contact/update_contact
    shown: list[FieldChange]

    @property
    def state(self) -> str:
        return "new" if self.contact is None else "changed" if self.changes else "unchanged"


@dataclass
class OrganizationPlan:
    line: int
    name: str
    category: str
    org: MemberOrganization | None
    changes: dict[str, Any]
    shown: list[FieldChange]
    contacts: list[ContactPlan]
    demote: list[Contact]  # primaries not in the file who give way to the file's primary

    @property
    def state(self) -> str:
        return "new" if self.org is None else "changed" if self.changes else "unchanged"

    @property
    def touched(self) -> bool:
        return self.state != "unchanged" or any(c.state != "unchanged" for c in self.contacts) or bool(self.demote)


@dataclass
class Counts:
    organizations: dict[str, int] = field(default_factory=lambda: {"new": 0, "changed": 0, "unchanged": 0})
    contacts: dict[str, int] = field(default_factory=lambda: {"new": 0, "changed": 0, "unchanged": 0})

    @property
    def anything(self) -> bool:
        return any(self.organizations[k] or self.contacts[k] for k in ("new", "changed"))

    def summary_of(self, kind: str) -> str:
        n = getattr(self, kind)
        return f"新規{n['new']}件・変更{n['changed']}件・変更なし{n['unchanged']}件"

    def summary(self) -> str:
        return f"団体 {self.summary_of('organizations')}、担当者 {self.summary_of('contacts')}"


@dataclass
class Plan:
    organizations: list[OrganizationPlan]

    @property
    def counts(self) -> Counts:
        counts = Counts()
        for o in self.organizations:
            counts.organizations[o.state] += 1
            for c in o.contacts:
                counts.contacts[c.state] += 1
            counts.contacts["changed"] += len(o.demote)
        return counts


_LABEL = {(c.kind, c.field): c.header for c in COLUMNS}
_SHOW = {(c.kind, c.field): c.show for c in COLUMNS if c.show}


def _shown(kind: str, name: str, value: Any) -> str:
    show = _SHOW.get((kind, name))
    if show is not None:
        return show(value)
    return str(value) if value not in (None, "") else "（なし）"


def _differences(kind: str, obj: Any, values: dict[str, Any]) -> tuple[dict[str, Any], list[FieldChange]]:
    changes, shown = {}, []
    for name, value in values.items():
        current = getattr(obj, name)
        if current != value:
            changes[name] = value
            shown.append(FieldChange(_LABEL[(kind, name)], _shown(kind, name, current), _shown(kind, name, value)))
    return changes, shown


def _current_organizations() -> dict[str, MemberOrganization]:
    orgs = db.session.scalars(select(MemberOrganization).options(selectinload(MemberOrganization.contacts)))
    return {o.name_key: o for o in orgs}


def plan(records: list[dict[str, Any]]) -> Plan:
    """What importing these records would do to the municipality's current data."""
    existing = _current_organizations()
    plans = []
    for record in records:
        values = _typed(record["values"])
        org = existing.get(record["key"])
        if org is None:
            changes = values
            shown = [
                FieldChange(_LABEL[(ORG, k)], "", _shown(ORG, k, v))
                for k, v in values.items() if k != "name" and v not in ("", None, [], False)
            ]
        else:
            changes, shown = _differences(ORG, org, values)
        current_contacts = {c.name_key: c for c in org.contacts} if org is not None else {}
        marked = next((c["key"] for c in record["contacts"] if c["primary"]), None)
        contact_plans = []
        for c in record["contacts"]:
            contact_values = _typed(c["values"])
            if marked is not None:
                contact_values["is_primary"] = c["key"] == marked
            contact = current_contacts.get(c["key"])
            if contact is None:
                contact_changes = contact_values
                contact_shown = [
                    FieldChange(_LABEL[(CONTACT, k)], "", _shown(CONTACT, k, v))
                    for k, v in contact_values.items() if k != "name" and v not in ("", None, False)
                ]
            else:
                contact_changes, contact_shown = _differences(CONTACT, contact, contact_values)
            contact_plans.append(ContactPlan(c["line"], contact_values["name"], contact, contact_changes, contact_shown))
        in_file = {c["key"] for c in record["contacts"]}
        demote = [c for c in current_contacts.values() if marked and c.is_primary and c.name_key not in in_file]
        plans.append(OrganizationPlan(
            record["line"], values["name"], category_label(values.get("category") or (org.category if org else "")),
            org, changes, shown, contact_plans, demote,
        ))
    return Plan(plans)


def apply(batch: ImportBatch) -> Counts:
    """Write the batch: all of it, or (if anything raises) nothing, as the request rolls back.

    Unchanged organisations and contacts are not touched, so importing the
    same file again writes nothing and records no audit entries.
    """
    if batch.problems:
        raise ValueError("a batch with problems cannot be applied")
    if batch.applied_at is not None:
        raise ValueError("the batch was applied already")
    the_plan = plan(batch.rows)
    for o in the_plan.organizations:
        org = o.org
        if org is None:
            org = members.create_organization(o.changes)
        elif o.changes:
            members.update_organization(org, o.changes)
        # The primary contact changes hands first: whoever loses the flag, then
        # whoever gets it, so every change is audited once and no new contact
        # is made primary by default in between.
        for contact in o.demote:
            members.update_contact(contact, {"is_primary": False})
        losing = [c for c in o.contacts if c.contact is not None and c.changes.get("is_primary") is False]
        gaining = [c for c in o.contacts if c.changes.get("is_primary") is True]
        rest = [c for c in o.contacts if c not in losing and c not in gaining]
        for c in [*losing, *gaining, *rest]:
            if c.contact is None:
                members.create_contact(org, c.changes)
            elif c.changes:
                members.update_contact(c.contact, c.changes)
    counts = the_plan.counts
    batch.applied_at = utcnow()
    if counts.anything:
        # Keys as the audit page shows them; each organisation and contact has its own entry too.
        audit.record(
            "import", "import_batch", batch,
            {"団体": counts.summary_of("organizations"), "担当者": counts.summary_of("contacts"), "sha256": batch.sha256},
            label=batch.filename or "名簿ファイル",
        )
    db.session.flush()
    return counts


# --- export -----------------------------------------------------------------------------

_CATEGORY_ORDER = {c.code: i for i, c in enumerate(CATEGORIES)}


def organizations_for_export() -> list[MemberOrganization]:
    """Every organisation with its contacts, in two queries; by category, then reading."""
    orgs = db.session.scalars(select(MemberOrganization).options(selectinload(MemberOrganization.contacts))).all()
    return sorted(orgs, key=lambda o: (_CATEGORY_ORDER.get(o.category, len(CATEGORIES)), fold(o.name_kana or o.name), o.name))


def export_rows(orgs: list[MemberOrganization]) -> list[list[Any]]:
    rows = []
    for org in orgs:
        org_cells = [c.write(getattr(org, c.field)) for c in COLUMNS if c.kind == ORG]
        contacts = org.contacts or [None]
        for contact in contacts:
            if contact is None:
                rows.append(org_cells + [""] * sum(1 for c in COLUMNS if c.kind == CONTACT))
            else:
                rows.append(org_cells + [c.write(getattr(contact, c.field)) for c in COLUMNS if c.kind == CONTACT])
    return rows


def example_row() -> list[Any]:
    """The template's one example row, which the importer refuses if it is left in."""
    return [
        "（記入例）新座市保健センター", "にいざしほけんせんたー", "保健センター", "352-0000", "新座市野火止1-1-1",
        "048-477-1111", "hoken@example.jp", "https://www.example.jp/", "活動中", "2026-04-01",
        "育児不安、発達相談", "はい", "野火止 花子", "のびどめ はなこ", "母子保健係 保健師", "048-477-1112",
        "nobidome@example.jp", "平日 9時〜17時", "はい", "2026-04-01",
    ]


"""The roster file's columns: one row per contact (担当者), organisation columns first.

An organisation's columns repeat on each of its contacts' rows, and an
organisation without contacts is one row with the contact columns empty.
Each column says how a cell is read (text in the file → the typed value the
member normalisers take), written (stored value → text in the file) and
shown in the preview. Import (``parse``) and export (``export``) both use
this one list, so export → import changes nothing.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from portal.japanese import InputError, clean, fold
from portal.timeutil import ERAS, wareki
from tenants.members.categories import category_by_name, category_label, tag_by_name
from tenants.members.models import MemberStatus

ORG = "organization"
CONTACT = "contact"


# --- cell readers: text in the file → the typed value the normalisers take ----


def cell_text(value: Any) -> str:
    """A cell as text: dates as ISO (2026-04-01), everything else as it is."""
    return value.isoformat() if isinstance(value, date) else str(value)


def _category(value: Any) -> str:
    text = clean(cell_text(value))
    if not text:
        raise InputError("区分を入力してください。")
    category = category_by_name(text)
    if category is None:
        raise InputError(f"区分「{text}」は登録されていません。")
    return category.code


_STATUS_BY_WORD = {fold(s.label): s.value for s in MemberStatus}
_STATUS_BY_WORD.update({fold(s.value): s.value for s in MemberStatus})


def _status(value: Any) -> str:
    text = clean(cell_text(value))
    if not text:
        return MemberStatus.ACTIVE.value
    status = _STATUS_BY_WORD.get(fold(text))
    if status is None:
        raise InputError(f"状態「{text}」は「{'・'.join(s.label for s in MemberStatus)}」のどれかにしてください。")
    return status


_TAG_SEPARATORS = re.compile(r"[、,;，；\n]")


def _tags(value: Any) -> list[str]:
    names = [n.strip() for n in _TAG_SEPARATORS.split(clean(cell_text(value)))]
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
    text = unicodedata.normalize("NFKC", cell_text(value)).strip().casefold()
    if not text:
        return None
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise InputError(f"「{clean(cell_text(value))}」は「はい」か「いいえ」で入力してください。")


# An era by its name or its initial (casefolded, as the cell is read): 令和, r ...
_ERA_BY_WORD = {**{e.name: e for e in ERAS}, **{e.letter.casefold(): e for e in ERAS}}
_WESTERN = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")
_JAPANESE = re.compile(
    rf"({'|'.join(map(re.escape, _ERA_BY_WORD))})\s*(\d{{1,2}}|元)\s*[-/.年]\s*(\d{{1,2}})\s*[-/.月]\s*(\d{{1,2}})\s*日?"
)


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
        era = _ERA_BY_WORD[m[1]]
        year = era.start.year - 1 + (1 if m[2] == "元" else int(m[2]))
        month, day = int(m[3]), int(m[4])
    else:
        raise InputError(message)
    try:
        result = date(year, month, day)
    except ValueError:
        raise InputError(message) from None
    if era is not None and result < era.start:
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
    read: Callable[[Any], Any] = cell_text
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
    text = unicodedata.normalize("NFKC", cell_text(text)).casefold()
    text = re.sub(r"[\s\u3000]+", "", text)
    return re.sub(r"[*＊※]|[(（]必須[)）]", "", text)


_COLUMN_BY_HEADER = {_header_key(c.header): c for c in COLUMNS}
_COLUMN_BY_HEADER.update({_header_key(alias): _COLUMN_BY_HEADER[_header_key(h)] for alias, h in _HEADER_ALIASES.items()})


def column_for_header(text: Any) -> Column | None:
    """The column a header cell names (spacing, width, 必須 marks and known aliases aside)."""
    return _COLUMN_BY_HEADER.get(_header_key(text))


_HEADER = {(c.kind, c.field): c.header for c in COLUMNS}
_SHOW = {(c.kind, c.field): c.show for c in COLUMNS if c.show}


def header_of(kind: str, name: str) -> str:
    return _HEADER[(kind, name)]


def preview_text(kind: str, name: str, value: Any) -> str:
    """A stored value as the preview shows it."""
    show = _SHOW.get((kind, name))
    if show is not None:
        return show(value)
    return str(value) if value not in (None, "") else "（なし）"

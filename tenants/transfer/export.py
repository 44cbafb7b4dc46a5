"""The roster as a file: every organisation and contact, and the import template.

Rows follow ``columns.COLUMNS``, so an export imports back unchanged.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.extensions import db
from portal.japanese import fold
from portal.spreadsheet import write_csv, write_xlsx
from tenants.members.categories import CATEGORIES
from tenants.members.models import MemberOrganization
from tenants.transfer.columns import COLUMNS, CONTACT, HEADERS, ORG

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


def roster_csv() -> bytes:
    return write_csv(HEADERS, export_rows(organizations_for_export()))


def roster_xlsx() -> bytes:
    rows = export_rows(organizations_for_export())
    return write_xlsx(HEADERS, rows, widths=[c.width for c in COLUMNS], title="構成員一覧")


def template_csv() -> bytes:
    return write_csv(HEADERS, [example_row()])

"""The bundled list of Japan's municipalities and loading it into the database."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from sqlalchemy import select

from portal.extensions import db
from tenants.codes import is_valid_code
from tenants.models import Municipality


@dataclass(frozen=True)
class MunicipalityRecord:
    code: str
    prefecture_code: str
    name: str
    kana: str
    kind: str
    designated_city: bool
    lat: float
    lng: float


@lru_cache(maxsize=1)
def _bundle() -> dict:
    text = (resources.files("tenants") / "data" / "municipalities.json").read_text("utf-8")
    return json.loads(text)


def prefectures() -> dict[str, str]:
    """都道府県コード (2 digits) -> name."""
    return {p["code"]: p["name"] for p in _bundle()["prefectures"]}


def prefecture_name(code: str) -> str:
    return prefectures().get(code, code)


def records(prefecture_code: str | None = None) -> list[MunicipalityRecord]:
    rows = [MunicipalityRecord(**r) for r in _bundle()["municipalities"]]
    for r in rows:
        if not is_valid_code(r.code):
            raise ValueError(f"bundled code {r.code} ({r.name}) fails its check digit")
    if prefecture_code is not None:
        rows = [r for r in rows if r.prefecture_code == prefecture_code]
    return rows


def load(prefecture_code: str | None) -> tuple[int, int]:
    """Insert or update the bundled municipalities; returns (added, updated).

    ``None`` loads the whole country. Rerunning changes nothing.
    """
    wanted = records(prefecture_code)
    if not wanted:
        raise ValueError(f"都道府県コード {prefecture_code} の市町村はありません。")
    pref_names = prefectures()
    existing = {
        m.code: m
        for m in db.session.scalars(
            select(Municipality).where(Municipality.code.in_([r.code for r in wanted]))
        )
    }
    added = updated = 0
    for r in wanted:
        values = {
            "prefecture_code": r.prefecture_code,
            "prefecture_name": pref_names[r.prefecture_code],
            "name": r.name,
            "kana": r.kana,
            "kind": r.kind,
            "designated_city": r.designated_city,
            "latitude": r.lat,
            "longitude": r.lng,
        }
        m = existing.get(r.code)
        if m is None:
            db.session.add(Municipality(code=r.code, **values))
            added += 1
        elif any(getattr(m, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(m, k, v)
            updated += 1
    db.session.flush()
    return added, updated

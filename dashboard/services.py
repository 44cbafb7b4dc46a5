"""Aggregates across the prefecture's municipalities. Plain data out, no personal data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from portal.extensions import db
from tenants.models import Municipality
from tenants.network.models import Network


@dataclass(frozen=True)
class MunicipalityRow:
    code: str
    name: str
    kana: str
    kind_label: str
    is_city: bool
    network_name: str | None
    established_on: date | None

    @property
    def has_network(self) -> bool:
        return self.network_name is not None


@dataclass(frozen=True)
class Headline:
    total: int
    established: int
    cities_total: int
    cities_established: int
    towns_total: int
    towns_established: int

    @property
    def percent(self) -> int:
        return round(100 * self.established / self.total) if self.total else 0


def municipality_rows(prefecture_code: str) -> list[MunicipalityRow]:
    """One aggregate query, however many municipalities there are."""
    stmt = (
        select(Municipality, Network.name, Network.established_on)
        .outerjoin(Network, Network.municipality_id == Municipality.id)
        .where(Municipality.prefecture_code == prefecture_code)
        .order_by(Municipality.code)
    )
    return [
        MunicipalityRow(
            code=m.code,
            name=m.name,
            kana=m.kana,
            kind_label=m.kind_label,
            is_city=m.is_city,
            network_name=network_name,
            established_on=established_on,
        )
        for m, network_name, established_on in db.session.execute(stmt)
    ]


def headline(rows: list[MunicipalityRow]) -> Headline:
    cities = [r for r in rows if r.is_city]
    towns = [r for r in rows if not r.is_city]
    return Headline(
        total=len(rows),
        established=sum(r.has_network for r in rows),
        cities_total=len(cities),
        cities_established=sum(r.has_network for r in cities),
        towns_total=len(towns),
        towns_established=sum(r.has_network for r in towns),
    )

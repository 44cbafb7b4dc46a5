"""The tenant itself: a municipality (市町村), identified by its 団体コード."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import Boolean, CheckConstraint, Float, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db


class MunicipalityKind(StrEnum):
    CITY = "市"
    TOWN = "町"
    VILLAGE = "村"
    SPECIAL_WARD = "特別区"


class Municipality(db.Model):
    """A tenant. Not TenantScoped: it is the scope."""

    __tablename__ = "municipalities"
    __table_args__ = (
        CheckConstraint("kind IN ('市', '町', '村', '特別区')", name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(6), unique=True)
    prefecture_code: Mapped[str] = mapped_column(String(2), index=True)
    prefecture_name: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(40))
    kana: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(4))
    designated_city: Mapped[bool] = mapped_column(Boolean, default=False)
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)

    @property
    def kind_label(self) -> str:
        return "政令指定都市" if self.designated_city else self.kind

    @property
    def is_city(self) -> bool:
        """市 (cities and 特別区) versus 町村, as the prefecture's rankings split them."""
        return self.kind in (MunicipalityKind.CITY, MunicipalityKind.SPECIAL_WARD)

    def __repr__(self) -> str:
        return f"<Municipality {self.code} {self.name}>"

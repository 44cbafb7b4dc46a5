"""Coded values with their Japanese labels."""

from __future__ import annotations

from enum import StrEnum

from wtforms.fields.choices import SelectChoice


class LabelledEnum(StrEnum):
    """A stored code and what people read: ``ACTIVE = "active", "活動中"``.

    Members are their code (``MemberStatus.ACTIVE == "active"``, also in
    SQL and JSON); ``.label`` is the Japanese name.
    """

    label: str

    def __new__(cls, value: str, label: str):
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member

    @classmethod
    def values(cls) -> frozenset[str]:
        return frozenset(m.value for m in cls)

    @classmethod
    def labels(cls) -> dict[LabelledEnum, str]:
        """{member: label}, in declaration order."""
        return {m: m.label for m in cls}

    @classmethod
    def choices(cls) -> list[SelectChoice]:
        """For a SelectField or RadioField, in declaration order."""
        return [SelectChoice(m.value, m.label) for m in cls]

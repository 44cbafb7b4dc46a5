"""Whom at a recipient organisation a handover (and the family's slip) names.

One rule for the send panel and the slip: the primary contact when confirmed
in the last 12 months; else the most recently confirmed contact; when nobody
is fresh, the most recently confirmed one all the same, flagged, so that the
page says so and the slip names that person only after the desk confirms.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from tenants.members.freshness import Freshness, freshness
from tenants.members.models import Contact


@dataclass(frozen=True)
class ContactChoice:
    contact: Contact | None
    freshness: Freshness | None
    # Why this person and not the primary one, for staff (never for the family).
    note: str = ""

    @property
    def is_fresh(self) -> bool:
        return self.contact is not None and self.freshness is not Freshness.STALE


NONE_FRESH_NOTE = "12か月以内に確認された担当者がいません。電話の前に、今も担当か確認してください。"


def _confirmed_key(c: Contact):
    # Most recently confirmed first; never-confirmed last; then the primary, then the oldest entry.
    return (c.last_confirmed_on is not None, c.last_confirmed_on or date.min, c.is_primary, -c.id)


def choose_contact(contacts: list[Contact], today: date) -> ContactChoice:
    if not contacts:
        return ContactChoice(None, None)
    primaries = sorted((c for c in contacts if c.is_primary), key=lambda c: c.id)
    if primaries and freshness(primaries[0].last_confirmed_on, today) is not Freshness.STALE:
        return ContactChoice(primaries[0], freshness(primaries[0].last_confirmed_on, today))
    best = max(contacts, key=_confirmed_key)
    state = freshness(best.last_confirmed_on, today)
    if state is Freshness.STALE:
        return ContactChoice(best, state, NONE_FRESH_NOTE)
    if primaries:
        note = f"主担当の{primaries[0].name}さんは12か月以上未確認のため、最近確認された担当者を表示しています。"
    else:
        note = "主担当が決まっていないため、最近確認された担当者を表示しています。"
    return ContactChoice(best, state, note)

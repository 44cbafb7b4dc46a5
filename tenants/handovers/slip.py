"""The family's slip (説明用紙): what it says, keyed by consent state, and what the
desk must confirm before printing it.

The wording never claims more than the record says: 「同意不要」 means the
family did not agree, so that slip does not mention consent at all, and in an
abuse case the adult at the counter may not be the one to receive it — the
desk confirms before the slip is shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from tenants.handovers.contacts import ContactChoice, choose_contact
from tenants.handovers.models import Consent, Handover
from tenants.members.freshness import freshness
from tenants.network.services import get_desk


@dataclass(frozen=True)
class SlipWording:
    title: str
    lead: str
    # The closing line about what was passed on and why; "" = none.
    note: str
    # Shown to the desk before printing; "" = nothing to confirm.
    desk_warning: str = ""
    confirm_label: str = ""


WORDING: dict[Consent, SlipWording] = {
    Consent.GIVEN: SlipWording(
        title="ご相談の引継ぎについて",
        lead="ご相談いただいた内容を、次の窓口におつなぎしました。この窓口の担当者から、あなたにご連絡します。",
        note="あなたのご相談の内容は、あなたの同意のもと、上の窓口にだけお伝えしています。",
    ),
    Consent.NOT_REQUIRED: SlipWording(
        title="お子さんへの支援についてのお知らせ",
        lead="お子さんとご家族を支えるため、次の窓口と連携しています。この窓口の担当者から、ご連絡することがあります。",
        note="お子さんの安全を守るために必要な範囲で、上の窓口にお伝えしています。",
        desk_warning=(
            "この相談は本人同意「同意不要」（子どもの安全に関わるため）で引き継いでいます。"
            "虐待などが疑われるときは、窓口に来た人が用紙を受け取ってよい人とは限りません。"
            "用紙を渡す相手と、渡してよいかを、担当者や引継ぎ先と確認してから印刷してください。"
        ),
        confirm_label="用紙を渡す相手と、渡してよいことを確認しました",
    ),
    Consent.NOT_GIVEN: SlipWording(
        title="ご相談の引継ぎについて",
        lead="ご相談いただいた内容について、次の窓口をご案内します。",
        note="",
        desk_warning=(
            "この相談の本人同意は「同意なし」です。ご家族の同意なしに引継ぎ先を伝えてよいか、"
            "確認してから印刷してください。"
        ),
        confirm_label="この用紙を渡してよいことを確認しました",
    ),
}


def wording_for(consent: str) -> SlipWording:
    return WORDING[Consent(consent)]


def desk_name(municipality_name: str, desk) -> str:
    """The desk as a family reads it: always with the municipality (「新座市 総合支援窓口」)."""
    name = (desk.name if desk is not None else "") or "総合支援窓口"
    return name if municipality_name in name else f"{municipality_name} {name}"


def slip_contact(h: Handover, today: date) -> ContactChoice:
    """The person to print: the handover's contact while fresh, else the freshest one there."""
    if h.recipient_organization is None:
        return ContactChoice(None, None)
    named = h.recipient_contact
    if named is not None:
        state = freshness(named.last_confirmed_on, today)
        choice = ContactChoice(named, state)
        if choice.is_fresh:
            return choice
    better = choose_contact(list(h.recipient_organization.contacts), today)
    if named is not None and better.is_fresh and better.contact is not named:
        return ContactChoice(better.contact, better.freshness,
                             f"引継ぎ時の担当者 {named.name} さんは12か月以上未確認のため、"
                             f"最近確認された {better.contact.name} さんを載せています。")
    return better


@dataclass(frozen=True)
class SlipChecks:
    """What the desk must (or may) confirm on the page before the slip."""

    consent_warning: str
    consent_label: str
    stale_contact: ContactChoice | None

    @property
    def needed(self) -> bool:
        return bool(self.consent_warning or self.stale_contact)


def checks_for(h: Handover, choice: ContactChoice) -> SlipChecks:
    wording = wording_for(h.consultation.consent)
    stale = choice if choice.contact is not None and not choice.is_fresh else None
    return SlipChecks(wording.desk_warning, wording.confirm_label, stale)


def names_and_phones(h: Handover, choice: ContactChoice, contact_ok: bool, municipality_name: str) -> dict[str, Any]:
    """Whom the slip names and the numbers it prints, for its template.

    The desk stands in for either side when that side is the desk; the chosen
    contact is printed only when fresh or confirmed (``contact_ok``), else the
    organisation's own number.
    """
    desk = get_desk()
    desk_label = desk_name(municipality_name, desk)
    desk_phone = desk.phone if desk else ""
    contact = choice.contact if contact_ok else None
    recipient, sender = h.recipient_organization, h.sender_organization
    contact_phone = contact.phone if contact is not None else ""
    return {
        "desk": desk, "contact": contact,
        "phone": (contact_phone or recipient.phone) if recipient else desk_phone,
        "recipient_name": recipient.name if recipient else desk_label,
        "sender_name": sender.name if sender else desk_label,
        "sender_phone": sender.phone if sender else desk_phone,
    }

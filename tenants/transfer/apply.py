"""Writing a previewed batch through the member services (validation, search text, audit)."""

from __future__ import annotations

from portal.extensions import db
from portal.timeutil import utcnow
from tenants.core import audit
from tenants.members import services as members
from tenants.transfer.models import ImportBatch
from tenants.transfer.plan import Counts, plan


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

"""What every tenant feature builds on: validation, the audit trail, labels, enums, forms, loading.

Not a feature (no blueprint, no pages). It imports ``portal`` and the tenancy
modules (``tenants.scoping``) only, never a feature package; features add
their own labels and formatters to its registries (``tenants.core.labels``).
"""

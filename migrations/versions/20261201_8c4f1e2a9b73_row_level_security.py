"""row-level security on every tenant table (PostgreSQL only; issue 11)

A second wall behind the ORM's tenant scoping: a row is visible and writable
only when the transaction's settings (tenants/row_security.py) admit its
municipality. The table list and the condition are written out here so this
revision keeps meaning what it meant; tests/test_migrations.py checks they
equal the models' (tenants.row_security).

Revision ID: 8c4f1e2a9b73
Revises: 6d2a5b0f3c88
Create Date: 2026-12-01 19:50:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '8c4f1e2a9b73'
down_revision = '6d2a5b0f3c88'
branch_labels = None
depends_on = None

TENANT_TABLES = [
    'audit_entries', 'consultations', 'contacts', 'desks', 'handover_access_log', 'handover_days',
    'handovers', 'import_batches', 'member_organizations', 'network_activities',
    'network_status_declarations', 'networks', 'organization_change_requests', 'reconfirmation_rounds',
    'reconfirmation_tasks', 'registrations', 'town_certifications',
]

CONDITION = (
    "(SELECT current_setting('app.scope', true)) = 'everything'"
    " OR municipality_id = (SELECT nullif(current_setting('app.municipality_id', true), '')::integer)"
    " OR municipality_id IN (SELECT id FROM municipalities"
    " WHERE prefecture_code = (SELECT nullif(current_setting('app.prefecture_code', true), '')))"
)


def upgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return  # SQLite has no row-level security; the ORM scoping is the wall there
    for table in TENANT_TABLES:
        op.execute(f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY')
        op.execute(f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY')
        op.execute(f'CREATE POLICY tenant_scope ON "{table}" USING ({CONDITION}) WITH CHECK ({CONDITION})')


def downgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    for table in TENANT_TABLES:
        op.execute(f'DROP POLICY IF EXISTS tenant_scope ON "{table}"')
        op.execute(f'ALTER TABLE "{table}" NO FORCE ROW LEVEL SECURITY')
        op.execute(f'ALTER TABLE "{table}" DISABLE ROW LEVEL SECURITY')

"""edit versions: a version counter on every row an edit form changes (optimistic locking)

Revision ID: d5830641e8f8
Revises: 8c4f1e2a9b73
Create Date: 2026-12-01 19:50:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'd5830641e8f8'
down_revision = '8c4f1e2a9b73'
branch_labels = None
depends_on = None

# Existing rows start at 1, as new ones do.
TABLES = ('member_organizations', 'contacts', 'networks', 'desks', 'network_activities', 'town_certifications')


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))


def downgrade():
    # Only the counters go; no user data is lost.
    for table in reversed(TABLES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('version')

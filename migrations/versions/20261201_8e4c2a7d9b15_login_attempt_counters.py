"""accounts: atomic per-account login attempts, addresses known per user

Revision ID: 8e4c2a7d9b15
Revises: b7c41e9a2d05
Create Date: 2026-12-01 19:50:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '8e4c2a7d9b15'
down_revision = 'b7c41e9a2d05'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('login_attempt_counters',
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('window_started_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('email', name=op.f('pk_login_attempt_counters'))
    )
    op.create_table('login_known_addresses',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('address', sa.String(length=45), nullable=False),
    sa.Column('last_success_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_login_known_addresses_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'address', name=op.f('pk_login_known_addresses'))
    )
    with op.batch_alter_table('login_known_addresses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_known_addresses_last_success_at'), ['last_success_at'], unique=False)


def downgrade():
    with op.batch_alter_table('login_known_addresses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_known_addresses_last_success_at'))
    op.drop_table('login_known_addresses')
    op.drop_table('login_attempt_counters')

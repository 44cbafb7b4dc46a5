"""dashboard: network status declarations, 応援タウン checklist, network activities

Revision ID: 6d2a5b0f3c88
Revises: 5a1d0c4e7b21
Create Date: 2026-11-24 14:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '6d2a5b0f3c88'
down_revision = '5a1d0c4e7b21'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('network_status_declarations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('declared_on', sa.Date(), nullable=False),
    sa.Column('declared_by_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('municipality_id', sa.Integer(), nullable=False),
    sa.CheckConstraint("status IN ('not_started', 'preparing', 'established')", name=op.f('ck_network_status_declarations_status')),
    sa.ForeignKeyConstraint(['declared_by_id'], ['users.id'], name=op.f('fk_network_status_declarations_declared_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['municipality_id'], ['municipalities.id'], name=op.f('fk_network_status_declarations_municipality_id_municipalities'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_network_status_declarations'))
    )
    with op.batch_alter_table('network_status_declarations', schema=None) as batch_op:
        batch_op.create_index('ix_network_status_declarations_current', ['municipality_id', 'declared_on', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_network_status_declarations_municipality_id'), ['municipality_id'], unique=False)

    op.create_table('town_certifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('one_stop_desk', sa.Boolean(), nullable=False),
    sa.Column('support_hubs', sa.Boolean(), nullable=False),
    sa.Column('network', sa.Boolean(), nullable=False),
    sa.Column('certified_on', sa.Date(), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('municipality_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['municipality_id'], ['municipalities.id'], name=op.f('fk_town_certifications_municipality_id_municipalities'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_town_certifications_updated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_town_certifications')),
    sa.UniqueConstraint('municipality_id', name='uq_town_certifications_municipality_id')
    )
    with op.batch_alter_table('town_certifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_town_certifications_municipality_id'), ['municipality_id'], unique=False)

    op.create_table('network_activities',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('participants', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('municipality_id', sa.Integer(), nullable=False),
    sa.CheckConstraint("kind IN ('exchange', 'study', 'guidebook', 'other')", name=op.f('ck_network_activities_kind')),
    sa.CheckConstraint('participants IS NULL OR participants >= 0', name=op.f('ck_network_activities_participants')),
    sa.ForeignKeyConstraint(['municipality_id'], ['municipalities.id'], name=op.f('fk_network_activities_municipality_id_municipalities'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_network_activities'))
    )
    with op.batch_alter_table('network_activities', schema=None) as batch_op:
        batch_op.create_index('ix_network_activities_municipality_id_held_on', ['municipality_id', 'held_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_network_activities_municipality_id'), ['municipality_id'], unique=False)


def downgrade():
    with op.batch_alter_table('network_activities', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_network_activities_municipality_id'))
        batch_op.drop_index('ix_network_activities_municipality_id_held_on')
    op.drop_table('network_activities')

    with op.batch_alter_table('town_certifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_town_certifications_municipality_id'))
    op.drop_table('town_certifications')

    with op.batch_alter_table('network_status_declarations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_network_status_declarations_municipality_id'))
        batch_op.drop_index('ix_network_status_declarations_current')
    op.drop_table('network_status_declarations')

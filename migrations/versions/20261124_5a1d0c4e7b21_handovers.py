"""handovers: consultations, handovers, their access log and daily counts (issue 5)

Revision ID: 5a1d0c4e7b21
Revises: 47f49586f1a1
Create Date: 2026-11-24 14:27:14.356769

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '5a1d0c4e7b21'
down_revision = '47f49586f1a1'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('consultations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_reference', sa.String(length=40), nullable=True),
    sa.Column('received_by_organization_id', sa.Integer(), nullable=True),
    sa.Column('category', sa.String(length=20), nullable=False),
    sa.Column('urgency', sa.String(length=10), nullable=False),
    sa.Column('age_band', sa.String(length=20), nullable=False),
    sa.Column('summary', sa.Text(), nullable=True),
    sa.Column('contact_preference', sa.String(length=200), nullable=True),
    sa.Column('consent', sa.String(length=15), nullable=False),
    sa.Column('consent_reason', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('hop_count', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.Column('closed_by_id', sa.Integer(), nullable=True),
    sa.Column('purged_at', sa.DateTime(), nullable=True),
    sa.Column('municipality_id', sa.Integer(), nullable=False),
    sa.CheckConstraint("age_band IN ('pregnancy', 'age0', 'age1_2', 'age3_5', 'elementary', 'junior_high_plus', 'unknown')", name=op.f('ck_consultations_age_band')),
    sa.CheckConstraint("category IN ('anxiety', 'development', 'daycare', 'health', 'financial', 'abuse', 'peers', 'other')", name=op.f('ck_consultations_category')),
    sa.CheckConstraint("consent IN ('given', 'not_given', 'not_required')", name=op.f('ck_consultations_consent')),
    sa.CheckConstraint("status IN ('open', 'resolved', 'closed')", name=op.f('ck_consultations_status')),
    sa.CheckConstraint("urgency IN ('normal', 'urgent')", name=op.f('ck_consultations_urgency')),
    sa.CheckConstraint('hop_count >= 0', name=op.f('ck_consultations_hop_count')),
    sa.ForeignKeyConstraint(['closed_by_id'], ['users.id'], name=op.f('fk_consultations_closed_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_consultations_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['municipality_id'], ['municipalities.id'], name=op.f('fk_consultations_municipality_id_municipalities'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['received_by_organization_id'], ['member_organizations.id'], name=op.f('fk_consultations_received_by_organization_id_member_organizations'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consultations'))
    )
    with op.batch_alter_table('consultations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consultations_municipality_id'), ['municipality_id'], unique=False)
        batch_op.create_index('ix_consultations_municipality_id_hop_count', ['municipality_id', 'hop_count', 'created_at'], unique=False)
        batch_op.create_index('ix_consultations_municipality_id_received_by', ['municipality_id', 'received_by_organization_id'], unique=False)
        batch_op.create_index('ix_consultations_municipality_id_status_closed_at', ['municipality_id', 'status', 'closed_at'], unique=False)

    op.create_table('handover_access_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('user_label', sa.String(length=300), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=True),
    sa.Column('consultation_id', sa.Integer(), nullable=True),
    sa.Column('handover_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=10), nullable=False),
    sa.Column('municipality_id', sa.Integer(), nullable=False),
    sa.CheckConstraint("action IN ('view', 'print', 'export')", name=op.f('ck_handover_access_log_action')),
    sa.ForeignKeyConstraint(['municipality_id'], ['municipalities.id'], name=op.f('fk_handover_access_log_municipality_id_municipalities'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['organization_id'], ['member_organizations.id'], name=op.f('fk_handover_access_log_organization_id_member_organizations'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_handover_access_log_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_handover_access_log'))
    )
    with op.batch_alter_table('handover_access_log', schema=None) as batch_op:
        batch_op.create_index('ix_handover_access_log_consultation_id', ['consultation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_handover_access_log_municipality_id'), ['municipality_id'], unique=False)
        batch_op.create_index('ix_handover_access_log_municipality_id_at', ['municipality_id', 'at'], unique=False)

    op.create_table('handovers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('consultation_id', sa.Integer(), nullable=False),
    sa.Column('sender_organization_id', sa.Integer(), nullable=True),
    sa.Column('recipient_organization_id', sa.Integer(), nullable=True),
    sa.Column('recipient_contact_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('sent_at', sa.DateTime(), nullable=False),
    sa.Column('sent_by_id', sa.Integer(), nullable=True),
    sa.Column('response_due_at', sa.DateTime(), nullable=False),
    sa.Column('first_response_at', sa.DateTime(), nullable=True),
    sa.Column('response_seconds', sa.Integer(), nullable=True),
    sa.Column('accepted_at', sa.DateTime(), nullable=True),
    sa.Column('accepted_by_id', sa.Integer(), nullable=True),
    sa.Column('started_at', sa.DateTime(), nullable=True),
    sa.Column('started_by_id', sa.Integer(), nullable=True),
    sa.Column('resolved_at', sa.DateTime(), nullable=True),
    sa.Column('resolved_by_id', sa.Integer(), nullable=True),
    sa.Column('outcome', sa.Text(), nullable=True),
    sa.Column('declined_at', sa.DateTime(), nullable=True),
    sa.Column('declined_by_id', sa.Integer(), nullable=True),
    sa.Column('decline_reason', sa.Text(), nullable=True),
    sa.Column('withdrawn_at', sa.DateTime(), nullable=True),
    sa.Column('withdrawn_by_id', sa.Integer(), nullable=True),
    sa.Column('escalated_at', sa.DateTime(), nullable=True),
    sa.Column('municipality_id', sa.Integer(), nullable=False),
    sa.CheckConstraint("status IN ('sent', 'accepted', 'in_progress', 'resolved', 'declined', 'withdrawn')", name=op.f('ck_handovers_status')),
    sa.CheckConstraint('sender_organization_id IS NULL OR recipient_organization_id IS NULL OR sender_organization_id <> recipient_organization_id', name=op.f('ck_handovers_not_to_itself')),
    sa.ForeignKeyConstraint(['accepted_by_id'], ['users.id'], name=op.f('fk_handovers_accepted_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['consultation_id'], ['consultations.id'], name=op.f('fk_handovers_consultation_id_consultations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['declined_by_id'], ['users.id'], name=op.f('fk_handovers_declined_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['municipality_id'], ['municipalities.id'], name=op.f('fk_handovers_municipality_id_municipalities'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['recipient_contact_id'], ['contacts.id'], name=op.f('fk_handovers_recipient_contact_id_contacts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['recipient_organization_id'], ['member_organizations.id'], name=op.f('fk_handovers_recipient_organization_id_member_organizations'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['resolved_by_id'], ['users.id'], name=op.f('fk_handovers_resolved_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['sender_organization_id'], ['member_organizations.id'], name=op.f('fk_handovers_sender_organization_id_member_organizations'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['sent_by_id'], ['users.id'], name=op.f('fk_handovers_sent_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['started_by_id'], ['users.id'], name=op.f('fk_handovers_started_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['withdrawn_by_id'], ['users.id'], name=op.f('fk_handovers_withdrawn_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_handovers'))
    )
    with op.batch_alter_table('handovers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_handovers_consultation_id'), ['consultation_id'], unique=False)
        batch_op.create_index('ix_handovers_incoming', ['municipality_id', 'recipient_organization_id', 'status', 'sent_at'], unique=False)
        batch_op.create_index('ix_handovers_incoming_all', ['municipality_id', 'recipient_organization_id', 'sent_at', 'status', 'response_due_at', 'first_response_at', 'response_seconds'], unique=False)
        batch_op.create_index(batch_op.f('ix_handovers_municipality_id'), ['municipality_id'], unique=False)
        batch_op.create_index('ix_handovers_municipality_id_response_seconds', ['municipality_id', 'response_seconds'], unique=False)
        batch_op.create_index('ix_handovers_municipality_id_status_due', ['municipality_id', 'status', 'response_due_at', 'first_response_at', 'sent_at'], unique=False)
        batch_op.create_index('ix_handovers_outgoing', ['municipality_id', 'sender_organization_id', 'status', 'sent_at'], unique=False)
        batch_op.create_index('ix_handovers_outgoing_all', ['municipality_id', 'sender_organization_id', 'sent_at'], unique=False)
        batch_op.create_index('uq_handovers_one_active', ['consultation_id'], unique=True, postgresql_where=sa.text("status IN ('sent', 'accepted', 'in_progress')"), sqlite_where=sa.text("status IN ('sent', 'accepted', 'in_progress')"))

    op.create_table('handover_days',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('sent', sa.Integer(), nullable=False),
    sa.Column('answered', sa.Integer(), nullable=False),
    sa.Column('on_time', sa.Integer(), nullable=False),
    sa.Column('municipality_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['municipality_id'], ['municipalities.id'], name=op.f('fk_handover_days_municipality_id_municipalities'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_handover_days'))
    )
    with op.batch_alter_table('handover_days', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_handover_days_municipality_id'), ['municipality_id'], unique=False)
        batch_op.create_index('uq_handover_days_municipality_id_day', ['municipality_id', 'day'], unique=True)



def downgrade():
    with op.batch_alter_table('handover_days', schema=None) as batch_op:
        batch_op.drop_index('uq_handover_days_municipality_id_day')
        batch_op.drop_index(batch_op.f('ix_handover_days_municipality_id'))

    op.drop_table('handover_days')
    with op.batch_alter_table('handovers', schema=None) as batch_op:
        batch_op.drop_index('uq_handovers_one_active', postgresql_where=sa.text("status IN ('sent', 'accepted', 'in_progress')"), sqlite_where=sa.text("status IN ('sent', 'accepted', 'in_progress')"))
        batch_op.drop_index('ix_handovers_outgoing_all')
        batch_op.drop_index('ix_handovers_outgoing')
        batch_op.drop_index('ix_handovers_municipality_id_status_due')
        batch_op.drop_index('ix_handovers_municipality_id_response_seconds')
        batch_op.drop_index(batch_op.f('ix_handovers_municipality_id'))
        batch_op.drop_index('ix_handovers_incoming_all')
        batch_op.drop_index('ix_handovers_incoming')
        batch_op.drop_index(batch_op.f('ix_handovers_consultation_id'))

    op.drop_table('handovers')
    with op.batch_alter_table('handover_access_log', schema=None) as batch_op:
        batch_op.drop_index('ix_handover_access_log_municipality_id_at')
        batch_op.drop_index(batch_op.f('ix_handover_access_log_municipality_id'))
        batch_op.drop_index('ix_handover_access_log_consultation_id')

    op.drop_table('handover_access_log')
    with op.batch_alter_table('consultations', schema=None) as batch_op:
        batch_op.drop_index('ix_consultations_municipality_id_status_closed_at')
        batch_op.drop_index('ix_consultations_municipality_id_received_by')
        batch_op.drop_index('ix_consultations_municipality_id_hop_count')
        batch_op.drop_index(batch_op.f('ix_consultations_municipality_id'))

    op.drop_table('consultations')

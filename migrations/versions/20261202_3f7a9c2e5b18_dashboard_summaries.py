"""dashboard: members, contacts and handovers per month, kept per municipality (issue 14)

Three tables the prefecture dashboard reads instead of every member
organisation, contact and day (dashboard/models.py, kept by
dashboard/summary.py): the active organisations and their contacts per
municipality, "confirmed within 12 months" as a step function of the day, and
``handover_days`` summed per month. All are tenant tables behind the
row-level security policy (the condition is written out, as in 8c4f1e2a9b73).
They are filled here from the existing rows, with the same computation as
``dashboard.summary.rebuild`` (written out too, so this revision keeps meaning
what it meant; tests/test_migrations.py compares the two).

Revision ID: 3f7a9c2e5b18
Revises: 8e4c2a7d9b15
Create Date: 2026-12-02 09:00:00

"""
from bisect import bisect_right
from collections import defaultdict
from datetime import date

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '3f7a9c2e5b18'
down_revision = '8e4c2a7d9b15'
branch_labels = None
depends_on = None

TABLES = ['dashboard_confirmation_steps', 'dashboard_handover_months', 'dashboard_member_totals']

CONDITION = (
    "(SELECT current_setting('app.scope', true)) = 'everything'"
    " OR municipality_id = (SELECT nullif(current_setting('app.municipality_id', true), '')::integer)"
    " OR municipality_id IN (SELECT id FROM municipalities"
    " WHERE prefecture_code = (SELECT nullif(current_setting('app.prefecture_code', true), '')))"
)

# The core and related member categories (tenants/members/categories.py when this was written).
CORE = {'hoikusho', 'hoken_center', 'shien_center'}
COVERAGE = CORE | {'circle', 'keisatsu', 'kominkan', 'kyoiku_iinkai', 'npo', 'shogakko', 'yochien'}
FIRST_DAY = date(1, 1, 1)


def upgrade():
    op.create_table('dashboard_member_totals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('active_members', sa.Integer(), nullable=False),
    sa.Column('contacts', sa.Integer(), nullable=False),
    sa.Column('municipality_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['municipality_id'], ['municipalities.id'], name=op.f('fk_dashboard_member_totals_municipality_id_municipalities'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dashboard_member_totals'))
    )
    with op.batch_alter_table('dashboard_member_totals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dashboard_member_totals_municipality_id'), ['municipality_id'], unique=False)
        batch_op.create_index('uq_dashboard_member_totals_municipality_id', ['municipality_id'], unique=True)

    op.create_table('dashboard_confirmation_steps',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('from_day', sa.Date(), nullable=False),
    sa.Column('contacts_confirmed', sa.Integer(), nullable=False),
    sa.Column('covered', sa.Integer(), nullable=False),
    sa.Column('core_covered', sa.Integer(), nullable=False),
    sa.Column('municipality_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['municipality_id'], ['municipalities.id'], name=op.f('fk_dashboard_confirmation_steps_municipality_id_municipalities'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dashboard_confirmation_steps'))
    )
    with op.batch_alter_table('dashboard_confirmation_steps', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dashboard_confirmation_steps_municipality_id'), ['municipality_id'], unique=False)
        batch_op.create_index('uq_dashboard_confirmation_steps_municipality_id_from_day', ['municipality_id', 'from_day'], unique=True)

    op.create_table('dashboard_handover_months',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('sent', sa.Integer(), nullable=False),
    sa.Column('answered', sa.Integer(), nullable=False),
    sa.Column('on_time', sa.Integer(), nullable=False),
    sa.Column('municipality_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['municipality_id'], ['municipalities.id'], name=op.f('fk_dashboard_handover_months_municipality_id_municipalities'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dashboard_handover_months'))
    )
    with op.batch_alter_table('dashboard_handover_months', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dashboard_handover_months_municipality_id'), ['municipality_id'], unique=False)
        batch_op.create_index('uq_dashboard_handover_months_municipality_id_month', ['municipality_id', 'month'], unique=True)

    if op.get_bind().dialect.name == 'postgresql':
        for table in TABLES:
            op.execute(f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY')
            op.execute(f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY')
            op.execute(f'CREATE POLICY tenant_scope ON "{table}" USING ({CONDITION}) WITH CHECK ({CONDITION})')
    _fill_members(op.get_bind())
    _fill_handover_months(op.get_bind())


def _fill_handover_months(conn):
    """handover_days summed per municipality and month (dashboard.summary.rebuild)."""
    month = ("CAST(date_trunc('month', day) AS DATE)" if conn.dialect.name == 'postgresql'
             else "date(day, 'start of month')")
    conn.execute(sa.text(
        "INSERT INTO dashboard_handover_months (municipality_id, month, sent, answered, on_time)"
        f" SELECT municipality_id, {month}, sum(sent), sum(answered), sum(on_time) FROM handover_days"
        f" GROUP BY municipality_id, {month}"))


def _fill_members(conn):
    """The figures of every municipality from its members and contacts (dashboard.summary.rebuild)."""
    organizations = dict(conn.execute(sa.text(
        "SELECT municipality_id, count(id) FROM member_organizations WHERE status = 'active' GROUP BY municipality_id")).all())
    contacts = defaultdict(dict)
    for mid, category, day, n in conn.execute(sa.text(
            "SELECT o.municipality_id, o.category, c.last_confirmed_on, count(c.id) FROM contacts c"
            " JOIN member_organizations o ON o.id = c.organization_id WHERE o.status = 'active'"
            " GROUP BY o.municipality_id, o.category, c.last_confirmed_on")):
        if isinstance(day, str):  # SQLite returns the text
            day = date.fromisoformat(day)
        contacts[mid][(category, day)] = n
    totals, steps = [], []
    for mid in sorted(organizations):
        totals.append({'municipality_id': mid, 'active_members': organizations[mid],
                       'contacts': sum(contacts[mid].values())})
        per_day, latest = defaultdict(int), {}
        for (category, day), n in contacts[mid].items():
            if day is not None:
                per_day[day] += n
                latest[category] = max(day, latest.get(category, day))
        covered = sorted(d for c, d in latest.items() if c in COVERAGE)
        core = sorted(d for c, d in latest.items() if c in CORE)
        remaining = sum(per_day.values())
        for day in sorted({FIRST_DAY, *per_day}):
            remaining -= per_day.get(day, 0)
            steps.append({'municipality_id': mid, 'from_day': day, 'contacts_confirmed': remaining,
                          'covered': len(covered) - bisect_right(covered, day),
                          'core_covered': len(core) - bisect_right(core, day)})
    meta = sa.MetaData()
    totals_table = sa.Table('dashboard_member_totals', meta, sa.Column('municipality_id', sa.Integer),
                            sa.Column('active_members', sa.Integer), sa.Column('contacts', sa.Integer))
    steps_table = sa.Table('dashboard_confirmation_steps', meta, sa.Column('municipality_id', sa.Integer),
                           sa.Column('from_day', sa.Date), sa.Column('contacts_confirmed', sa.Integer),
                           sa.Column('covered', sa.Integer), sa.Column('core_covered', sa.Integer))
    if totals:
        conn.execute(totals_table.insert(), totals)
    if steps:
        conn.execute(steps_table.insert(), steps)


def downgrade():
    # Derived figures only (rebuilt from the members and contacts by this revision's upgrade
    # or `flask dashboard rebuild-summaries`): emptying them loses nothing, so no -x force=1.
    for table in TABLES:
        op.execute(f'DELETE FROM "{table}"')
    with op.batch_alter_table('dashboard_handover_months', schema=None) as batch_op:
        batch_op.drop_index('uq_dashboard_handover_months_municipality_id_month')
        batch_op.drop_index(batch_op.f('ix_dashboard_handover_months_municipality_id'))
    op.drop_table('dashboard_handover_months')
    with op.batch_alter_table('dashboard_confirmation_steps', schema=None) as batch_op:
        batch_op.drop_index('uq_dashboard_confirmation_steps_municipality_id_from_day')
        batch_op.drop_index(batch_op.f('ix_dashboard_confirmation_steps_municipality_id'))
    op.drop_table('dashboard_confirmation_steps')
    with op.batch_alter_table('dashboard_member_totals', schema=None) as batch_op:
        batch_op.drop_index('uq_dashboard_member_totals_municipality_id')
        batch_op.drop_index(batch_op.f('ix_dashboard_member_totals_municipality_id'))
    op.drop_table('dashboard_member_totals')

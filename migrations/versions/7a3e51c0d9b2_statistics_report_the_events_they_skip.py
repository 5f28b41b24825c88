"""statistics report the events they skip

``stats_skipped`` lists the events the statistics refresh could not count (a row dated at the calendar's end, from
before events' dates were bounded), so one bad row no longer stops the province's refresh and the admin's system
page says which events are left out.

Revision ID: 7a3e51c0d9b2
Revises: 7a3c9e1d5b20
Create Date: 2026-12-04 17:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7a3e51c0d9b2'
down_revision = '7a3c9e1d5b20'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('stats_skipped',
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('skipped_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_stats_skipped_event_id_events'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('event_id', name=op.f('pk_stats_skipped'))
    )


def downgrade():
    op.drop_table('stats_skipped')

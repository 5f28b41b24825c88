"""lottery entries take heap-only updates

A draw writes every entry's rank and outcome once. Without the index on (event_id, rank) neither column is
indexed, and with half of each page left free (PostgreSQL fillfactor 50; new pages only, which is where a
departure's entries arrive when its list is frozen) those writes are heap-only updates that touch no index.
SQLite has no fillfactor: only the index goes.

Revision ID: 3c1f0e9b7d42
Revises: 7a60c0be7a11
Create Date: 2026-12-05 21:20:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '3c1f0e9b7d42'
down_revision = '7a60c0be7a11'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('trip_lottery_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_trip_lottery_entries_event_rank')
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ALTER TABLE trip_lottery_entries SET (fillfactor = 50)')


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ALTER TABLE trip_lottery_entries RESET (fillfactor)')
    with op.batch_alter_table('trip_lottery_entries', schema=None) as batch_op:
        batch_op.create_index('ix_trip_lottery_entries_event_rank', ['event_id', 'rank'], unique=False)

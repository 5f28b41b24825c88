"""slots count the people waiting

``slots.waitlisted`` is kept by the booking engine under the slot's lock, like ``taken``: a booking that joins
the waitlist no longer counts the waiting registrations. Filled here from the registrations.

Revision ID: 5c0e8dff83bd
Revises: 0bfd7efd0472
Create Date: 2026-11-29 19:58:42.942359

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5c0e8dff83bd'
down_revision = '0bfd7efd0472'
branch_labels = None
depends_on = None


def upgrade():
    # The CHECK goes with the column: on SQLite a separate constraint would rebuild the table, and dropping the
    # old table would cascade to the registrations.
    with op.batch_alter_table('slots', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                'waitlisted',
                sa.Integer(),
                sa.CheckConstraint('waitlisted >= 0', name=op.f('ck_slots_waitlisted_not_negative')),
                server_default='0',
                nullable=False,
            )
        )
    op.execute(
        "UPDATE slots SET waitlisted = (SELECT count(*) FROM registrations r "
        "WHERE r.slot_id = slots.id AND r.status = 'WAITLISTED')"
    )


def downgrade():
    with op.batch_alter_table('slots', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_slots_waitlisted_not_negative'), type_='check')
        batch_op.drop_column('waitlisted')

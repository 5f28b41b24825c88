"""events have a cover picture

``events.cover_image`` names the stored sizes of a re-encoded picture (events.covers) and ``events.cover_alt``
the words that describe it.

Revision ID: 7a1c0de5c0e1
Revises: 7a41c2d9e0b3
Create Date: 2026-12-04 17:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7a1c0de5c0e1'
down_revision = '7a41c2d9e0b3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cover_image', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('cover_alt', sa.String(length=120), server_default='', nullable=False))


def downgrade():
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_column('cover_alt')
        batch_op.drop_column('cover_image')

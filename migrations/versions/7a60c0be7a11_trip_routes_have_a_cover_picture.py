"""trip routes have a cover picture

``trip_routes.cover_image`` names the stored sizes of a re-encoded picture (events.covers, the same store as
the events' covers) and ``trip_routes.cover_alt`` the words that describe it.

Revision ID: 7a60c0be7a11
Revises: 7a52d0a1e7c3
Create Date: 2026-12-06 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7a60c0be7a11'
down_revision = '7a52d0a1e7c3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('trip_routes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cover_image', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('cover_alt', sa.String(length=120), server_default='', nullable=False))


def downgrade():
    with op.batch_alter_table('trip_routes', schema=None) as batch_op:
        batch_op.drop_column('cover_alt')
        batch_op.drop_column('cover_image')

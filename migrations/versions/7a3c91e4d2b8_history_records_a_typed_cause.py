"""history records a typed cause

``registration_history.cause`` says why a registration changed in a form code can branch on (booked, lottery,
offer declined, moved...), beside the free-text ``reason`` people read. Rows written before it stay NULL.

Revision ID: 7a3c91e4d2b8
Revises: 5c0e8dff83bd
Create Date: 2026-12-04 17:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7a3c91e4d2b8'
down_revision = '5c0e8dff83bd'
branch_labels = None
depends_on = None


def upgrade():
    # A nullable column without a constraint: SQLite adds it in place (no table rebuild, which would cascade).
    op.add_column('registration_history', sa.Column('cause', sa.String(length=20), nullable=True))


def downgrade():
    with op.batch_alter_table('registration_history', schema=None) as batch_op:
        batch_op.drop_column('cause')

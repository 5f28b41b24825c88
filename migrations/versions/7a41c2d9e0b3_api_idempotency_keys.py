"""api idempotency keys

A request to the booking API sent again with the same ``Idempotency-Key`` gets the first answer again: each
key's request fingerprint and answer is kept for a day (``IDEMPOTENCY_KEY_HOURS``).

Revision ID: 7a41c2d9e0b3
Revises: 7a3e51c0d9b2
Create Date: 2026-12-04 17:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7a41c2d9e0b3'
down_revision = '7a3e51c0d9b2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'api_idempotent_requests',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=255), nullable=False),
        sa.Column('fingerprint', sa.String(length=64), nullable=False),
        sa.Column('status_code', sa.Integer(), nullable=True),
        sa.Column('body', sa.JSON(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ['user_id'], ['users.id'], name=op.f('fk_api_idempotent_requests_user_id_users'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_api_idempotent_requests')),
        sa.UniqueConstraint('user_id', 'key', name=op.f('uq_api_idempotent_requests_user_id_key')),
    )
    with op.batch_alter_table('api_idempotent_requests', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_api_idempotent_requests_created_at'), ['created_at'], unique=False
        )


def downgrade():
    with op.batch_alter_table('api_idempotent_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_idempotent_requests_created_at'))
    op.drop_table('api_idempotent_requests')

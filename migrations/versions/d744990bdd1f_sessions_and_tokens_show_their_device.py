"""sessions and tokens show their device; tokens expire when idle

``login_sessions.device`` and ``api_tokens.device`` hold a summary of the user agent for the devices page;
``api_tokens.last_used_at`` carries the idle timeout (filled with ``created_at`` for the tokens already issued).

Revision ID: d744990bdd1f
Revises: 7a3c91e4d2b8
Create Date: 2026-12-04 17:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd744990bdd1f'
down_revision = '7a3c91e4d2b8'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('login_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('device', sa.String(length=80), server_default='', nullable=False))
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('device', sa.String(length=80), server_default='', nullable=False))
        batch_op.add_column(sa.Column('last_used_at', sa.DateTime(), nullable=True))
    op.execute("UPDATE api_tokens SET last_used_at = created_at")
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.alter_column('last_used_at', existing_type=sa.DateTime(), nullable=False)


def downgrade():
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_column('last_used_at')
        batch_op.drop_column('device')
    with op.batch_alter_table('login_sessions', schema=None) as batch_op:
        batch_op.drop_column('device')

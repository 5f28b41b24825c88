"""accounts by phone: SMS verification codes, send counters, accepted legal documents, verified numbers

Revision ID: 7a3c9e1d5b20
Revises: d744990bdd1f
Create Date: 2026-12-04 17:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7a3c9e1d5b20'
down_revision = 'd744990bdd1f'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'verification_codes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('purpose', sa.String(length=20), nullable=False),
        sa.Column('phone_key', sa.String(length=64), nullable=False),
        sa.Column('code_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('expires_at', sa.DateTime(), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('used_at', sa.DateTime(), nullable=True),
        sa.Column('voided_at', sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_verification_codes')),
    )
    op.create_index(
        'ix_verification_codes_lookup', 'verification_codes', ['purpose', 'phone_key', 'created_at'], unique=False
    )
    op.create_table(
        'sms_send_counters',
        sa.Column('scope', sa.String(length=10), nullable=False),
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('sent', sa.Integer(), nullable=False),
        sa.Column('last_sent_at', sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint('scope', 'key', name=op.f('pk_sms_send_counters')),
    )
    op.create_table(
        'document_acceptances',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('document', sa.String(length=30), nullable=False),
        sa.Column('version', sa.String(length=20), nullable=False),
        sa.Column('accepted_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ['user_id'], ['users.id'], name=op.f('fk_document_acceptances_user_id_users'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_document_acceptances')),
    )
    op.create_index(
        'ix_document_acceptances_user_document', 'document_acceptances', ['user_id', 'document'], unique=False
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('phone_verified_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('phone_verified_at')
    op.drop_index('ix_document_acceptances_user_document', table_name='document_acceptances')
    op.drop_table('document_acceptances')
    op.drop_table('sms_send_counters')
    op.drop_index('ix_verification_codes_lookup', table_name='verification_codes')
    op.drop_table('verification_codes')

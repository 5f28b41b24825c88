"""audit rows carry their organization's path and their origin

``audit_log.org_path`` is the path of the organization the audited object belongs to, so that a city organizer
reads their subtree's rows with one indexed prefix query; ``audit_log.origin`` says where the action came from
(web, api, cli, scheduler). Existing rows about events and registrations take their event's organization; the
others stay without one (only admins read them).

Revision ID: 7a52d0a1e7c3
Revises: 7a1c0de5c0e1
Create Date: 2026-12-05 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7a52d0a1e7c3'
down_revision = '7a1c0de5c0e1'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.add_column(sa.Column('org_path', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('origin', sa.String(length=12), nullable=True))
        batch_op.create_index('ix_audit_log_org_path', ['org_path'], unique=False)
    op.execute(
        "UPDATE audit_log SET org_path = (SELECT organizations.path FROM events JOIN organizations "
        "ON organizations.id = events.organization_id WHERE events.id = audit_log.object_id) "
        "WHERE object_type = 'event'"
    )
    op.execute(
        "UPDATE audit_log SET org_path = (SELECT organizations.path FROM registrations "
        "JOIN events ON events.id = registrations.event_id "
        "JOIN organizations ON organizations.id = events.organization_id "
        "WHERE registrations.id = audit_log.object_id) "
        "WHERE object_type = 'registration'"
    )


def downgrade():
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_log_org_path')
        batch_op.drop_column('origin')
        batch_op.drop_column('org_path')

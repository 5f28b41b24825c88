"""statistics notices written by a trigger on the registration history

Every row appended to ``registration_history`` notes its event in ``stats_dirty`` from inside the database (the
application wrote the notice itself, one statement more in every booking). The SQL is the one in
``app/stats/models.py`` (``NOTE_HISTORY_DDL``) at the time of this revision; a migration keeps its own copy.

Revision ID: 0bfd7efd0472
Revises: 1ed2f5c3df65
Create Date: 2026-11-29 19:40:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0bfd7efd0472'
down_revision = '1ed2f5c3df65'
branch_labels = None
depends_on = None

UPGRADE = {
    "postgresql": [
        """CREATE OR REPLACE FUNCTION stats_note_history() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO stats_dirty (event_id, at)
    SELECT r.event_id, max(h.at) FROM noted_history h JOIN registrations r ON r.id = h.registration_id
    GROUP BY r.event_id;
    RETURN NULL;
END $$""",
        "DROP TRIGGER IF EXISTS stats_note_history ON registration_history",
        """CREATE TRIGGER stats_note_history AFTER INSERT ON registration_history
REFERENCING NEW TABLE AS noted_history FOR EACH STATEMENT EXECUTE FUNCTION stats_note_history()""",
    ],
    "sqlite": [
        "DROP TRIGGER IF EXISTS stats_note_history",
        """CREATE TRIGGER stats_note_history AFTER INSERT ON registration_history
BEGIN
    INSERT INTO stats_dirty (event_id, at)
    SELECT r.event_id, NEW.at FROM registrations r
    WHERE r.id = NEW.registration_id AND NOT EXISTS (SELECT 1 FROM stats_dirty d WHERE d.event_id = r.event_id);
END""",
    ],
}

DOWNGRADE = {
    "postgresql": [
        "DROP TRIGGER IF EXISTS stats_note_history ON registration_history",
        "DROP FUNCTION IF EXISTS stats_note_history()",
    ],
    "sqlite": ["DROP TRIGGER IF EXISTS stats_note_history"],
}


def upgrade():
    for statement in UPGRADE.get(op.get_bind().dialect.name, []):
        op.execute(statement)


def downgrade():
    for statement in DOWNGRADE.get(op.get_bind().dialect.name, []):
        op.execute(statement)

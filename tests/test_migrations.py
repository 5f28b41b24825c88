"""The Alembic migrations build the whole schema, and they match the models (no drift)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import make_url

from app import create_app
from app.extensions import db

from .conftest import BACKEND, TEST_CONFIG


@pytest.fixture
def empty_database_url(tmp_path: Path, database_url: str) -> Iterator[str]:
    """A database with nothing in it. On PostgreSQL, a schema of its own in the suite's database, first on the
    search path (a database of its own would cost a checkpoint when dropped: seconds to tens of seconds)."""
    if BACKEND != "postgres":
        yield f"sqlite:///{tmp_path / 'migrated.sqlite3'}"
        return
    admin = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS migrated CASCADE")
        conn.execute("CREATE SCHEMA migrated")
    url = make_url(database_url).update_query_dict({"options": "-csearch_path=migrated"})
    yield url.render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute("DROP SCHEMA migrated CASCADE")


def test_upgrade_builds_schema_matching_models(empty_database_url):
    application = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": empty_database_url})
    with application.app_context():
        upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, db.metadata)
        db.engine.dispose()
    assert differences == [], "models and migrations differ; run `flask db migrate`:\n" + "\n".join(
        map(str, differences)
    )


def test_upgrade_installs_the_trigger_that_notes_changes_for_the_statistics(empty_database_url):
    application = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": empty_database_url})
    with application.app_context():
        upgrade()
        query = (
            "SELECT count(*) FROM pg_trigger JOIN pg_class ON pg_class.oid = tgrelid"
            " WHERE tgname = 'stats_note_history' AND relnamespace = current_schema()::regnamespace"
            if BACKEND == "postgres"
            else "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name = 'stats_note_history'"
        )
        with db.engine.connect() as connection:
            installed = connection.exec_driver_sql(query).scalar()
        db.engine.dispose()
    assert installed == 1


def test_the_waitlist_counter_migration_keeps_every_registration_and_fills_the_counter(empty_database_url):
    """Down and up again with data: no registration is lost (on SQLite the downgrade rebuilds the slots table,
    which must not cascade into the registrations) and the counter is filled from the registrations."""
    from flask_migrate import downgrade
    from sqlalchemy import func, select

    from app.booking import services as booking
    from app.booking.models import Registration, Status
    from app.events.models import Slot, WaitlistPolicy
    from app.orgs.services import seed_reference_data
    from tests import factories

    application = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": empty_database_url})
    with application.app_context():
        upgrade()
        seed_reference_data()
        event = factories.make_event(capacity=1, waitlist=WaitlistPolicy.OFFER)
        slot_id = event.slots[0].id
        for _ in range(3):
            booking.book(factories.make_employee(), slot_id)
        db.session.commit()
        db.session.remove()
        downgrade(revision="0bfd7efd0472")
        upgrade()
        db.session.remove()
        registrations = db.session.scalar(select(func.count()).select_from(Registration))
        waiting = db.session.scalar(select(Slot.waitlisted).where(Slot.id == slot_id))
        statuses = sorted(db.session.scalars(select(Registration.status)))
        db.session.remove()
        db.engine.dispose()
    assert registrations == 3 and waiting == 2
    assert statuses == sorted([Status.CONFIRMED, Status.WAITLISTED, Status.WAITLISTED])

"""Backups restored into a new database, and reads that may lag routed to a replica with fallback to the
primary. On SQLite (online backup API) and on PostgreSQL (pg_dump -Fc / pg_restore), whichever the suite runs on."""

import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from flask import jsonify
from sqlalchemy import func, make_url, select

from app import clock, create_app, replica
from app.accounts.models import User
from app.backup import BackupError, create_backup, restore_backup
from app.booking.models import Registration
from app.events.models import Event
from app.extensions import db
from tests.conftest import TEST_CONFIG

from .. import factories

NOW = datetime(2026, 3, 2, 9, 0)


@pytest.fixture
def new_database_url(app, tmp_path) -> Iterator[str]:
    """The URL of a database that does not exist yet, next to the test database (dropped afterwards)."""
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() != "postgresql":
        yield f"sqlite:///{tmp_path}/restored.sqlite3"
        return
    name = f"zhijia_restored_{uuid.uuid4().hex[:8]}"
    yield url.set(database=name).render_as_string(hide_password=False)
    import psycopg

    maintenance = url.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(maintenance, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def counts() -> dict[str, int]:
    return {
        model.__tablename__: db.session.scalar(select(func.count()).select_from(model)) or 0
        for model in (User, Event, Registration)
    }


def test_a_backup_restored_into_a_new_database_has_the_same_rows_and_a_working_app(app, tmp_path, new_database_url):
    clock.set_now(NOW)
    event = factories.make_event(capacity=3, title="庐山疗休养")
    from app.booking import services as booking

    booked = factories.make_employee()
    booking.book(booked, event.slots[0].id)
    db.session.commit()
    newcomer_id = factories.make_employee().id
    event_id, slot_id = event.id, event.slots[0].id
    expected = counts()
    db.session.commit()
    backup = tmp_path / "zhijia.backup"

    runner = app.test_cli_runner()
    made = runner.invoke(args=["backup", "create", str(backup)])
    assert made.exit_code == 0, made.output
    restored = runner.invoke(args=["backup", "restore", str(backup), "--into", new_database_url])
    assert restored.exit_code == 0, restored.output
    # Never over an existing database.
    again = runner.invoke(args=["backup", "restore", str(backup), "--into", new_database_url])
    assert again.exit_code != 0 and "already exists" in again.output

    restored_app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": new_database_url})
    try:
        with restored_app.app_context():
            assert counts() == expected
            assert db.session.scalar(select(Event.title).where(Event.id == event_id)) == "庐山疗休养"
        client = restored_app.test_client()
        listed = client.get("/api/v1/events").json["events"]
        assert [(e["id"], e["slots"][0]["confirmed"]) for e in listed] == [(event_id, 1)]
        with restored_app.app_context():
            token = factories.api_token(db.session.get(User, newcomer_id))
        response = client.post(
            f"/api/v1/slots/{slot_id}/registrations", json={}, headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 201 and response.json["status"] == "confirmed"
    finally:
        with restored_app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_a_backup_never_overwrites_a_file(app, tmp_path):
    existing = tmp_path / "there.backup"
    existing.write_text("keep me")
    with pytest.raises(BackupError):
        create_backup(app.config["SQLALCHEMY_DATABASE_URI"], existing)
    assert existing.read_text() == "keep me"


# --- replica routing ---------------------------------------------------------------------------------------


def down_url(app, tmp_path: Path) -> str:
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "postgresql":
        return url.set(host="127.0.0.1", port=1, database="nothing").render_as_string(hide_password=False)
    return f"sqlite:///{tmp_path}/no-such-folder/replica.sqlite3"


def app_with_replica(app, replica_url: str, **settings):
    """A second app on the test database, reading lagging views from ``replica_url``, with a test view that
    counts users the way a statistics view reads."""
    routed = create_app(
        {
            **TEST_CONFIG,
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "DATABASE_REPLICA_URL": replica_url,
            "DATABASE_REPLICA_CHECK_SECONDS": 0,
            **settings,
        }
    )

    @routed.get("/test/users-counted")
    @replica.reads_replica
    def users_counted():  # type: ignore[no-untyped-def]
        return jsonify(users=db.session.scalar(select(func.count()).select_from(User)), source=replica.reading_source())

    @routed.get("/test/users-counted-on-primary")
    def users_counted_on_primary():  # type: ignore[no-untyped-def]
        return jsonify(users=db.session.scalar(select(func.count()).select_from(User)))

    return routed


@pytest.fixture
def replica_copy(app, tmp_path, new_database_url) -> str:
    """A "replica": a copy of the test database taken now (later changes to the primary are not in it)."""
    factories.make_employee()
    backup = tmp_path / "replica.backup"
    create_backup(app.config["SQLALCHEMY_DATABASE_URI"], backup)
    restore_backup(backup, new_database_url)
    factories.make_employee()  # only on the primary
    return new_database_url


def dispose(routed) -> None:
    with routed.app_context():
        db.session.remove()
        db.engine.dispose()
        state = routed.extensions.get("zhijia_replica")
        if state is not None:
            state.engine.dispose()


def test_lagging_reads_go_to_the_replica_and_decisions_to_the_primary(app, replica_copy):
    routed = app_with_replica(app, replica_copy)
    try:
        client = routed.test_client()
        assert client.get("/test/users-counted").json == {"users": 1, "source": "replica"}
        assert client.get("/test/users-counted-on-primary").json == {"users": 2}
        assert client.get("/stats/public").status_code == 200
    finally:
        dispose(routed)


def test_a_replica_that_is_down_falls_back_to_the_primary(app, tmp_path):
    factories.make_employee()
    routed = app_with_replica(app, down_url(app, tmp_path))
    try:
        client = routed.test_client()
        assert client.get("/test/users-counted").json == {"users": 1, "source": "primary"}
        public = client.get("/stats/public")
        assert public.status_code == 200
    finally:
        dispose(routed)


def test_a_replica_lagging_more_than_the_setting_falls_back_to_the_primary(app, replica_copy, monkeypatch):
    routed = app_with_replica(app, replica_copy, DATABASE_REPLICA_MAX_LAG_SECONDS=30)
    try:
        client = routed.test_client()
        monkeypatch.setattr(replica, "measure_lag", lambda connection: 31.0)
        assert client.get("/test/users-counted").json == {"users": 2, "source": "primary"}
        monkeypatch.setattr(replica, "measure_lag", lambda connection: 29.0)
        assert client.get("/test/users-counted").json == {"users": 1, "source": "replica"}
    finally:
        dispose(routed)


def test_the_lag_of_a_primary_or_sqlite_is_zero(app):
    with db.engine.connect() as connection:
        assert replica.measure_lag(connection) == 0.0

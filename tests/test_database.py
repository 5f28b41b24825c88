"""The engine set-up of app/database.py: a lock held too long gives a clear, retryable answer, not a hung
request, and nothing is written; the bulk helpers write exactly the rows and columns given."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import func, select, text

from app import create_app
from app.accounts.models import User
from app.booking import services as booking
from app.booking.models import Registration
from app.database import update_rows
from app.errors import Busy
from app.extensions import db

from . import factories
from .conftest import TEST_CONFIG


@pytest.fixture
def impatient_app(database_url: str) -> Iterator[Flask]:
    """A second app on the same database that waits at most 0.3 s for a lock."""
    application = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url, "DB_LOCK_TIMEOUT_SECONDS": 0.3})
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


def _hold_the_slot(slot_id: int):  # type: ignore[no-untyped-def]
    """Another transaction (another connection of the current app's engine) holding the slot's lock: PostgreSQL's row lock, SQLite's
    write lock (its transactions begin IMMEDIATE)."""
    connection = db.engine.connect()
    connection.begin()
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT id FROM slots WHERE id = :id FOR UPDATE"), {"id": slot_id})
    else:
        connection.execute(text("UPDATE slots SET closed = closed WHERE id = :id"), {"id": slot_id})
    return connection


def _registrations() -> int:
    count = db.session.scalar(select(func.count()).select_from(Registration)) or 0
    db.session.commit()  # SQLite: let go of the write lock every transaction takes
    return count


def test_a_booking_behind_a_stuck_lock_is_refused_as_busy_and_writes_nothing(impatient_app):
    event = factories.make_event(capacity=5)
    person = factories.make_employee()
    db.session.commit()
    slot_id, person_id = event.slots[0].id, person.id
    db.session.commit()  # the test's own session holds nothing either
    with impatient_app.app_context():
        user = db.session.get(User, person_id)
        assert user is not None and user.profile is not None
        db.session.commit()  # nothing held: the booking's own transaction is what waits
        holder = _hold_the_slot(slot_id)
        try:
            with pytest.raises(Busy):
                booking.book(user, slot_id)
            db.session.rollback()
        finally:
            holder.rollback()
            holder.close()
    assert _registrations() == 0
    with impatient_app.app_context():  # once the lock is free, the same booking goes through
        user = db.session.get(User, person_id)
        assert booking.book(user, slot_id).status.value == "confirmed"
        db.session.commit()
    assert _registrations() == 1


def test_the_api_answers_503_with_retry_after_behind_a_stuck_lock(impatient_app):
    event = factories.make_event(capacity=5)
    person = factories.make_employee()
    token = factories.api_token(person)
    slot_id = event.slots[0].id
    db.session.commit()  # the test's own session holds nothing either
    holder = _hold_the_slot(slot_id)
    try:
        response = impatient_app.test_client().post(
            f"/api/v1/slots/{slot_id}/registrations", json={}, headers={"Authorization": f"Bearer {token}"}
        )
    finally:
        holder.rollback()
        holder.close()
    assert response.status_code == 503
    assert response.headers["Retry-After"].isdigit()
    assert response.get_json()["error"] == "busy"
    assert _registrations() == 0


def test_update_rows_writes_each_rows_values_in_one_statement_and_nothing_else():
    event = factories.make_event(capacity=5)
    registrations = [booking.book(factories.make_employee(), event.slots[0].id) for _ in range(3)]
    db.session.commit()
    first, second, untouched = (r.id for r in registrations)
    before = db.session.execute(
        select(Registration.priority, Registration.ticket_code).where(Registration.id == untouched)
    ).one()
    codes = ['a,"b"{c}', "NULL"]  # what an array literal would have to quote
    update_rows(Registration.__table__, [second, first], {"priority": [-7, 9], "ticket_code": codes})  # type: ignore[arg-type]
    db.session.commit()
    rows = dict(
        (row.id, (row.priority, row.ticket_code))
        for row in db.session.execute(select(Registration.id, Registration.priority, Registration.ticket_code))
    )
    assert rows == {second: (-7, codes[0]), first: (9, "NULL"), untouched: tuple(before)}
    update_rows(Registration.__table__, [], {"priority": []})  # type: ignore[arg-type]

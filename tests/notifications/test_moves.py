"""A seat moved to another slot has its reminders planned again for the new start, whoever moved it: the
organizer console (another slot of any event) and a person's own screening move go through the same engine
move, which announces itself once."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from app import clock
from app.booking import services as booking
from app.booking.models import Cause, Registration, RegistrationHistory
from app.extensions import db
from app.organizer import rosters
from app.outbox.models import OutboxMessage, OutboxStatus
from app.screenings import moves

from .. import factories
from ..screenings import factories as sf


def _pending_reminders(registration: Registration) -> set[datetime]:
    """When the registration's reminders that will still go out are due."""
    return set(
        db.session.scalars(
            select(OutboxMessage.due_at).where(
                OutboxMessage.user_id == registration.user_id,
                OutboxMessage.kind == "reminder",
                OutboxMessage.status == OutboxStatus.PENDING,
            )
        )
    )


def _due_before(start: datetime) -> set[datetime]:
    return {start - timedelta(hours=24), start - timedelta(hours=2)}


def test_an_organizer_move_replans_the_reminders_for_the_new_slot():
    clock.set_now(datetime(2026, 6, 1, 9, 0))
    organizer = factories.make_organizer()
    event = factories.make_event(capacity=5, slots=2, duration=timedelta(hours=5))
    first, second = event.slots
    person = factories.make_employee()
    registration = booking.book(person, first.id)
    db.session.commit()
    assert _pending_reminders(registration) == _due_before(first.starts_at)

    rosters.move(organizer, registration, second.id)
    db.session.commit()

    assert registration.slot_id == second.id
    assert _pending_reminders(registration) == _due_before(second.starts_at)
    history = db.session.scalars(
        select(RegistrationHistory)
        .where(RegistrationHistory.registration_id == registration.id)
        .order_by(RegistrationHistory.id.desc())
    ).first()
    assert history is not None and history.cause == Cause.MOVED and history.actor_id == organizer.id


def test_moving_back_revives_the_reminders_of_the_first_slot():
    clock.set_now(datetime(2026, 6, 1, 9, 0))
    organizer = factories.make_organizer()
    event = factories.make_event(capacity=5, slots=2, duration=timedelta(hours=5))
    first, second = event.slots
    registration = booking.book(factories.make_employee(), first.id)
    db.session.commit()
    rosters.move(organizer, registration, second.id)
    db.session.commit()
    rosters.move(organizer, registration, first.id)
    db.session.commit()
    assert _pending_reminders(registration) == _due_before(first.starts_at)


def test_a_persons_own_screening_move_replans_the_reminders():
    event = sf.plan(interval=60, per_slot=3)
    early, later = sf.slot_at(event, "08:30"), sf.slot_at(event, "10:30")
    person = sf.woman(40)
    registration = sf.book(person, early)
    assert _pending_reminders(registration) == _due_before(early.starts_at)

    moves.move_booking(person, registration.id, later.id)
    db.session.commit()

    assert _pending_reminders(registration) == _due_before(later.starts_at)

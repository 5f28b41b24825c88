"""Booking a screening: the package row, the two-cancer cap per slot, moving a booking (also concurrently)."""

import threading
from datetime import datetime, time

import pytest

from app.accounts.consents import HEALTH_SCREENING
from app.booking import queries as booking_queries
from app.booking import services as booking
from app.booking.errors import AlreadyRegistered, Full, WindowClosed
from app.booking.models import Registration, Status
from app.errors import NotFound
from app.extensions import db
from app.screenings import eligibility, moves, packages
from app.screenings.eligibility import TwoCancerFull
from app.screenings.models import ScreeningBooking

from .. import factories
from . import factories as sf


def _active(user):
    return [r for r in booking_queries.my_registrations(user) if r.is_active]


def test_each_booking_records_its_package():
    event = sf.plan()
    general = sf.book(sf.man(), event.slots[0])
    both = sf.book(sf.woman(40), event.slots[0], "two_cancer")
    assert db.session.get(ScreeningBooking, general.id).two_cancer is False
    row = db.session.get(ScreeningBooking, both.id)
    assert row.two_cancer is True and row.outcome is None
    assert packages.package_label("two_cancer") == "常规体检 + “两癌”筛查"


def test_one_booking_per_visit():
    event = sf.plan()
    person = sf.woman(40)
    sf.book(person, event.slots[0])
    with pytest.raises(AlreadyRegistered):
        sf.book(person, event.slots[1])


def test_two_cancer_cap_per_slot_while_general_seats_remain():
    event = sf.plan(per_slot=4, two_cancer_per_slot=1)
    slot = sf.slot_at(event, "10:15")
    sf.book(sf.woman(40), slot, "two_cancer")
    late = sf.woman(41)
    with pytest.raises(TwoCancerFull) as caught:
        sf.book(late, slot, "two_cancer")
    db.session.rollback()
    assert "两癌" in caught.value.message and _active(late) == []
    assert sf.book(late, slot, "general").status == Status.CONFIRMED


def test_a_cancelled_two_cancer_booking_frees_the_package_place():
    event = sf.plan(per_slot=4, two_cancer_per_slot=1)
    slot = sf.slot_at(event, "10:15")
    first = sf.woman(40)
    registration = sf.book(first, slot, "two_cancer")
    booking.cancel(registration, actor=first)
    db.session.commit()
    assert sf.book(sf.woman(41), slot, "two_cancer").status == Status.CONFIRMED


def test_move_keeps_the_package_and_frees_the_first_slot():
    event = sf.plan(per_slot=2)
    a, b = sf.slot_at(event, "10:15"), sf.slot_at(event, "10:30")
    person = sf.woman(40)
    registration = sf.book(person, a, "two_cancer")
    moves.move_booking(person, registration.id, b.id)
    db.session.commit()
    db.session.refresh(a)
    db.session.refresh(b)
    assert (a.taken, b.taken) == (0, 1)
    assert registration.slot_id == b.id and registration.status == Status.CONFIRMED
    assert db.session.get(ScreeningBooking, registration.id).two_cancer is True
    assert len(_active(person)) == 1


def test_reminders_follow_the_move():
    from app.outbox.models import OutboxMessage, OutboxStatus

    event = sf.plan()
    a, b = sf.slot_at(event, "10:15"), sf.slot_at(event, "14:00")
    person = sf.woman(40)
    registration = sf.book(person, a)
    moves.move_booking(person, registration.id, b.id)
    db.session.commit()
    pending = db.session.scalars(
        db.select(OutboxMessage).where(
            OutboxMessage.user_id == person.id,
            OutboxMessage.kind == "reminder",
            OutboxMessage.status == OutboxStatus.PENDING,
        )
    ).all()
    assert pending and {m.expires_at for m in pending} == {b.starts_at}


def test_move_into_a_full_slot_keeps_the_first():
    event = sf.plan(per_slot=1)
    a, b = sf.slot_at(event, "10:15"), sf.slot_at(event, "10:30")
    sf.book(sf.man(), b)
    person = sf.woman(40)
    registration = sf.book(person, a)
    with pytest.raises(Full):
        moves.move_booking(person, registration.id, b.id)
    db.session.rollback()
    db.session.refresh(registration)
    assert registration.slot_id == a.id and registration.status == Status.CONFIRMED


def test_move_into_a_slot_whose_two_cancer_places_are_taken_is_refused():
    event = sf.plan(per_slot=4, two_cancer_per_slot=1)
    a, b = sf.slot_at(event, "10:15"), sf.slot_at(event, "10:30")
    sf.book(sf.woman(50), b, "two_cancer")
    person = sf.woman(40)
    registration = sf.book(person, a, "two_cancer")
    with pytest.raises(TwoCancerFull):
        moves.move_booking(person, registration.id, b.id)
    db.session.rollback()
    db.session.refresh(registration)
    assert registration.slot_id == a.id
    # A general booking may still move there.
    other = sf.woman(30)
    general = sf.book(other, a)
    moves.move_booking(other, general.id, b.id)


def test_move_to_a_slot_that_already_started_is_refused():
    event = sf.plan()
    a, b = sf.slot_at(event, "10:15"), sf.slot_at(event, "08:30")
    person = sf.woman(40)
    registration = sf.book(person, a)
    factories.at(datetime(2026, 6, 15, 9, 0))
    with pytest.raises(WindowClosed):
        moves.move_booking(person, registration.id, b.id)


def test_nobody_can_move_someone_elses_booking():
    event = sf.plan()
    registration = sf.book(sf.woman(40), event.slots[0])
    with pytest.raises(NotFound):
        moves.move_booking(sf.woman(41), registration.id, event.slots[1].id)


@pytest.mark.concurrency
def test_two_people_move_from_a_to_the_last_free_seat_in_b(app):
    """The last free seat in slot B while two people move from A at the same moment: exactly one gets it; the
    other keeps their seat in A; counters match the registrations."""
    event = sf.plan(per_slot=2, start=time(10), end=time(11), interval=15)
    a, b = sf.slot_at(event, "10:15"), sf.slot_at(event, "10:30")
    movers = [sf.woman(40 + i) for i in range(2)]
    registrations = [sf.book(person, a) for person in movers]
    sf.book(sf.man(), b)
    a_id, b_id = a.id, b.id
    jobs = [(person.id, registration.id) for person, registration in zip(movers, registrations, strict=True)]
    db.session.commit()  # reading the ids opened a transaction: end it so the movers can write
    barrier = threading.Barrier(len(jobs))
    results: dict[int, str] = {}

    def run(user_id: int, registration_id: int) -> None:
        with app.app_context():
            barrier.wait(timeout=30)
            try:
                user = db.session.get(factories.User, user_id)
                moves.move_booking(user, registration_id, b_id)
                db.session.commit()
                results[registration_id] = "moved"
            except Full:
                db.session.rollback()
                results[registration_id] = "full"
            except Exception as error:  # noqa: BLE001 - reported below
                db.session.rollback()
                results[registration_id] = f"error: {error!r}"
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=job) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(results.values()) == ["full", "moved"], results
    db.session.expire_all()
    slot_a, slot_b = db.session.get(factories.Slot, a_id), db.session.get(factories.Slot, b_id)
    assert (slot_a.taken, slot_b.taken) == (1, 2)
    held = db.session.scalars(
        db.select(Registration).where(Registration.event_id == event.id, Registration.is_active.is_(True))
    ).all()
    assert sorted(r.slot_id for r in held) == sorted([a_id, b_id, b_id])
    for person in movers:
        assert len(_active(person)) == 1


@pytest.mark.concurrency
def test_two_women_race_for_the_last_two_cancer_place(app):
    event = sf.plan(per_slot=6, two_cancer_per_slot=1, start=time(10), end=time(11), interval=15)
    slot_id = sf.slot_at(event, "10:15").id
    women = [sf.woman(40 + i) for i in range(3)]
    ids = [w.id for w in women]
    db.session.commit()
    barrier = threading.Barrier(len(ids))
    results: dict[int, str] = {}

    def run(user_id: int) -> None:
        with app.app_context():
            barrier.wait(timeout=30)
            try:
                user = db.session.get(factories.User, user_id)
                booking.book(user, slot_id, consents=[HEALTH_SCREENING], options={"package": "two_cancer"})
                db.session.commit()
                results[user_id] = "booked"
            except TwoCancerFull:
                db.session.rollback()
                results[user_id] = "full"
            except Exception as error:  # noqa: BLE001
                db.session.rollback()
                results[user_id] = f"error: {error!r}"
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(user_id,)) for user_id in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(results.values()) == ["booked", "full", "full"], results
    assert eligibility.two_cancer_counts([slot_id]) == {slot_id: 1}

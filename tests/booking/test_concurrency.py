"""Capacity holds under load (DESIGN.md §5): many threads, each with its own session and connection, released
at the same instant by a barrier. A control test shows the race is real when locking is switched off."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError

from app import create_app
from app.accounts.models import Gender, User
from app.booking import services as booking
from app.booking.models import HOLDING, Registration, Status
from app.errors import DomainError
from app.events.models import Slot
from app.extensions import db

from .. import factories
from ..conftest import TEST_CONFIG

pytestmark = pytest.mark.concurrency

THREADS = 200
CAPACITY = 50


@pytest.fixture(scope="module")
def concurrent_app(database_url):
    """A second app on the same database with a pool big enough for real contention (PostgreSQL allows 100
    connections here, so 40 are open at once; SQLite opens one per thread)."""
    application = create_app(
        {
            **TEST_CONFIG,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 40, "max_overflow": 0, "pool_timeout": 120}
            if database_url.startswith("postgresql")
            else {},
        }
    )
    yield application
    with application.app_context():
        db.engine.dispose()


def _race(concurrent_app, slot_id: int, user_ids: list[int]) -> Counter[str]:
    barrier = threading.Barrier(len(user_ids), timeout=120)

    def attempt(user_id: int) -> str:
        with concurrent_app.app_context():
            try:
                user = db.session.get(User, user_id)
                assert user is not None and user.profile is not None
                db.session.commit()  # release SQLite's lock before everyone waits at the barrier
                barrier.wait()
                registration = booking.book(user, slot_id)
                status = registration.status.value
                db.session.commit()
                return status
            except DomainError as error:
                db.session.rollback()
                return error.code
            except DBAPIError:
                db.session.rollback()
                return "database_error"
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=len(user_ids)) as pool:
        return Counter(pool.map(attempt, user_ids))


def _holding(slot_id: int) -> int:
    db.session.expire_all()
    return db.session.scalar(
        select(func.count()).where(Registration.slot_id == slot_id, Registration.status.in_(list(HOLDING)))
    )


def _people(n: int, **kwargs) -> list[int]:
    return [factories.make_employee(commit=False, **kwargs).id for _ in range(n)]


def test_control_without_locking_the_race_is_real(concurrent_app):
    """With locking switched off, concurrent bookings overbook (PostgreSQL) or fail with lock errors (SQLite
    without BEGIN IMMEDIATE): the protection in the engine is what makes the next tests pass."""
    event = factories.make_event(capacity=5)
    slot_id = event.slots[0].id
    users = _people(60)
    db.session.commit()
    concurrent_app.config["BOOKING_LOCKING"] = False
    try:
        outcomes = _race(concurrent_app, slot_id, users)
    finally:
        concurrent_app.config["BOOKING_LOCKING"] = True
    overbooked = _holding(slot_id) > 5
    assert overbooked or outcomes["database_error"] > 0, outcomes


@pytest.mark.parametrize("round_no", range(3))
def test_exactly_capacity_confirmed_under_a_burst(concurrent_app, round_no):
    event = factories.make_event(capacity=CAPACITY)
    slot_id = event.slots[0].id
    users = _people(THREADS)
    db.session.commit()
    outcomes = _race(concurrent_app, slot_id, users)
    assert outcomes["confirmed"] == CAPACITY, outcomes
    assert outcomes["waitlisted"] == THREADS - CAPACITY, outcomes
    assert outcomes["database_error"] == 0
    assert _holding(slot_id) == CAPACITY
    slot = db.session.get(Slot, slot_id)
    assert slot.taken == CAPACITY
    assert slot.waitlisted == THREADS - CAPACITY == _waiting(slot_id)


def test_waitlist_cap_holds_under_a_burst(concurrent_app):
    """The slot's waitlist counter decides who still may wait: exactly ``max_waitlist`` join, the rest are told
    the slot is full, and the counter matches the registrations."""
    event = factories.make_event(capacity=CAPACITY, commit=False)
    event.slots[0].max_waitlist = 30
    db.session.commit()
    slot_id = event.slots[0].id
    users = _people(THREADS)
    db.session.commit()
    outcomes = _race(concurrent_app, slot_id, users)
    assert outcomes == Counter({"confirmed": CAPACITY, "waitlisted": 30, "full": THREADS - CAPACITY - 30})
    slot = db.session.get(Slot, slot_id)
    db.session.refresh(slot)
    assert slot.waitlisted == 30 == _waiting(slot_id)


def test_full_without_waitlist_answers_full_cleanly(concurrent_app):
    from app.events.models import WaitlistPolicy

    event = factories.make_event(capacity=CAPACITY, waitlist=WaitlistPolicy.NONE)
    slot_id = event.slots[0].id
    users = _people(THREADS)
    db.session.commit()
    outcomes = _race(concurrent_app, slot_id, users)
    assert outcomes == Counter({"confirmed": CAPACITY, "full": THREADS - CAPACITY})


def test_gender_quota_holds_under_a_burst(concurrent_app):
    event = factories.make_event(capacity=40, quota_female=20, quota_male=20)
    slot_id = event.slots[0].id
    women = _people(100, gender=Gender.FEMALE)
    men = _people(60, gender=Gender.MALE)
    db.session.commit()
    outcomes = _race(concurrent_app, slot_id, women + men)
    assert outcomes["confirmed"] == 40 and outcomes["database_error"] == 0, outcomes
    slot = db.session.get(Slot, slot_id)
    db.session.refresh(slot)
    assert (slot.taken_female, slot.taken_male) == (20, 20)
    by_gender = Counter(
        db.session.scalars(
            select(Registration.gender).where(Registration.slot_id == slot_id, Registration.status == Status.CONFIRMED)
        )
    )
    assert by_gender == Counter({Gender.FEMALE: 20, Gender.MALE: 20})


def _waiting(slot_id: int) -> int:
    return db.session.scalar(
        select(func.count()).where(Registration.slot_id == slot_id, Registration.status == Status.WAITLISTED)
    )


def test_same_person_double_submit_registers_once(concurrent_app):
    event = factories.make_event(capacity=10)
    slot_id = event.slots[0].id
    person = _people(1)[0]
    db.session.commit()
    outcomes = _race(concurrent_app, slot_id, [person] * 8)
    assert outcomes["confirmed"] == 1
    assert outcomes["already_registered"] + outcomes["database_error"] == 7
    assert _holding(slot_id) == 1

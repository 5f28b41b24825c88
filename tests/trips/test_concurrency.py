"""One trip a year under concurrency (DESIGN.md §5): two departures allocating at the same instant — two
lottery draws, or first-come bookings of the same people — never both give the same person a place. Threads
have their own app context, session and connection and are released together by a barrier. Runs on file
SQLite and on PostgreSQL."""

from __future__ import annotations

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError

from app import create_app
from app.accounts.models import User
from app.booking import services as booking
from app.booking.models import HOLDING, Registration
from app.errors import DomainError
from app.events.models import Allocation
from app.extensions import db
from app.trips import lottery_draw, lottery_record

from .. import factories
from ..conftest import TEST_CONFIG
from . import factories as tf

pytestmark = pytest.mark.concurrency


@pytest.fixture(scope="module")
def concurrent_app(database_url):
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


def _run_together(concurrent_app, jobs) -> Counter[str]:
    barrier = threading.Barrier(len(jobs), timeout=120)

    def run(job) -> str:
        with concurrent_app.app_context():
            try:
                db.session.commit()
                barrier.wait()
                outcome = job()
                db.session.commit()
                return outcome
            except DomainError as error:
                db.session.rollback()
                return error.code
            except DBAPIError:
                db.session.rollback()
                return "database_error"
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        return Counter(pool.map(run, jobs))


def _places_per_person(event_ids: list[int]) -> Counter[int]:
    db.session.expire_all()
    rows = db.session.scalars(
        select(Registration.user_id).where(Registration.event_id.in_(event_ids), Registration.status.in_(list(HOLDING)))
    ).all()
    return Counter(rows)


@pytest.mark.parametrize("round_no", range(3))
def test_two_lottery_draws_at_once_never_confirm_the_same_person(concurrent_app, round_no):
    a = tf.make_departure(seats=3)
    b = tf.make_departure(tf.make_route(title="瑞金红色故都研学"), seats=3)
    favourites = [factories.make_employee() for _ in range(3)]
    for person in favourites:
        person.profile.model_worker = True  # tier 1 on both departures: each would win both
    db.session.commit()
    others = [factories.make_employee() for _ in range(6)]
    for person in favourites + others:
        tf.apply(person, a)
        tf.apply(person, b)
    now = tf.close_window(a)
    tf.set_value(a, f"{round_no}-a")
    tf.set_value(b, f"{round_no}-b")

    def draw(event_id: int):
        return lambda: (lottery_draw.draw_lottery(event_id, now), "drawn")[1]

    jobs = [draw(a.event_id), draw(b.event_id)]
    db.session.commit()  # release SQLite's write lock before the threads start
    outcomes = _run_together(concurrent_app, jobs)
    assert outcomes == Counter({"drawn": 2}), outcomes
    places = _places_per_person([a.event_id, b.event_id])
    assert max(places.values()) == 1, places
    assert all(places[p.id] == 1 for p in favourites)
    assert sum(places.values()) == 6  # both departures still fill their seats from the others
    for departure in (a, b):
        assert lottery_record.verify_departure(departure.event_id).ok


def _widen_the_gap(monkeypatch) -> None:
    """Sleep between counting a person's places and taking the seat, so a missing lock would show."""
    from app.trips import policy

    counted = policy.holding_count

    def slow_count(*args, **kwargs):
        result = counted(*args, **kwargs)
        time.sleep(0.3)
        return result

    monkeypatch.setattr(policy, "holding_count", slow_count)


@pytest.mark.parametrize("widened", [False, True], ids=["plain", "gap-widened"])
def test_first_come_bookings_of_two_departures_at_once_give_each_person_one_place(concurrent_app, monkeypatch, widened):
    if widened:
        _widen_the_gap(monkeypatch)
    a = tf.make_departure(seats=50, allocation=Allocation.FIRST_COME)
    b = tf.make_departure(tf.make_route(title="婺源古村"), seats=50, allocation=Allocation.FIRST_COME)
    people = [factories.make_employee(commit=False).id for _ in range(15)]
    db.session.commit()

    def book(user_id: int, slot_id: int):
        def job() -> str:
            user = db.session.get(User, user_id)
            return booking.book(user, slot_id).status.value  # type: ignore[arg-type]

        return job

    jobs = [book(uid, tf.slot_id(d)) for uid in people for d in (a, b)]
    db.session.commit()  # release SQLite's write lock before the threads start
    outcomes = _run_together(concurrent_app, jobs)
    assert outcomes["database_error"] == 0, outcomes
    assert outcomes["confirmed"] == 15, outcomes
    assert outcomes["one_trip_per_year"] + outcomes["not_eligible"] == 15, outcomes
    places = _places_per_person([a.event_id, b.event_id])
    assert places == Counter({uid: 1 for uid in people})
    total = db.session.scalar(select(func.count()).select_from(Registration).where(Registration.user_id.in_(people)))
    assert total == 15  # a refused booking leaves nothing behind


def test_control_without_the_person_lock_the_race_is_real(concurrent_app, monkeypatch):
    """PostgreSQL only (SQLite's BEGIN IMMEDIATE serialises writers anyway): with the person's row lock in
    ``before_hold`` switched off (and the gap between counting and taking the seat widened), simultaneous
    bookings of two departures do give someone two places — the lock is what makes the test above pass."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite serialises writers with BEGIN IMMEDIATE: there is no race to show")
    from app.trips import policy

    monkeypatch.setattr(policy, "lock_person", lambda user_id: None)
    _widen_the_gap(monkeypatch)
    # Each person gets a pair of departures of their own, so their two bookings never queue behind other
    # people's on a slot lock: both count "no place yet" at the same moment, deterministically.
    route_b = tf.make_route(title="婺源古村")
    pairs = [
        (
            tf.make_departure(seats=5, allocation=Allocation.FIRST_COME),
            tf.make_departure(route_b, seats=5, allocation=Allocation.FIRST_COME),
        )
        for _ in range(4)
    ]
    people = [factories.make_employee(commit=False).id for _ in pairs]
    db.session.commit()

    def book(user_id: int, slot_id: int):
        def job() -> str:
            user = db.session.get(User, user_id)
            return booking.book(user, slot_id).status.value  # type: ignore[arg-type]

        return job

    jobs = [book(uid, tf.slot_id(d)) for uid, pair in zip(people, pairs, strict=True) for d in pair]
    db.session.commit()
    _run_together(concurrent_app, jobs)
    places = _places_per_person([d.event_id for pair in pairs for d in pair])
    assert max(places.values()) > 1, places

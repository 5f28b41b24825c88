"""The demo data: all three themes, past/open/drawn departures, verifiable lotteries, idempotent."""

from __future__ import annotations

from sqlalchemy import func, select

from app import clock
from app.booking.models import Registration, Status
from app.demo import core
from app.demo import trips as demo
from app.extensions import db
from app.trips import lottery_record
from app.trips.models import TripDeparture, TripRoute


def _counts() -> tuple[int, int, int]:
    return (
        db.session.scalar(select(func.count()).select_from(TripRoute)),
        db.session.scalar(select(func.count()).select_from(TripDeparture)),
        db.session.scalar(select(func.count()).select_from(Registration)),
    )


def test_demo_seed_is_believable_and_idempotent():
    core.seed_demo()
    db.session.commit()
    demo.seed_demo()
    db.session.commit()
    first = _counts()
    assert {r.theme.value for r in db.session.scalars(select(TripRoute))} == {"red", "green", "heritage"}
    departures = list(db.session.scalars(select(TripDeparture)))
    drawn = [d for d in departures if d.drawn_at is not None]
    now = clock.now()
    assert drawn and any(d.event.signup_opens_at <= now < d.event.signup_closes_at for d in departures)
    assert all(lottery_record.verify_departure(d.event_id).ok for d in drawn)
    statuses = set(db.session.scalars(select(Registration.status)))
    assert {Status.ATTENDED, Status.CONFIRMED, Status.WAITLISTED, Status.PENDING} <= statuses
    demo.seed_demo()
    db.session.commit()
    assert _counts() == first

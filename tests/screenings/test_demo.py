"""The screening demo seed: idempotent, and shows visits and slots in every state."""

from datetime import datetime

from sqlalchemy import func, select

from app import clock
from app.booking.models import Registration, Status
from app.demo.screenings import seed_demo
from app.events.models import Event
from app.extensions import db
from app.screenings.models import ScreeningBooking, ScreeningVisit

from .. import factories


def _count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_seed_demo_is_idempotent_and_covers_every_state():
    clock.set_now(datetime(2026, 6, 15, 7, 30))
    factories.make_admin()
    for index in range(40):
        factories.make_employee(
            gender="female" if index % 3 else "male", age=25 + index, city_code="nanchang", name=f"职工{index}"
        )
    seed_demo()
    db.session.commit()
    visits, registrations = _count(ScreeningVisit), _count(Registration)
    assert visits == 7 and registrations > 40
    seed_demo()
    db.session.commit()
    assert (_count(ScreeningVisit), _count(Registration)) == (visits, registrations)

    statuses = set(db.session.scalars(select(Registration.status)))
    assert {Status.CONFIRMED, Status.ATTENDED, Status.NO_SHOW} <= statuses
    outcomes = set(db.session.scalars(select(ScreeningBooking.outcome)))
    assert {"screened", "not_screened", None} <= outcomes
    assert db.session.scalar(select(func.count()).where(ScreeningBooking.two_cancer.is_(True))) > 0
    upcoming = db.session.scalars(select(Event).where(Event.kind == "screening", Event.starts_at > clock.now()))
    slots = [slot for event in upcoming for slot in event.slots]
    assert any(slot.closed for slot in slots)
    assert any(slot.taken == slot.capacity and not slot.closed for slot in slots)
    assert any(slot.taken == 0 and not slot.closed for slot in slots)

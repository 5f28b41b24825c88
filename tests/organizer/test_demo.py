"""The console's demo data: believable, idempotent, made through the services (so audited)."""

from __future__ import annotations

from sqlalchemy import func, select

from app.audit import AuditEntry
from app.booking.models import Registration, Status
from app.demo.organizer import DEMO_IP, seed_demo
from app.events.models import Event
from app.extensions import db
from app.organizer.models import CheckinScan, RosterTag

from .. import factories


def _counts() -> tuple[int, ...]:
    return tuple(
        db.session.scalar(select(func.count()).select_from(model)) or 0
        for model in (Event, Registration, RosterTag, CheckinScan, AuditEntry)
    )


def test_seed_demo_is_idempotent_and_covers_the_states():
    factories.make_organizer("jx-nanchang")
    for index in range(30):
        factories.make_employee(gender="female" if index % 2 else "male", age=25 + index % 20)
    seed_demo()
    db.session.commit()
    first = _counts()
    seed_demo()
    db.session.commit()
    assert _counts() == first
    events, registrations, tags, scans, audits = first
    assert events == 4 and registrations > 40 and tags >= 3 and scans > 10 and audits > 20
    assert set(db.session.scalars(select(AuditEntry.ip_address).distinct())) == {DEMO_IP}  # the audit context
    statuses = set(db.session.scalars(select(Registration.status)))
    assert {Status.ATTENDED, Status.NO_SHOW, Status.CONFIRMED, Status.WAITLISTED, Status.REJECTED} <= statuses
    draft = db.session.scalar(select(Event).where(Event.published.is_(False)))
    assert draft is not None and draft.title.endswith("（副本）")


def test_seed_demo_without_people_does_nothing():
    seed_demo()
    assert _counts() == (0, 0, 0, 0, 0)

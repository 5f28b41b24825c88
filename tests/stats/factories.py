"""Builders for the statistics tests: events at fixed dates and registrations in a given state.

Registrations are written straight as rows here (test data, not app code) so the hand-built dataset states
exactly what happened; feature rows (pairs, outcomes, screening bookings, targets) go in by table name, as the
statistics read them.
"""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import insert

from app.accounts.models import Gender, User
from app.booking.models import ACTIVE, Registration, Status
from app.events.models import Event, Slot
from app.extensions import db
from app.orgs.models import EnterpriseType, Organization
from tests import factories

_tickets = itertools.count(1)
_badges = itertools.count(1)


def person(
    gender: Gender,
    birth: date,
    etype: EnterpriseType,
    industry: str | None,
    city_code: str = "nanchang",
) -> User:
    return factories.make_employee(
        gender=gender, birth_date=birth, enterprise_type=etype, industry_code=industry, city_code=city_code
    )


def event_at(
    kind: str,
    starts_at: datetime,
    org: Organization,
    *,
    city_code: str = "nanchang",
    capacity: int = 10,
    slots: int = 1,
    cancelled: bool = False,
) -> Event:
    event = Event(
        kind=kind,
        title=f"{kind} {starts_at:%Y-%m-%d}",
        organization=org,
        city=factories.city(city_code),
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=3),
        signup_opens_at=starts_at - timedelta(days=30),
        signup_closes_at=starts_at - timedelta(hours=1),
        published=True,
        cancelled_at=starts_at - timedelta(days=2) if cancelled else None,
    )
    for index in range(slots):
        event.slots.append(
            Slot(
                starts_at=starts_at + timedelta(hours=index),
                ends_at=starts_at + timedelta(hours=index + 1),
                capacity=capacity,
            )
        )
    db.session.add(event)
    db.session.flush()
    return event


def reg(event: Event, user: User, status: Status, *, from_waitlist: bool = False) -> Registration:
    registration = Registration(
        slot_id=event.slots[0].id,
        event_id=event.id,
        user_id=user.id,
        status=status,
        is_active=status in ACTIVE,
        gender=user.profile.gender if user.profile else None,
        ticket_code=f"t{next(_tickets)}",
        from_waitlist=from_waitlist,
        created_at=event.starts_at - timedelta(days=10),
        checked_in_at=event.starts_at if status == Status.ATTENDED else None,
    )
    db.session.add(registration)
    db.session.flush()
    return registration


def pair(event: Event, *outcomes: str) -> int:
    pairs = db.metadata.tables["mixer_pairs"]
    a, b = next(_badges), next(_badges)
    pair_id = db.session.execute(
        insert(pairs).values(event_id=event.id, created_at=event.starts_at, source="app", badge_a=a, badge_b=b)
    ).inserted_primary_key[0]
    log = db.metadata.tables["mixer_outcomes"]
    for kind in outcomes:
        db.session.execute(insert(log).values(pair_id=pair_id, kind=kind, at=event.starts_at, member="", stage=""))
    return int(pair_id)


def screening_booking(registration: Registration, two_cancer: bool, outcome: str | None = None) -> None:
    values: dict[str, Any] = {"registration_id": registration.id, "two_cancer": two_cancer, "outcome": outcome}
    if outcome == "not_screened":
        values["not_screened_reason"] = "declined"
    db.session.execute(insert(db.metadata.tables["screening_bookings"]).values(**values))


def trip_target(year: int, org: Organization, places: int) -> None:
    db.session.execute(
        insert(db.metadata.tables["trip_targets"]).values(year=year, organization_id=org.id, places=places)
    )

"""Demo data for health-truck screenings: past visits with attendance recorded (attended, did not attend, came but
not screened), today's visit for trying check-in, and upcoming visits whose slots are empty, filling, full and
closed. Idempotent (a visit is recognised by its title) and deterministic (a fixed random seed)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from .. import clock
from ..accounts.consents import HEALTH_SCREENING
from ..accounts.models import Gender, Role, User
from ..booking import services as booking
from ..booking.models import Registration
from ..errors import DomainError
from ..events.models import Event
from ..extensions import db
from ..orgs.models import City, Organization
from ..orgs.services import get_by_code
from ..screenings import checkin, visits
from ..screenings.eligibility import two_cancer_reasons
from ..screenings.models import KIND, NotScreenedReason, ScreeningVisit


@dataclass(frozen=True)
class DemoVisit:
    days_from_today: int
    city_code: str
    site: str
    start: time
    end: time
    interval: int
    per_slot: int
    two_cancer_per_slot: int | None
    fill: float  # share of seats to book


VISITS = [
    DemoVisit(-45, "nanchang", "南昌高新区航空城", time(8, 30), time(16, 30), 15, 6, 3, 0.7),
    DemoVisit(-20, "jiujiang", "九江经开区城西港区", time(8, 30), time(12, 0), 15, 6, 2, 0.8),
    DemoVisit(-8, "ganzhou", "赣州经开区新能源汽车科技城", time(9, 0), time(16, 0), 20, 5, None, 0.6),
    DemoVisit(0, "nanchang", "南昌小蓝经开区", time(8, 0), time(18, 0), 30, 6, 3, 0.5),
    DemoVisit(3, "shangrao", "上饶经开区光伏产业园", time(8, 30), time(12, 0), 15, 4, 2, 0.75),
    DemoVisit(10, "yichun", "宜春经开区锂电产业园", time(8, 30), time(16, 30), 15, 6, 3, 0.15),
    DemoVisit(17, "jian", "吉安井冈山经开区", time(9, 0), time(15, 0), 30, 8, None, 0.0),
]
REASONS = [NotScreenedReason.LEFT_EARLY, NotScreenedReason.NOT_SUITABLE_TODAY, NotScreenedReason.NO_ID]


def _title(visit: DemoVisit) -> str:
    return f"健康大篷车进{visit.site}"


def _organization(city_code: str) -> Organization | None:
    return get_by_code(f"jx-{city_code}-park") or get_by_code(f"jx-{city_code}")


def _book_some(event: Event, people: list[User], share: float, rng: random.Random) -> list[Registration]:
    """Book about ``share`` of the seats, women in the two-cancer age range asking for that package."""
    seats = sum(slot.capacity for slot in event.slots)
    wanted = int(seats * share)
    visit = visits.get_visit(event.id)
    made: list[Registration] = []
    for person in rng.sample(people, k=len(people)):
        if len(made) >= wanted:
            break
        open_slots = [slot for slot in event.slots if slot.available > 0 and not slot.closed]
        if not open_slots:
            break
        slot = rng.choice(open_slots)
        package = "general"
        if person.profile and person.profile.gender == Gender.FEMALE and not two_cancer_reasons(person, visit):
            package = "two_cancer" if rng.random() < 0.85 else "general"
        try:
            with db.session.begin_nested():
                made.append(
                    booking.book(
                        person, slot.id, consents=[HEALTH_SCREENING], options={"package": package}, actor=person
                    )
                )
        except DomainError:
            continue
    return made


def _plan(visit: DemoVisit, actor: User, day: date) -> Event | None:
    organization = _organization(visit.city_code)
    city = db.session.scalar(select(City).where(City.code == visit.city_code))
    if organization is None or city is None:
        return None
    data = visits.VisitData(
        title=_title(visit),
        organization=organization,
        city=city,
        site_name=visit.site,
        venue=f"{visit.site}职工服务中心广场",
        description=(
            "省总工会“健康大篷车”进园区：常规体检面向全体职工，“两癌”筛查面向适龄女职工。请按预约时段到场，携带身份证。"
        ),
        day=day,
        start=visit.start,
        end=visit.end,
        interval_minutes=visit.interval,
        per_slot=visit.per_slot,
        two_cancer_per_slot=visit.two_cancer_per_slot,
        signup_opens_at=datetime.combine(day - timedelta(days=14), time(9)),
    )
    try:
        with db.session.begin_nested():
            return visits.plan_visit(actor, data)
    except DomainError:
        return None


def seed_demo() -> None:
    """Create the demo visits that do not exist yet, with bookings and (for past visits) attendance."""
    admin = db.session.scalar(select(User).where(User.role == Role.ADMIN).order_by(User.id).limit(1))
    if admin is None:
        return
    existing = set(
        db.session.scalars(
            select(Event.title).join(ScreeningVisit, ScreeningVisit.event_id == Event.id).where(Event.kind == KIND)
        )
    )
    people = list(
        db.session.scalars(
            select(User)
            .where(User.role == Role.EMPLOYEE, User.deleted_at.is_(None), User.is_active_account.is_(True))
            .order_by(User.id)
        )
    )
    people = [person for person in people if person.profile is not None]
    rng = random.Random(20260615)
    today = clock.today()
    real_now = clock.now()
    for visit in VISITS:
        if _title(visit) in existing:
            continue
        day = today + timedelta(days=visit.days_from_today)
        before = datetime.combine(day - timedelta(days=7), time(9))
        with clock.frozen_at(min(before, real_now) if visit.days_from_today <= 0 else real_now):
            event = _plan(visit, admin, day)
            if event is None:
                continue
            registrations = _book_some(event, people, visit.fill, rng) if people else []
        if visit.days_from_today > 0:
            _shape_upcoming(event, admin, rng)
        elif visit.days_from_today < 0:
            with clock.frozen_at(datetime.combine(day, time(17, 30))):
                _record_attendance(event, registrations, admin, rng)
        db.session.flush()


def _shape_upcoming(event: Event, admin: User, rng: random.Random) -> None:
    """One slot closed (the truck's lunch break), one made exactly full."""
    if len(event.slots) < 4:
        return
    lunch = event.slots[len(event.slots) // 2]
    if lunch.taken == 0:
        visits.resize(admin, lunch.id, lunch.capacity, closed=True)
    busiest = max(event.slots, key=lambda slot: slot.taken)
    if busiest.taken > 0 and busiest.id != lunch.id:
        visits.resize(admin, busiest.id, busiest.taken)


def _record_attendance(event: Event, registrations: list[Registration], admin: User, rng: random.Random) -> None:
    visit = visits.get_visit(event.id)
    for registration in registrations:
        roll = rng.random()
        try:
            with db.session.begin_nested():
                if roll < 0.82:
                    checkin.record_outcome(admin, visit, registration, checkin.ATTENDED)
                elif roll < 0.9:
                    reason = rng.choice(REASONS).value
                    checkin.record_outcome(admin, visit, registration, checkin.NOT_SCREENED, reason)
                else:
                    checkin.record_outcome(admin, visit, registration, checkin.NO_SHOW)
        except DomainError:
            continue

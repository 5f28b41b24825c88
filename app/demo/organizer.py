"""Demo data for the organizer console: a few general union events of the Nanchang city federation in every state
an organizer meets — a past walk with check-ins and no-shows, a volunteer call awaiting approval, a full
basketball match with a waitlist and roster tags, a draft copied as a template — all made through the console's
services, so the audit trail fills too. Idempotent (an event is recognised by its title), deterministic."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from .. import audit, clock
from ..accounts.models import Role, User
from ..booking import services as booking
from ..booking.models import Registration, Status
from ..errors import DomainError
from ..events.models import Allocation, Event, WaitlistPolicy
from ..events.services import EventData, SlotData
from ..extensions import db
from ..organizer import attendance, lifecycle, messaging, rosters, tags
from ..orgs.models import Organization
from ..orgs.services import get_by_code

ORG_CODE = "jx-nanchang"
DEMO_IP = "10.36.1.20"


@dataclass(frozen=True)
class DemoEvent:
    title: str
    venue: str
    days_from_today: int
    hour: int
    hours: int
    capacity: int
    allocation: Allocation
    waitlist: WaitlistPolicy
    signups: int
    description: str


EVENTS = [
    DemoEvent(
        "南昌市职工秋季健步走活动",
        "南昌市秋水广场",
        -10,
        8,
        3,
        60,
        Allocation.FIRST_COME,
        WaitlistPolicy.OFFER,
        42,
        "沿赣江步道健步走约 6 公里，沿途设补给点，完赛职工可领取纪念品。",
    ),
    DemoEvent(
        "职工书画摄影作品展志愿讲解员招募",
        "南昌市工人文化宫展厅",
        12,
        9,
        6,
        8,
        Allocation.APPROVAL,
        WaitlistPolicy.OFFER,
        12,
        "为全市职工书画摄影作品展招募志愿讲解员，报名后由市总工会审核，入选者参加一次讲解培训。",
    ),
    DemoEvent(
        "迎新春职工篮球友谊赛",
        "南昌市职工体育馆",
        20,
        14,
        3,
        16,
        Allocation.FIRST_COME,
        WaitlistPolicy.OFFER,
        20,
        "各单位职工混合组队，赛制为半场三对三，欢迎带上同事一起报名。",
    ),
]
TAGS = ["队长", "志愿者", "需停车位"]


def _organizer(org: Organization) -> User | None:
    staff = db.session.scalars(
        select(User).where(User.role == Role.ORGANIZER, User.organization_id == org.id).order_by(User.id)
    ).first()
    if staff is not None:
        return staff
    return db.session.scalars(select(User).where(User.role == Role.ADMIN).order_by(User.id)).first()


def _employees(rng: random.Random) -> list[User]:
    people = list(
        db.session.scalars(
            select(User)
            .where(User.role == Role.EMPLOYEE, User.deleted_at.is_(None), User.phone.isnot(None))
            .order_by(User.id)
        )
    )
    rng.shuffle(people)
    return [person for person in people if person.profile is not None]


def _data(spec: DemoEvent, org: Organization, start: datetime) -> EventData:
    assert org.city is not None
    return EventData(
        kind="general",
        title=spec.title,
        description=spec.description,
        city=org.city,
        organization=org,
        venue=spec.venue,
        starts_at=start,
        ends_at=start + timedelta(hours=spec.hours),
        signup_opens_at=start - timedelta(days=20),
        signup_closes_at=start - timedelta(days=1),
        cancel_deadline=start - timedelta(days=2),
        published=True,
        slots=[
            SlotData(
                starts_at=start,
                ends_at=start + timedelta(hours=spec.hours),
                capacity=spec.capacity,
                allocation=spec.allocation,
                waitlist_policy=spec.waitlist,
            )
        ],
    )


def seed_demo() -> None:
    """Create the console's demo events once; running it again adds nothing."""
    with audit.acting(ip=DEMO_IP):  # the demo's console actions are audited as from an organizer's desk
        org = get_by_code(ORG_CODE)
        if org is None:
            return
        actor = _organizer(org)
        if actor is None:
            return
        existing = set(db.session.scalars(select(Event.title).where(Event.organization_id == org.id)))
        rng = random.Random(20261129)
        people = _employees(rng)
        if not people:
            return
        today = clock.now().replace(minute=0, second=0)
        for spec in EVENTS:
            if spec.title in existing:
                continue
            start = (today + timedelta(days=spec.days_from_today)).replace(hour=spec.hour)
            event = lifecycle.save_new_event(actor, _data(spec, org, start))
            slot_id = event.slots[0].id
            registrations = []
            for person in people[: spec.signups]:
                try:
                    registrations.append(booking.book(person, slot_id, actor=person, enforce_window=False))
                except DomainError:
                    continue
            _play(spec, event, registrations, actor, rng)
        copy_title = EVENTS[0].title + "（副本）"
        if copy_title not in existing:
            source = db.session.scalar(select(Event).where(Event.title == EVENTS[0].title))
            if source is not None:
                lifecycle.duplicate_event(actor, source, shift_days=30)
        db.session.flush()


def _play(spec: DemoEvent, event: Event, registrations: list[Registration], actor: User, rng: random.Random) -> None:
    """What the organizer did with each demo event."""
    if spec.days_from_today < 0:
        with clock.frozen_at(event.starts_at + timedelta(minutes=20)):
            for index, registration in enumerate(registrations):
                if registration.status == Status.CONFIRMED and rng.random() < 0.85:
                    scan_id = f"demo-{event.id}-{index:04d}"
                    attendance.scan(actor, event, scan_id, ticket_code=registration.ticket_code)
        with clock.frozen_at(event.ends_at + timedelta(hours=1)):
            attendance.mark_no_shows(actor, event)
        return
    if spec.allocation == Allocation.APPROVAL:
        for index, registration in enumerate(registrations):
            if index < spec.capacity - 2:
                rosters.approve(actor, registration)
            elif index % 3 == 0:
                rosters.reject(actor, registration, "本次讲解员名额已满，欢迎参加下次活动")
        return
    seated = [r for r in registrations if r.status == Status.CONFIRMED]
    if seated:
        tags.add_tag(actor, seated[:2], TAGS[0])
        tags.add_tag(actor, seated[2:5], TAGS[1])
        tags.add_tag(actor, [rng.choice(seated)], TAGS[2])
        messaging.message(
            actor,
            event,
            seated,
            "比赛分组与集合时间",
            "请于比赛当天 13:30 前到体育馆一楼签到处报到，出示电子票签到后领取队服。",
            nonce=f"demo-{event.id}",
        )

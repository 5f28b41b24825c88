"""Test data builders. Each returns committed, persistent objects with believable defaults."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta
from typing import Any

from flask.testing import FlaskClient

from app import clock
from app.accounts import services as accounts
from app.accounts.models import Gender, Role, User
from app.events.models import Allocation, Event, Slot, WaitlistPolicy
from app.extensions import db
from app.orgs.models import City, EnterpriseType, Industry, Organization, OrgLevel
from app.orgs.services import create_organization, get_by_code

PASSWORD = "correct horse battery"
_phones = itertools.count(13800000001)
_codes = itertools.count(1)


def born_years_ago(years: int, on: date | None = None) -> date:
    """A birth date that makes someone ``years`` old on ``on`` (default: in 30 days), birthday well passed."""
    on = on or (clock.today() + timedelta(days=30))
    return date(on.year - years, 1, 1) if (on.month, on.day) > (1, 1) else date(on.year - years - 1, 1, 2)


def next_phone() -> str:
    return str(next(_phones))


def city(code: str = "nanchang") -> City:
    found = db.session.scalar(db.select(City).where(City.code == code))
    assert found is not None, code
    return found


def industry(code: str) -> Industry:
    found = db.session.scalar(db.select(Industry).where(Industry.code == code))
    assert found is not None, code
    return found


def org(code: str = "jx-nanchang") -> Organization:
    found = get_by_code(code)
    assert found is not None, code
    return found


def make_org(parent_code: str = "jx-nanchang", level: OrgLevel = OrgLevel.ENTERPRISE, **kwargs: Any) -> Organization:
    n = next(_codes)
    created = create_organization(
        code=kwargs.pop("code", f"test-org-{n}"),
        name=kwargs.pop("name", f"测试企业工会{n}"),
        level=level,
        parent=org(parent_code),
        enterprise_type=kwargs.pop("enterprise_type", EnterpriseType.NON_PUBLIC),
    )
    db.session.commit()
    return created


def make_employee(
    *,
    gender: Gender | str = Gender.FEMALE,
    birth_date: date | None = None,
    age: int | None = 30,
    city_code: str = "nanchang",
    enterprise_type: EnterpriseType = EnterpriseType.NON_PUBLIC,
    industry_code: str | None = "chain-electronics",
    frontline: bool = True,
    organization: Organization | None = None,
    name: str | None = None,
    email: str | None = None,
    phone: str | None = None,
    password: str | None = PASSWORD,
    commit: bool = True,
) -> User:
    if birth_date is None:
        birth_date = born_years_ago(age or 30)
    user = accounts.register_employee(
        phone=phone or next_phone(),
        password=password,
        name=name or "测试职工",
        email=email,
        organization=organization,
        profile=accounts.ProfileData(
            gender=Gender(gender),
            birth_date=birth_date,
            city=city(city_code),
            employer="南昌测试电子有限公司",
            enterprise_type=enterprise_type,
            industry=industry(industry_code) if industry_code else None,
            frontline=frontline,
            member_no=None,
        ),
    )
    if commit:
        db.session.commit()
    return user


def make_staff(role: Role, org_code: str = "jx-nanchang", name: str = "组织者") -> User:
    user = accounts.create_staff(
        phone=next_phone(), password=PASSWORD, name=name, role=role, organization=org(org_code)
    )
    db.session.commit()
    return user


def make_organizer(org_code: str = "jx-nanchang") -> User:
    return make_staff(Role.ORGANIZER, org_code, "南昌组织者")


def make_admin() -> User:
    return make_staff(Role.ADMIN, "jx", "省总管理员")


# Check-in is accepted from CHECKIN_OPENS_HOURS_BEFORE (3) hours before the start to the end (booking.window):
# events that people are checked in at start this soon, with their sign-up still open for another hour.
STARTS_SOON = timedelta(hours=2)


def make_event(
    *,
    kind: str = "general",
    title: str = "职工羽毛球联谊赛",
    capacity: int = 10,
    slots: int = 1,
    quota_female: int | None = None,
    quota_male: int | None = None,
    waitlist: WaitlistPolicy = WaitlistPolicy.OFFER,
    allocation: Allocation = Allocation.FIRST_COME,
    starts_in: timedelta = timedelta(days=7),
    duration: timedelta = timedelta(hours=3),
    signup_open: bool = True,
    organization: Organization | None = None,
    published: bool = True,
    commit: bool = True,
    **fields: Any,
) -> Event:
    now = clock.now()
    starts = now.replace(second=0) + starts_in
    event = Event(
        kind=kind,
        title=title,
        description=fields.pop("description", "测试活动"),
        organization=organization or org("jx-nanchang"),
        city=fields.pop("city", None) or city("nanchang"),
        venue=fields.pop("venue", "南昌市职工活动中心"),
        starts_at=starts,
        ends_at=starts + duration,
        signup_opens_at=now - timedelta(days=1) if signup_open else now + timedelta(days=1),
        signup_closes_at=fields.pop("signup_closes_at", starts - timedelta(hours=1)),
        published=published,
        **fields,
    )
    for index in range(slots):
        slot_start = starts + index * duration
        event.slots.append(
            Slot(
                label=f"第{index + 1}场" if slots > 1 else "",
                starts_at=slot_start,
                ends_at=slot_start + duration,
                capacity=capacity,
                quota_female=quota_female,
                quota_male=quota_male,
                waitlist_policy=waitlist,
                allocation=allocation,
            )
        )
    db.session.add(event)
    if commit:
        db.session.commit()
    return event


def login(client: FlaskClient, user: User, password: str = PASSWORD) -> None:
    response = client.post("/account/login", data={"phone": user.phone, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]


def api_token(user: User) -> str:
    token = accounts.issue_api_token(user)
    db.session.commit()
    return token


def at(moment: datetime) -> None:
    clock.set_now(moment)

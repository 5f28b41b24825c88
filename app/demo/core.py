"""Core demo data: the union tree below the cities, staff logins, ~200 employees, and general events in every
state (open, nearly full, full with a waitlist, past). Deterministic and idempotent."""

from __future__ import annotations

import random
from datetime import date, timedelta

import click
from sqlalchemy import func, select

from .. import clock
from ..accounts import services as accounts
from ..accounts.models import Gender, Profile, Role, User
from ..booking import checkin as booking_checkin
from ..booking import queries as booking_queries
from ..booking import services as booking
from ..events.models import Event, Slot, WaitlistPolicy
from ..extensions import db
from ..orgs.models import City, EnterpriseType, Industry, OrgLevel
from ..orgs.reference import CITIES, city_org_code
from ..orgs.services import create_organization, get_by_code

DEMO_PASSWORD = "zhijia-demo-2026"  # noqa: S105 - published in the README for the demo only
ADMIN_PHONE = "13900000000"
ORGANIZER_PHONE_PREFIX = "139000000"  # + two digits, one per city in CITIES order (01..12)
EMPLOYEE_PHONE_BASE = 13700000000
EMPLOYEE_COUNT = 200

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程魏苏吕丁任沈姚卢钟"
GIVEN = [
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀英",
    "霞",
    "平",
    "刚",
    "桂英",
    "文",
    "华",
    "红",
    "建华",
    "晓燕",
    "志强",
    "海燕",
    "春梅",
    "子涵",
    "雨婷",
    "浩然",
    "欣怡",
]
PARKS = {
    "nanchang": "南昌高新区",
    "jiujiang": "九江经开区",
    "ganzhou": "赣州经开区",
    "shangrao": "上饶经开区",
    "yichun": "宜春经开区",
    "jian": "吉安井开区",
    "xinyu": "新余高新区",
    "yingtan": "鹰潭高新区",
    "pingxiang": "萍乡经开区",
    "fuzhou": "抚州高新区",
    "jingdezhen": "景德镇高新区",
    "ganjiang": "赣江新区直管区",
}
EMPLOYERS = [
    ("江铃汽车", EnterpriseType.STATE_OWNED, "chain-equipment"),
    ("晶科能源", EnterpriseType.NON_PUBLIC, "cluster-lithium-pv"),
    ("江西铜业", EnterpriseType.STATE_OWNED, "cluster-copper"),
    ("赣锋锂业", EnterpriseType.NON_PUBLIC, "chain-new-energy"),
    ("洪都航空", EnterpriseType.STATE_OWNED, "chain-aviation"),
    ("欧菲光科技", EnterpriseType.NON_PUBLIC, "chain-electronics"),
    ("仁和药业", EnterpriseType.NON_PUBLIC, "chain-pharma"),
    ("市人民医院", EnterpriseType.PUBLIC_INSTITUTION, None),
    ("同城快递站", EnterpriseType.NEW_EMPLOYMENT, None),
    ("网约车平台", EnterpriseType.NEW_EMPLOYMENT, None),
    ("新钢集团", EnterpriseType.STATE_OWNED, "chain-steel"),
    ("南康家具城", EnterpriseType.NON_PUBLIC, "chain-furniture"),
]


def _org_tree() -> None:
    for code, name, _name_en, _prefecture in CITIES:
        parent = get_by_code(city_org_code(code))
        if parent is None or get_by_code(f"{city_org_code(code)}-park") is not None:
            continue
        park = create_organization(
            code=f"{city_org_code(code)}-park", name=f"{PARKS[code]}工会", level=OrgLevel.PARK, parent=parent
        )
        for index, (employer, etype, _industry) in enumerate(EMPLOYERS[:3]):
            create_organization(
                code=f"{city_org_code(code)}-e{index + 1}",
                name=f"{name}{employer}工会",
                level=OrgLevel.ENTERPRISE,
                parent=park,
                enterprise_type=etype,
            )


def _staff(password_hash: str) -> None:
    if accounts.find_by_phone(ADMIN_PHONE) is None:
        db.session.add(
            User(
                phone=ADMIN_PHONE,
                name="省总工会管理员",
                role=Role.ADMIN,
                organization=get_by_code("jx"),
                password_hash=password_hash,
            )
        )
    for index, (code, name, _en, _p) in enumerate(CITIES, start=1):
        phone = f"{ORGANIZER_PHONE_PREFIX}{index:02d}"
        if accounts.find_by_phone(phone) is None:
            db.session.add(
                User(
                    phone=phone,
                    name=f"{name}工会组织者",
                    role=Role.ORGANIZER,
                    organization=get_by_code(city_org_code(code)),
                    password_hash=password_hash,
                )
            )
    db.session.flush()


def _employees(password_hash: str, rng: random.Random) -> list[User]:
    cities = {c.code: c for c in db.session.scalars(select(City))}
    industries = {i.code: i for i in db.session.scalars(select(Industry))}
    existing = set(db.session.scalars(select(User.phone).where(User.phone.like("1370000%"))))
    today = clock.today()
    with click.progressbar(range(EMPLOYEE_COUNT), label="  employees") as bar:
        for n in bar:
            phone = str(EMPLOYEE_PHONE_BASE + n)
            if phone in existing:
                continue
            city_code = CITIES[n % len(CITIES)][0]
            employer, etype, industry_code = EMPLOYERS[rng.randrange(len(EMPLOYERS))]
            gender = Gender.FEMALE if n % 2 == 0 else Gender.MALE
            age = rng.randint(22, 58)
            user = User(
                phone=phone,
                name=rng.choice(SURNAMES) + rng.choice(GIVEN),
                role=Role.EMPLOYEE,
                password_hash=password_hash,
                email=f"demo{n}@example.com" if n % 3 == 0 else None,
                organization=get_by_code(f"{city_org_code(city_code)}-e{n % 3 + 1}"),
            )
            user.profile = Profile(
                gender=gender,
                birth_date=date(today.year - age, rng.randint(1, 12), rng.randint(1, 28)),
                city_id=cities[city_code].id,
                employer=f"{cities[city_code].name}{employer}",
                enterprise_type=etype,
                industry_id=industries[industry_code].id if industry_code else None,
                frontline=rng.random() < 0.7,
                member_no=f"JX{n:06d}",
                model_worker=n % 25 == 0,
            )
            db.session.add(user)
    db.session.flush()
    return list(db.session.scalars(select(User).where(User.phone.like("1370000%")).order_by(User.phone)))


GENERAL_EVENTS = [
    # title, city, days from now, capacity, bookings to make
    ("“天工杯”职工技能竞赛观摩日", "nanchang", 10, 40, 12),
    ("职工羽毛球友谊赛", "jiujiang", 5, 8, 7),
    ("劳模工匠进园区宣讲会", "ganzhou", 3, 6, 9),
    ("职工书法摄影作品展开幕式", "jingdezhen", -20, 30, 18),
]


def _general_events(employees: list[User]) -> None:
    if db.session.scalar(select(func.count()).select_from(Event).where(Event.kind == "general")):
        return
    today_at = clock.now().replace(hour=14, minute=0, second=0, microsecond=0)
    admin = accounts.find_by_phone(ADMIN_PHONE)
    for title, city_code, days, capacity, bookings in GENERAL_EVENTS:
        city = db.session.scalar(select(City).where(City.code == city_code))
        assert city is not None
        starts = today_at + timedelta(days=days)
        past = days < 0
        event = Event(
            kind="general",
            title=title,
            description="由市总工会主办，欢迎广大职工报名参加。",
            organization=get_by_code(city_org_code(city_code)),
            city=city,
            venue=f"{city.name}市职工文化活动中心",
            starts_at=starts,
            ends_at=starts + timedelta(hours=3),
            signup_opens_at=starts - timedelta(days=30),
            signup_closes_at=starts - timedelta(hours=2),
            cancel_deadline=starts - timedelta(days=1),
            published=True,
        )
        event.slots.append(
            Slot(
                starts_at=starts,
                ends_at=starts + timedelta(hours=3),
                capacity=capacity,
                waitlist_policy=WaitlistPolicy.OFFER,
            )
        )
        db.session.add(event)
        db.session.flush()
        for person in employees[:bookings]:
            booking.book(person, event.slots[0].id, enforce_window=not past, actor=admin)
        if past:
            for registration in booking_queries.my_registrations(employees[0]):
                if registration.event_id == event.id:
                    booking_checkin.check_in(registration, actor=admin)  # type: ignore[arg-type]


def has_demo_employees() -> bool:
    """Whether the ordinary demo's employees (and so its bookings) are in this database."""
    first, last = str(EMPLOYEE_PHONE_BASE), str(EMPLOYEE_PHONE_BASE + EMPLOYEE_COUNT)
    return bool(db.session.scalar(select(func.count()).select_from(User).where(User.phone.between(first, last))))


def seed_staff() -> None:
    """The union tree below the cities and the staff logins (admin, one organizer per city), nothing booked: what
    ``flask demo seed --scale province`` needs to read its dashboard."""
    _org_tree()
    _staff(accounts.hash_password(DEMO_PASSWORD))
    db.session.flush()


def seed_demo() -> None:
    rng = random.Random(20261129)
    password_hash = accounts.hash_password(DEMO_PASSWORD)
    _org_tree()
    _staff(password_hash)
    employees = _employees(password_hash, rng)
    _general_events(employees)
    db.session.flush()

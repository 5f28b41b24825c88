"""Demo data for recuperation trips: red, green and heritage routes across the province, each with a past
departure (drawn, travelled, attendance recorded), and open, drawn and first-come departures. Idempotent (a route
is recognised by its title; departures are only added to a new route) and deterministic (a fixed random seed)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from .. import clock
from ..accounts.models import Role, User
from ..booking import checkin as booking_checkin
from ..booking import services as booking
from ..booking.models import Registration, Status
from ..errors import DomainError
from ..events.models import Allocation
from ..extensions import db
from ..orgs.models import City, Organization
from ..orgs.services import get_by_code
from ..trips import catalogue, lottery_draw, targets
from ..trips.models import Theme, TripAttendance, TripDeparture, TripRoute

Day = dict[str, Any]

ROUTES: list[tuple[Theme, str, str, str, str, list[Day]]] = [
    (
        Theme.RED,
        "井冈山红色教育之旅",
        "jian",
        "jx",
        "重走红军路，感悟井冈山精神",
        [
            {"places": ["茨坪", "井冈山革命博物馆"], "text": "参观井冈山革命博物馆，在北山烈士陵园重温入党誓词。"},
            {"places": ["黄洋界", "八角楼"], "text": "登黄洋界保卫战旧址，参观八角楼毛泽东同志旧居。"},
            {"places": ["龙潭", "挑粮小道"], "text": "走一段挑粮小道，游览龙潭瀑布群，座谈交流后返程。"},
        ],
    ),
    (
        Theme.RED,
        "瑞金红色故都研学",
        "ganzhou",
        "jx-ganzhou",
        "共和国摇篮里的初心课",
        [
            {"places": ["叶坪", "红井"], "text": "参观叶坪革命旧址群和红井，听“吃水不忘挖井人”的故事。"},
            {"places": ["沙洲坝", "中华苏维埃纪念园"], "text": "参观中央革命根据地历史博物馆，现场教学。"},
        ],
    ),
    (
        Theme.RED,
        "八一起义纪念馆与小平小道",
        "nanchang",
        "jx-nanchang",
        "英雄城里的红色记忆",
        [
            {"places": ["八一起义纪念馆", "八一广场"], "text": "参观南昌八一起义纪念馆，瞻仰八一南昌起义纪念塔。"},
            {"places": ["新建区", "小平小道陈列馆"], "text": "走小平小道，参观陈列馆，职工劳模代表分享。"},
        ],
    ),
    (
        Theme.GREEN,
        "庐山生态康养休养",
        "jiujiang",
        "jx-jiujiang",
        "匡庐奇秀甲天下，清凉一夏好休养",
        [
            {"places": ["牯岭镇", "如琴湖"], "text": "抵达牯岭，漫步如琴湖、花径，晚间健康讲座。"},
            {"places": ["三叠泉", "五老峰"], "text": "徒步三叠泉，量力而行，配随队医生。"},
            {"places": ["庐山会议旧址", "美庐"], "text": "参观庐山会议旧址与美庐别墅，返程。"},
        ],
    ),
    (
        Theme.GREEN,
        "三清山云海休养",
        "shangrao",
        "jx-shangrao",
        "道教名山，云海奇峰",
        [
            {"places": ["南清园", "巨蟒出山"], "text": "乘索道上山，游览南清园景区。"},
            {"places": ["西海岸栈道", "阳光海岸"], "text": "沿高空栈道观云海，下午自由休整。"},
        ],
    ),
    (
        Theme.GREEN,
        "武功山高山草甸徒步",
        "pingxiang",
        "jx-pingxiang",
        "十万亩高山草甸上的职工健步行",
        [
            {"places": ["龙山村", "金顶"], "text": "乘索道至金顶，观高山草甸，工间操与拉伸指导。"},
            {"places": ["沈子村", "萍乡安源"], "text": "参观安源路矿工人运动纪念馆后返程。"},
        ],
    ),
    (
        Theme.HERITAGE,
        "景德镇陶瓷文化之旅",
        "jingdezhen",
        "jx-jingdezhen",
        "千年瓷都，匠心传承",
        [
            {"places": ["御窑厂", "陶阳里"], "text": "参观御窑博物馆与陶阳里历史街区。"},
            {"places": ["古窑民俗博览区", "陶溪川"], "text": "体验拉坯、利坯，与大国工匠面对面。"},
        ],
    ),
    (
        Theme.HERITAGE,
        "婺源古村油菜花",
        "shangrao",
        "jx-shangrao",
        "中国最美乡村的徽派古韵",
        [
            {"places": ["江岭", "篁岭"], "text": "观梯田花海，参观篁岭晒秋民俗。"},
            {"places": ["李坑", "汪口"], "text": "游徽派古村落，了解非遗木雕技艺。"},
        ],
    ),
]


def _admin() -> User | None:
    return db.session.scalar(select(User).where(User.role == Role.ADMIN).order_by(User.id).limit(1))


def _employees() -> list[User]:
    return list(db.session.scalars(select(User).where(User.role == Role.EMPLOYEE).order_by(User.id)))


def _apply(people: list[User], departure: TripDeparture, rng: random.Random, count: int) -> None:
    slot_id = departure.event.slots[0].id
    for person in rng.sample(people, min(count, len(people))):
        if booking.eligibility_reasons(person, departure.event):
            continue
        try:
            with db.session.begin_nested():
                booking.book(person, slot_id)
        except DomainError:
            continue


def _departure(
    admin: User, route: TripRoute, starts: datetime, opens: datetime, closes: datetime, seats: int, lottery: bool
) -> TripDeparture:
    return catalogue.create_departure(
        admin,
        route,
        catalogue.DepartureData(
            starts_on=starts.date(),
            seats=seats,
            signup_opens_at=opens,
            signup_closes_at=closes,
            allocation=Allocation.LOTTERY if lottery else Allocation.FIRST_COME,
            venue=f"{route.city.name}市职工服务中心集合",
        ),
    )


def _draw(admin: User, departure: TripDeparture, rng: random.Random) -> None:
    closes = departure.event.signup_closes_at
    with clock.frozen_at(closes + timedelta(hours=1)):
        lottery_draw.freeze(departure)
    with clock.frozen_at(closes + timedelta(days=1)):
        value = f"{rng.randrange(1000):03d}"
        lottery_draw.set_public_value(admin, departure.event_id, value, "福彩3D当期开奖号码")
        lottery_draw.draw_lottery(departure.event_id, clock.now(), admin)


def _travel(admin: User, departure: TripDeparture, rng: random.Random) -> None:
    """The trip happened: details were given, most people checked in, the rest marked as no-shows."""
    confirmed = db.session.scalars(
        select(Registration).where(Registration.event_id == departure.event_id, Registration.status == Status.CONFIRMED)
    ).all()
    for registration in confirmed:
        db.session.add(
            TripAttendance(
                registration_id=registration.id,
                emergency_name="家属",
                emergency_phone=f"139{rng.randrange(10**8):08d}",
            )
        )
    with clock.frozen_at(departure.event.starts_at + timedelta(hours=1)):
        for registration in confirmed:
            if rng.random() < 0.9:
                booking_checkin.check_in(registration, actor=admin)
        booking_checkin.mark_no_shows(departure.event, actor=admin)


def seed_demo() -> None:
    admin = _admin()
    people = _employees()
    if admin is None or not people:
        return
    rng = random.Random(20260606)
    today = clock.now().replace(hour=9, minute=0, second=0, microsecond=0)
    for index, (theme, title, city_code, org_code, summary, days) in enumerate(ROUTES):
        if db.session.scalar(select(TripRoute.id).where(TripRoute.title == title)) is not None:
            continue
        city = db.session.scalar(select(City).where(City.code == city_code))
        organization: Organization | None = get_by_code(org_code) or get_by_code("jx")
        if city is None or organization is None:
            continue
        route = catalogue.create_route(
            admin,
            catalogue.RouteData(
                theme=theme,
                title=title,
                organization=organization,
                city=city,
                summary=summary,
                cover_text=f"{summary}。面向一线职工，每人每年限参加一次，往返交通、食宿和保险由工会统一安排。",
                itinerary=days,
            ),
        )
        # A past departure: drawn, travelled.
        past = today - timedelta(days=50 + 9 * index)
        dep = _departure(admin, route, past, past - timedelta(days=40), past - timedelta(days=20), 6, True)
        with clock.frozen_at(past - timedelta(days=30)):
            _apply(people, dep, rng, 14)
        _draw(admin, dep, rng)
        _travel(admin, dep, rng)
        if index % 2 == 0:
            # Drawn, departing soon: winners confirming their details, the rest on the waitlist.
            soon = today + timedelta(days=12 + index)
            dep = _departure(admin, route, soon, today - timedelta(days=20), today - timedelta(days=2), 5, True)
            with clock.frozen_at(today - timedelta(days=10)):
                _apply(people, dep, rng, 12)
            _draw(admin, dep, rng)
        # Open for applications, drawn at window close.
        later = today + timedelta(days=35 + 6 * index)
        dep = _departure(admin, route, later, today - timedelta(days=5), today + timedelta(days=10), 8, True)
        _apply(people, dep, rng, 4 + index)
        if index % 3 == 1:
            # First come, first served.
            other = today + timedelta(days=50 + 5 * index)
            dep = _departure(admin, route, other, today - timedelta(days=3), today + timedelta(days=20), 20, False)
            _apply(people, dep, rng, 6)
    province = get_by_code("jx")
    if province is not None:
        targets.save_target(today.year, province, targets.DEFAULT_PROVINCE_TARGET)
    db.session.flush()

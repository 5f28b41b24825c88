"""Builders for trip tests: routes, departures (through the services), applicants."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from app import clock
from app.accounts.models import User
from app.booking import services as booking
from app.booking.models import Registration
from app.events.models import Allocation
from app.extensions import db
from app.trips import catalogue, lottery_draw
from app.trips.models import Theme, TripDeparture, TripRoute

from .. import factories

ITINERARY = [
    {"places": ["井冈山", "茨坪"], "text": "参观井冈山革命博物馆，重温入党誓词。"},
    {"places": ["黄洋界", "八角楼"], "text": "瞻仰黄洋界保卫战旧址。"},
    {"places": ["龙潭"], "text": "游览龙潭瀑布群，返程。"},
]


def admin() -> User:
    found = db.session.scalar(db.select(User).where(User.name == "省总管理员"))
    return found or factories.make_admin()


def make_route(
    theme: Theme = Theme.RED, title: str = "井冈山红色教育之旅", org_code: str = "jx", city_code: str = "jian"
) -> TripRoute:
    route = catalogue.create_route(
        admin(),
        catalogue.RouteData(
            theme=theme,
            title=title,
            organization=factories.org(org_code),
            city=factories.city(city_code),
            summary="重走红军路，感悟井冈山精神",
            itinerary=ITINERARY,
        ),
    )
    db.session.commit()
    return route


def make_departure(
    route: TripRoute | None = None,
    *,
    seats: int = 2,
    allocation: Allocation = Allocation.LOTTERY,
    starts_on: date | None = None,
    closes_in: timedelta = timedelta(days=1),
    **kwargs: object,
) -> TripDeparture:
    route = route or make_route()
    now = clock.now()
    departure = catalogue.create_departure(
        admin(),
        route,
        catalogue.DepartureData(
            starts_on=starts_on or (now + timedelta(days=30)).date(),
            seats=seats,
            signup_opens_at=now - timedelta(days=2),
            signup_closes_at=now + closes_in,
            allocation=allocation,
            **kwargs,  # type: ignore[arg-type]
        ),
    )
    db.session.commit()
    return departure


def slot_id(departure: TripDeparture) -> int:
    return departure.event.slots[0].id


def apply(user: User, departure: TripDeparture) -> Registration:
    registration = booking.book(user, slot_id(departure))
    db.session.commit()
    return registration


def close_window(departure: TripDeparture) -> datetime:
    """Freeze the clock just after the departure's application window closed."""
    moment = departure.event.signup_closes_at + timedelta(minutes=1)
    clock.set_now(moment)
    return moment


def set_value(departure: TripDeparture, value: str = "20261129-3D-527") -> None:
    lottery_draw.set_public_value(admin(), departure.event_id, value, "福彩3D开奖号码")
    db.session.commit()

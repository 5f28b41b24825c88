"""The trip catalogue: themed routes and their departures (团期) — publishing them, the public list and route
pages, and finding a departure (public, or in an organizer's subtree)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from .. import clock
from ..accounts.models import User
from ..accounts.scope import require_manages, scope_condition
from ..errors import InvalidInput, NotFound
from ..events import services as events
from ..events.models import Allocation, Event, Slot, WaitlistPolicy
from ..extensions import db
from ..orgs.models import City, Organization
from .models import DEFAULT_TIERS, TIER_RULES, Theme, TripDeparture, TripRoute
from .policy import KIND

THEME_LABELS = {Theme.RED: "红色", Theme.GREEN: "绿色", Theme.HERITAGE: "古色"}


def theme_label(theme: Theme | str) -> str:
    return _(THEME_LABELS[Theme(theme)])


@dataclass
class RouteData:
    theme: Theme
    title: str
    organization: Organization
    city: City
    summary: str = ""
    cover_text: str = ""
    itinerary: list[dict[str, Any]] = field(default_factory=list)
    frontline_only: bool = True
    subtree_only: bool = False
    industry_ids: list[int] | None = None


def _clean_itinerary(days: list[dict[str, Any]]) -> list[dict[str, Any]]:
    cleaned = []
    for number, day in enumerate(days, start=1):
        places = [str(p).strip()[:40] for p in day.get("places", []) if str(p).strip()]
        cleaned.append({"day": number, "places": places[:10], "text": str(day.get("text", "")).strip()[:500]})
    return cleaned


def create_route(actor: User, data: RouteData) -> TripRoute:
    """An organizer publishes a route for an organization in their subtree: a theme, a title (1–120
    characters) and an itinerary of 1–15 days."""
    require_manages(actor, data.organization)
    errors: dict[str, list[str]] = {}
    if not data.title.strip() or len(data.title) > 120:
        errors["title"] = [_("标题不能为空，且不超过 120 个字符。")]
    if not 1 <= len(data.itinerary) <= 15:
        errors["itinerary"] = [_("行程需为 1 到 15 天。")]
    if errors:
        raise InvalidInput(_("请检查填写的内容。"), fields=errors)
    route = TripRoute(
        theme=Theme(data.theme),
        title=data.title.strip(),
        summary=data.summary.strip()[:300],
        cover_text=data.cover_text,
        itinerary=_clean_itinerary(data.itinerary),
        organization=data.organization,
        city=data.city,
        frontline_only=data.frontline_only,
        subtree_only=data.subtree_only,
        industry_ids=data.industry_ids,
    )
    db.session.add(route)
    db.session.flush()
    return route


@dataclass
class DepartureData:
    starts_on: date
    seats: int
    signup_opens_at: datetime
    signup_closes_at: datetime
    allocation: Allocation = Allocation.LOTTERY
    venue: str = ""
    tiers: list[str] = field(default_factory=lambda: list(DEFAULT_TIERS))
    never_been_first: bool = True
    details_hours: int = 72
    offer_hours: int = 48
    published: bool = True


def create_departure(actor: User, route: TripRoute, data: DepartureData) -> TripDeparture:
    """A departure (团期) is one trip Event with exactly one Slot whose window is the event's sign-up window.
    Allocation is first-come or lottery; eligibility comes from the route; tiers are known rules."""
    if data.allocation not in (Allocation.FIRST_COME, Allocation.LOTTERY):
        raise InvalidInput(_("分配方式只能是先到先得或截止后抽签。"), fields={"allocation": [_("分配方式无效。")]})
    unknown = [t for t in data.tiers if t not in TIER_RULES]
    if unknown or not data.tiers:
        raise InvalidInput(_("优先档次设置无效。"), fields={"tiers": [_("优先档次设置无效。")]})
    if not 1 <= data.details_hours <= 24 * 30:
        raise InvalidInput(_("确认出行信息时限需在 1 小时到 30 天之间。"), fields={"details_hours": [_("时限无效。")]})
    days = max(route.days, 1)
    starts = datetime.combine(data.starts_on, datetime.min.time()).replace(hour=8)
    # The trip's last day too; checked before any date sum is made from the departure date (the first check
    # keeps the second from overflowing).
    problem = events.date_problem(starts) or events.date_problem(starts + timedelta(days=days))
    if problem:
        raise InvalidInput(problem, fields={"starts_on": [problem]})
    if data.signup_closes_at > starts:
        message = _("报名截止时间须早于出发时间。")
        raise InvalidInput(message, fields={"signup_closes_at": [message]})
    ends = starts + timedelta(days=days - 1, hours=10)
    event = events.create_event(
        actor,
        events.EventData(
            kind=KIND,
            title=_("%(route)s（%(d)s团）", route=route.title, d=data.starts_on.strftime("%m月%d日")),
            city=route.city,
            organization=route.organization,
            starts_at=starts,
            ends_at=ends,
            signup_opens_at=data.signup_opens_at,
            signup_closes_at=data.signup_closes_at,
            description=route.summary,
            venue=data.venue,
            cancel_deadline=starts - timedelta(days=3),
            frontline_only=route.frontline_only,
            subtree_only=route.subtree_only,
            industry_ids=route.industry_ids,
            published=data.published,
            slots=[
                events.SlotData(
                    starts_at=starts,
                    ends_at=ends,
                    capacity=data.seats,
                    allocation=data.allocation,
                    waitlist_policy=WaitlistPolicy.OFFER,
                    offer_hours=data.offer_hours,
                    signup_opens_at=data.signup_opens_at,
                    signup_closes_at=data.signup_closes_at,
                )
            ],
        ),
    )
    departure = TripDeparture(
        event=event,
        route=route,
        tiers=list(data.tiers),
        never_been_first=data.never_been_first,
        details_hours=data.details_hours,
    )
    db.session.add(departure)
    db.session.flush()
    return departure


@dataclass
class RouteCard:
    route: TripRoute
    departures: list[Event]  # not started (or, on a route page, not ended), soonest first
    past: list[Event] = field(default_factory=list)  # started or ended: shown folded, never offered

    @property
    def cover(self) -> tuple[str, str] | None:
        """The picture the route shows (stored name, description): its own cover, else the cover of its soonest
        listed departure that has one, else none."""
        if self.route.cover_image:
            return self.route.cover_image, self.route.cover_alt
        for event in self.departures:
            if event.cover_image:
                return event.cover_image, event.cover_alt
        return None


def month_bounds(month: str | None) -> tuple[datetime, datetime] | None:
    """ "2026-05" → the first moment of May and of June; anything else → None."""
    if not month or not re.fullmatch(r"\d{4}-\d{2}", month):
        return None
    year, number = int(month[:4]), int(month[5:])
    if not 1 <= number <= 12 or not 2000 <= year <= 2100:
        return None
    start = datetime(year, number, 1)
    end = datetime(year + (number == 12), number % 12 + 1, 1)
    return start, end


def list_routes(theme: str | None = None, month: str | None = None) -> list[RouteCard]:
    """Published routes with their published, not cancelled, not yet ended departures (soonest first);
    filtered by theme, and by month (then only routes with a departure starting that month)."""
    query = select(TripRoute).where(TripRoute.published.is_(True)).order_by(TripRoute.theme, TripRoute.id)
    if theme in {t.value for t in Theme}:
        query = query.where(TripRoute.theme == theme)
    routes = list(db.session.scalars(query).unique())
    dep_query = (
        select(Event, TripDeparture.route_id)
        .join(TripDeparture, TripDeparture.event_id == Event.id)
        .where(Event.published.is_(True), Event.cancelled_at.is_(None), Event.ends_at >= clock.now())
        .order_by(Event.starts_at, Event.id)
    )
    bounds = month_bounds(month)
    if bounds:
        dep_query = dep_query.where(Event.starts_at >= bounds[0], Event.starts_at < bounds[1])
    by_route: dict[int, list[Event]] = {}
    for event, route_id in db.session.execute(dep_query).unique():
        by_route.setdefault(route_id, []).append(event)
    cards = [RouteCard(route, by_route.get(route.id, [])) for route in routes]
    if bounds:
        cards = [card for card in cards if card.departures]
    return cards


def get_route(route_id: int) -> RouteCard:
    """A published route with its published departures: those not started yet first, soonest first (cancelled
    ones among them keep their notice), then those that started or ended, latest first, apart (issue 21, item 6)."""
    route = db.session.get(TripRoute, route_id)
    if route is None or not route.published:
        raise NotFound()
    departures = db.session.scalars(
        select(Event)
        .join(TripDeparture, TripDeparture.event_id == Event.id)
        .where(TripDeparture.route_id == route.id, Event.published.is_(True))
        .order_by(Event.starts_at, Event.id)
    ).unique()
    now = clock.now()
    coming: list[Event] = []
    past: list[Event] = []
    for event in departures:
        (coming if event.starts_at > now else past).append(event)
    return RouteCard(route, coming, list(reversed(past)))


def managed_route(actor: User, route_id: int) -> TripRoute:
    """A route (published or not) of an organization the organizer manages; outside their subtree it does not
    exist (404), so ids cannot be probed."""
    route = db.session.get(TripRoute, route_id)
    if route is None:
        raise NotFound()
    require_manages(actor, route.organization)
    return route


def get_departure(event_id: int) -> TripDeparture:
    departure = db.session.get(TripDeparture, event_id)
    if departure is None:
        raise NotFound()
    return departure


def get_public_departure(event_id: int) -> TripDeparture:
    departure = get_departure(event_id)
    if not departure.event.published:
        raise NotFound()
    return departure


def get_managed_departure(actor: User, event_id: int) -> TripDeparture:
    """A departure the organizer manages; outside their subtree it does not exist (404)."""
    departure = get_departure(event_id)
    require_manages(actor, departure.event.organization)
    return departure


def slot_of(departure: TripDeparture) -> Slot:
    return departure.event.slots[0]


def managed_departures(actor: User) -> list[TripDeparture]:
    return list(
        db.session.scalars(
            select(TripDeparture)
            .join(Event, Event.id == TripDeparture.event_id)
            .join(Organization, Organization.id == Event.organization_id)
            .where(scope_condition(actor, Organization.path))
            .order_by(Event.starts_at.desc())
        ).unique()
    )

"""A route page's departures: coming ones first, soonest first; started or ended ones apart (issue 21, item 6)."""

from __future__ import annotations

from datetime import datetime, timedelta

from app import clock
from app.events.models import Allocation
from app.trips import catalogue

from .factories import make_departure, make_route

NOW = datetime(2026, 6, 15, 10, 0)


def test_coming_departures_first_and_past_ones_apart() -> None:
    clock.set_now(NOW - timedelta(days=40))
    route = make_route()
    gone = make_departure(route, allocation=Allocation.FIRST_COME, starts_on=(NOW - timedelta(days=10)).date())
    clock.set_now(NOW)
    later = make_departure(route, starts_on=(NOW + timedelta(days=40)).date())
    sooner = make_departure(route, starts_on=(NOW + timedelta(days=20)).date())
    card = catalogue.get_route(route.id)
    assert [e.id for e in card.departures] == [sooner.event_id, later.event_id]
    assert [e.id for e in card.past] == [gone.event_id]

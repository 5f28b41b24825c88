"""API datetimes carry their offset, and the OpenAPI document says so (issue 21, item 14)."""

from __future__ import annotations

from datetime import datetime, timedelta

from app import clock
from tests import factories


def test_event_times_carry_the_china_offset(client) -> None:  # type: ignore[no-untyped-def]
    clock.set_now(datetime(2026, 6, 15, 10, 0))
    event = factories.make_event(starts_in=timedelta(days=2))
    body = client.get(f"/api/v1/events/{event.id}").get_json()
    assert body["starts_at"] == "2026-06-17T10:00:00+08:00"
    assert body["slots"][0]["ends_at"] == "2026-06-17T13:00:00+08:00"
    assert datetime.fromisoformat(body["signup_opens_at"]).utcoffset() == timedelta(hours=8)
    schemas = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    assert schemas["DateTime"]["format"] == "date-time"
    assert "+08:00" in schemas["DateTime"]["description"]
    assert schemas["Event"]["properties"]["starts_at"] == {"$ref": "#/components/schemas/DateTime"}

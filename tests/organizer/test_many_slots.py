"""Events with many slots (issue 18, edges 3 and 4): the edit page works for the screening grid's 200 slots and
for the API's maximum, a save keeps every slot, and more than the maximum is refused with the reason — never
silently cut."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from app import clock
from app.events.models import Event, Slot
from app.events.services import MAX_SLOTS
from app.extensions import db

from .. import factories

NOW = datetime(2026, 6, 15, 10, 0)
FMT = "%Y-%m-%dT%H:%M"


@pytest.fixture(autouse=True)
def frozen() -> None:
    clock.set_now(NOW)


def _slot_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Slot)) or 0


def _form_from_page(page: str) -> dict[str, str]:
    """What a browser would post back from the edit page: every input's and select's current value."""
    data: dict[str, str] = {}
    for name, value in re.findall(r'<input[^>]*?name="([^"]+)"[^>]*?value="([^"]*)"', page):
        data.setdefault(name, value)
    for name, body in re.findall(r'<select[^>]*?name="([^"]+)"[^>]*>(.*?)</select>', page, flags=re.S):
        chosen = re.search(r'<option selected value="([^"]*)"|<option value="([^"]*)" selected', body)
        first = re.search(r'<option[^>]*value="([^"]*)"', body)
        data[name] = next(g for g in chosen.groups() if g is not None) if chosen else (first.group(1) if first else "")
    data.pop("remove_slot", None)
    return data


@pytest.mark.parametrize("slots", [200, MAX_SLOTS])
def test_the_edit_page_works_for_an_event_with_many_slots(organizer_client, slots):
    event = factories.make_event(slots=slots, duration=timedelta(minutes=20), starts_in=timedelta(days=30))
    page = organizer_client.get(f"/organizer/events/{event.id}/edit")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert f"slots-{slots - 1}-starts_at" in text
    # No spare row any more (issue 23): a "＋ 添加场次" button adds one, while the event may still have one.
    assert f"slots-{slots}-starts_at" not in text
    assert ("data-add-slot" in text) == (slots < MAX_SLOTS)

    data = _form_from_page(text)
    data["title"] = "改名后的体检活动"
    saved = organizer_client.post(f"/organizer/events/{event.id}/edit", data=data)
    assert saved.status_code == 302, saved.get_data(as_text=True)[:2000]
    db.session.expire_all()
    assert db.session.get(Event, event.id).title == "改名后的体检活动"
    assert _slot_count() == slots


def test_the_form_refuses_more_slots_than_the_maximum(organizer_client):
    event = factories.make_event(slots=MAX_SLOTS, duration=timedelta(minutes=20), starts_in=timedelta(days=30))
    data = _form_from_page(organizer_client.get(f"/organizer/events/{event.id}/edit").get_data(as_text=True))
    start = NOW + timedelta(days=60)
    data.update(
        {
            f"slots-{MAX_SLOTS}-starts_at": start.strftime(FMT),
            f"slots-{MAX_SLOTS}-ends_at": (start + timedelta(hours=1)).strftime(FMT),
            f"slots-{MAX_SLOTS}-capacity": "5",
        }
    )
    response = organizer_client.post(f"/organizer/events/{event.id}/edit", data=data)
    assert response.status_code == 422
    assert f"最多 {MAX_SLOTS} 个场次" in response.get_data(as_text=True)
    assert _slot_count() == MAX_SLOTS


def _api_body(slots: int) -> dict[str, object]:
    start = NOW + timedelta(days=20)
    return {
        "kind": "general",
        "title": "职工体检",
        "city": "南昌",
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(days=3)).isoformat(),
        "signup_opens_at": NOW.isoformat(),
        "signup_closes_at": (start - timedelta(days=1)).isoformat(),
        "slots": [
            {
                "label": f"第{index + 1}场",
                "starts_at": (start + timedelta(minutes=10 * index)).isoformat(),
                "ends_at": (start + timedelta(minutes=10 * index + 10)).isoformat(),
                "capacity": 3,
            }
            for index in range(slots)
        ],
    }


def test_the_api_refuses_more_slots_than_the_maximum_and_says_why(client, organizer):
    headers = {"Authorization": f"Bearer {factories.api_token(organizer)}"}
    response = client.post("/api/v1/events", json=_api_body(MAX_SLOTS + 100), headers=headers)
    assert response.status_code == 422
    assert response.json["fields"]["slots"] == [f"一个活动最多 {MAX_SLOTS} 个场次（收到 {MAX_SLOTS + 100} 个）。"]
    assert db.session.scalar(select(func.count()).select_from(Event)) == 0

    created = client.post("/api/v1/events", json=_api_body(MAX_SLOTS), headers=headers)
    assert created.status_code == 201 and len(created.json["slots"]) == MAX_SLOTS


def test_the_openapi_document_states_the_maximum(client):
    document = client.get("/api/v1/openapi.json").json
    body = document["paths"]["/api/v1/events"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body["properties"]["slots"]["maxItems"] == MAX_SLOTS

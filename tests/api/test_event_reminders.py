"""Reminder offsets per event through the API (issue 23, item 4): set on POST /api/v1/events, changed with the
narrow PATCH /api/v1/events/{id}, under the events service's rule (at most 5 distinct hours, each 1-720; a 422
naming the field), scoped like the console; a change re-plans the reminders not yet sent, so a booked person is
reminded at the new offsets and not at the old ones."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from app import clock
from app.accounts.models import User
from app.audit import AuditEntry
from app.events.models import Event
from app.extensions import db
from app.notifications.delivery import deliver_inbox_now
from app.notifications.models import InboxMessage
from app.outbox.models import OutboxMessage

from .. import factories
from ..organizer.factories import book


def auth(user) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {"Authorization": f"Bearer {factories.api_token(user)}"}


def _body(**overrides: object) -> dict[str, object]:
    start = (clock.now() + timedelta(days=20)).replace(hour=9, minute=0, second=0, microsecond=0)
    body: dict[str, object] = {
        "kind": "general",
        "title": "职工健步走",
        "city": "南昌",
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=3)).isoformat(),
        "signup_opens_at": clock.now().isoformat(),
        "signup_closes_at": (start - timedelta(days=1)).isoformat(),
        "slots": [{"starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=3)).isoformat(), "capacity": 5}],
    }
    body.update(overrides)
    return body


def _events() -> int:
    return db.session.scalar(select(func.count()).select_from(Event)) or 0


def test_post_sets_the_offsets_or_keeps_the_defaults(client, organizer):
    created = client.post("/api/v1/events", json=_body(reminder_hours=[3, 48, 3]), headers=auth(organizer))
    assert created.status_code == 201 and created.json["reminder_hours"] == [48, 3]
    assert db.session.get(Event, created.json["id"]).reminder_hours == [48, 3]  # type: ignore[union-attr]

    plain = client.post("/api/v1/events", json=_body(), headers=auth(organizer))
    assert plain.status_code == 201 and plain.json["reminder_hours"] == [24, 2]
    silent = client.post("/api/v1/events", json=_body(reminder_hours=[]), headers=auth(organizer))
    assert silent.json["reminder_hours"] == []


@pytest.mark.parametrize(
    "value",
    [[0], [721], [1, 2, 3, 4, 5, 6], [24.5], [True], ["24"], "24, 2", {"hours": 24}, [-2], list(range(1, 60))],
)
def test_bad_offsets_are_a_422_naming_the_field_and_nothing_is_stored(client, organizer, value):
    response = client.post("/api/v1/events", json=_body(reminder_hours=value), headers=auth(organizer))
    assert response.status_code == 422
    assert list(response.json["fields"]) == ["reminder_hours"] and response.json["fields"]["reminder_hours"][0]
    assert _events() == 0


def _delivered_reminder_hours(user_id: int) -> list[int]:
    rows = db.session.scalars(
        select(OutboxMessage.data)
        .join(InboxMessage, InboxMessage.outbox_id == OutboxMessage.id)
        .where(InboxMessage.user_id == user_id, InboxMessage.kind == "reminder")
        .order_by(InboxMessage.id)
    )
    return [data["hours"] for data in rows]


def test_patch_replans_a_booked_persons_reminders_at_the_new_offsets_only(client, organizer):
    event = factories.make_event(starts_in=timedelta(days=5))
    person = factories.make_employee()
    book(person, event.slots[0])
    start = event.slots[0].starts_at
    event_id, person_id = event.id, person.id

    response = client.patch(f"/api/v1/events/{event_id}", json={"reminder_hours": [48, 3]}, headers=auth(organizer))
    assert response.status_code == 200 and response.json == {"id": event_id, "reminder_hours": [48, 3]}
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "event.reminders"))
    assert entry is not None and entry.object_id == event_id and entry.actor_id == organizer.id

    # Walk the clock up to the start: the person's inbox receives exactly the reminders at 48 h and 3 h.
    moments: list[datetime] = [start - timedelta(hours=h) + timedelta(minutes=1) for h in (72, 48, 24, 3, 2)]
    for moment in moments:
        clock.set_now(moment)
        deliver_inbox_now(db.session.get(User, person_id))  # type: ignore[arg-type]
        db.session.commit()
    assert _delivered_reminder_hours(person_id) == [48, 3]


def test_patch_after_a_reminder_went_out_keeps_it_and_plans_none_in_the_past(client, organizer):
    event = factories.make_event(starts_in=timedelta(days=5))
    person = factories.make_employee()
    book(person, event.slots[0])
    start = event.slots[0].starts_at
    clock.set_now(start - timedelta(hours=23))
    deliver_inbox_now(person)
    db.session.commit()
    assert _delivered_reminder_hours(person.id) == [24]

    # Now 23 h before: 48 h is already past, 24 h went out, 12 h and 1 h are still to come.
    assert (
        client.patch(
            f"/api/v1/events/{event.id}", json={"reminder_hours": [48, 12, 1]}, headers=auth(organizer)
        ).status_code
        == 200
    )
    for hours in (12, 2, 1):
        clock.set_now(start - timedelta(hours=hours) + timedelta(minutes=1))
        deliver_inbox_now(person)
        db.session.commit()
    assert _delivered_reminder_hours(person.id) == [24, 12, 1]


def test_patch_is_narrow_scoped_and_checked(client, organizer):
    event = factories.make_event()
    url = f"/api/v1/events/{event.id}"
    headers = auth(organizer)

    other_city = factories.make_organizer("jx-jiujiang")
    assert client.patch(url, json={"reminder_hours": [5]}, headers=auth(other_city)).status_code == 404
    assert client.patch(url, json={"reminder_hours": [5]}, headers=auth(factories.make_employee())).status_code == 403
    assert client.patch(url, json={"reminder_hours": [5]}).status_code == 401
    assert client.patch("/api/v1/events/999999", json={"reminder_hours": [5]}, headers=headers).status_code == 404

    refused = client.patch(url, json={"reminder_hours": [5], "title": "改名", "published": True}, headers=headers)
    assert refused.status_code == 422 and sorted(refused.json["fields"]) == ["published", "title"]
    missing = client.patch(url, json={}, headers=headers)
    assert missing.status_code == 422 and list(missing.json["fields"]) == ["reminder_hours"]
    too_many = client.patch(url, json={"reminder_hours": [1, 2, 3, 4, 5, 6]}, headers=headers)
    assert too_many.status_code == 422 and "最多设置 5 个" in too_many.json["fields"]["reminder_hours"][0]
    db.session.expire_all()
    assert db.session.get(Event, event.id).reminder_hours is None  # type: ignore[union-attr]

    # null goes back to the defaults.
    client.patch(url, json={"reminder_hours": [6]}, headers=headers)
    back = client.patch(url, json={"reminder_hours": None}, headers=headers)
    assert back.status_code == 200 and back.json["reminder_hours"] == [24, 2]


def test_a_cancelled_event_refuses_new_offsets(client, organizer):
    event = factories.make_event()
    event.cancelled_at = clock.now()
    db.session.commit()
    response = client.patch(f"/api/v1/events/{event.id}", json={"reminder_hours": [5]}, headers=auth(organizer))
    assert response.status_code == 422 and "已取消" in response.json["message"]


def test_the_openapi_document_describes_the_offsets(client):
    document = client.get("/api/v1/openapi.json").json
    schema = document["components"]["schemas"]["ReminderHours"]
    assert schema["maxItems"] == 5 and schema["items"] == {"type": "integer", "minimum": 1, "maximum": 720}
    post = document["paths"]["/api/v1/events"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert post["properties"]["reminder_hours"] == {"$ref": "#/components/schemas/ReminderHours"}
    patch = document["paths"]["/api/v1/events/{event_id}"]["patch"]
    assert patch["requestBody"]["content"]["application/json"]["schema"]["required"] == ["reminder_hours"]
    assert {"200", "401", "403", "404", "422"} <= set(patch["responses"])

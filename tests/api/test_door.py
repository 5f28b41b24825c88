"""The door through the API (issue 23, item 7): a kiosk reads the roster and checks people in with an organizer's
token — scoped like the console, the same check-in window and audited override, idempotent scan ids."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from app.audit import AuditEntry
from app.booking import services as booking
from app.booking.models import Registration, Status
from app.extensions import db
from app.organizer.models import CheckinScan

from .. import factories


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _status(registration: Registration) -> Status:
    db.session.refresh(registration)
    return registration.status


def _book(event, name: str = "测试职工") -> Registration:  # type: ignore[no-untyped-def]
    registration = booking.book(factories.make_employee(name=name, phone=None), event.slots[0].id)
    db.session.commit()
    return registration


def test_roster_lists_the_people_with_masked_phones_and_the_read_is_audited(client, organizer):
    event = factories.make_event(starts_in=factories.STARTS_SOON, capacity=5)
    guest = _book(event, "王芳")
    token = factories.api_token(organizer)
    response = client.get(f"/api/v1/organizer/events/{event.id}/roster", headers=auth(token))
    assert response.status_code == 200
    body = response.json
    [row] = body["registrations"]
    assert row["registration_id"] == guest.id and row["name"] == "王芳" and row["status"] == "confirmed"
    assert row["checked_in"] is False and "****" in row["phone"] and guest.user.phone not in response.text
    assert body["expected"] == 1 and body["attended"] == 0
    assert body["checkin_opens_at"] == (event.starts_at - timedelta(hours=3)).isoformat() + "+08:00"
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "view.roster"))
    assert entry is not None and entry.actor_id == organizer.id and entry.object_id == event.id
    assert entry.origin == "api" and entry.org_path == event.organization.path
    filtered = client.get(f"/api/v1/organizer/events/{event.id}/roster?status=attended", headers=auth(token))
    assert filtered.json["registrations"] == []


def test_scope_another_orgs_event_is_404_and_an_employees_token_403(client, organizer, employee):
    other = factories.make_event(starts_in=factories.STARTS_SOON, organization=factories.org("jx-ganzhou"))
    stranger = _book(other)
    mine = factories.make_event(starts_in=factories.STARTS_SOON)
    token = factories.api_token(organizer)
    roster = client.get(f"/api/v1/organizer/events/{other.id}/roster", headers=auth(token))
    scan = client.post(
        f"/api/v1/organizer/events/{other.id}/checkins",
        json={"scan_id": "door-scope-1", "code": stranger.ticket_code},
        headers=auth(token),
    )
    assert roster.status_code == 404 and scan.status_code == 404
    # Another event's ticket at my door: not this event's ticket, nothing about the person.
    wrong = client.post(
        f"/api/v1/organizer/events/{mine.id}/checkins",
        json={"scan_id": "door-scope-2", "code": stranger.ticket_code},
        headers=auth(token),
    )
    assert wrong.json["result"] == "wrong_event" and wrong.json["name"] is None
    assert _status(stranger) == Status.CONFIRMED
    worker = factories.api_token(employee)
    assert client.get(f"/api/v1/organizer/events/{mine.id}/roster", headers=auth(worker)).status_code == 403
    refused = client.post(
        f"/api/v1/organizer/events/{mine.id}/checkins", json={"scan_id": "door-scope-3"}, headers=auth(worker)
    )
    assert refused.status_code == 403
    assert client.get(f"/api/v1/organizer/events/{mine.id}/roster").status_code == 401


def test_a_scan_checks_in_once_and_a_replay_counts_nobody_twice(client, organizer):
    event = factories.make_event(starts_in=factories.STARTS_SOON, capacity=5)
    guest = _book(event, "刘洋")
    token = factories.api_token(organizer)
    url = f"/api/v1/organizer/events/{event.id}/checkins"
    first = client.post(url, json={"scan_id": "door-scan-0001", "code": guest.ticket_code}, headers=auth(token))
    assert first.status_code == 200 and first.json["result"] == "welcome" and first.json["name"] == "刘洋"
    again = client.post(url, json={"scan_id": "door-scan-0001", "code": guest.ticket_code}, headers=auth(token))
    assert again.json["result"] == "welcome" and again.json["replay"] is True and again.json["attended"] == 1
    second = client.post(url, json={"scan_id": "door-scan-0002", "registration_id": guest.id}, headers=auth(token))
    assert second.json["result"] == "already"
    assert _status(guest) == Status.ATTENDED
    assert db.session.scalar(select(func.count()).select_from(CheckinScan)) == 2
    [entry] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "checkin"))
    assert entry.actor_id == organizer.id and entry.origin == "api"


def test_the_window_and_the_override_with_a_reason(client, organizer):
    event = factories.make_event(starts_in=timedelta(days=10), capacity=5)
    guest = _book(event)
    token = factories.api_token(organizer)
    url = f"/api/v1/organizer/events/{event.id}/checkins"
    early = client.post(url, json={"scan_id": "door-early-1", "code": guest.ticket_code}, headers=auth(token))
    assert early.json["result"] == "too_early" and early.json["can_override"] is True
    assert "签到尚未开始" in early.json["message"] and _status(guest) == Status.CONFIRMED
    blank = client.post(
        url, json={"scan_id": "door-early-2", "registration_id": guest.id, "override_reason": ""}, headers=auth(token)
    )
    assert blank.status_code == 422 and "override_reason" in blank.json["fields"]
    assert _status(guest) == Status.CONFIRMED
    done = client.post(
        url,
        json={"scan_id": "door-early-3", "registration_id": guest.id, "override_reason": "嘉宾提前到场"},
        headers=auth(token),
    )
    assert done.json["result"] == "welcome" and _status(guest) == Status.ATTENDED
    [entry] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "checkin.override"))
    assert entry.detail is not None and entry.detail["reason"] == "嘉宾提前到场" and entry.origin == "api"


def test_bad_bodies_are_field_errors_never_500(client, organizer):
    event = factories.make_event(starts_in=factories.STARTS_SOON)
    token = factories.api_token(organizer)
    url = f"/api/v1/organizer/events/{event.id}/checkins"
    for body, field in [
        ({}, "scan_id"),
        ({"scan_id": "x"}, "scan_id"),
        ({"scan_id": "door-bad-0001"}, "code"),
        ({"scan_id": "door-bad-0002", "registration_id": "7"}, "registration_id"),
        ({"scan_id": "door-bad-0003", "code": 12}, "code"),
        ({"scan_id": "door-bad-0004", "code": "a", "scanned_at": "yesterday"}, "scanned_at"),
        ({"scan_id": "door-bad-0005", "code": "a", "override_reason": "\x00"}, "override_reason"),
    ]:
        response = client.post(url, json=body, headers=auth(token))
        assert response.status_code == 422 and field in response.json["fields"], (body, response.json)
    assert client.post(url, data="not json", headers=auth(token)).status_code == 422
    assert db.session.scalar(select(func.count()).select_from(CheckinScan)) == 0


def test_the_door_is_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    assert "get" in paths["/api/v1/organizer/events/{event_id}/roster"]
    checkins = paths["/api/v1/organizer/events/{event_id}/checkins"]["post"]
    assert {"200", "401", "403", "404", "422"} <= set(checkins["responses"])

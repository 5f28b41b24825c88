"""Check-in on the day (issue 23, item 3): a scan is accepted only in the event's window (from
CHECKIN_OPENS_HOURS_BEFORE hours before the start to the end); outside it the scanner says so plainly and the
person stays unchecked, unless an organizer overrides with a reason, which is audited."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from app import clock
from app.audit import AuditEntry
from app.booking.models import Registration, Status
from app.extensions import db
from app.organizer.models import CheckinScan
from tests import factories

from .factories import book
from .test_photo_checkin import qr_photo


def _scan(client, event_id: int, scan_id: str, **payload: object):  # type: ignore[no-untyped-def]
    response = client.post(f"/organizer/events/{event_id}/checkin/scan", json={"scan_id": scan_id, **payload})
    return response.status_code, response.get_json()


def _status(registration: Registration) -> Status:
    db.session.refresh(registration)
    return registration.status


def _audited(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_ten_days_early_is_refused_with_the_opening_time(organizer_client):
    event = factories.make_event(starts_in=timedelta(days=10), capacity=5)
    guest = book(factories.make_employee(name="刘洋"), event.slots[0])
    status, body = _scan(organizer_client, event.id, "early-scan-1", code=guest.ticket_code)
    opens = event.starts_at - timedelta(hours=3)
    assert status == 200 and body["result"] == "too_early" and body["can_override"] is True
    assert body["message"] == f"签到尚未开始，{opens:%m-%d %H:%M} 起可签到。"
    assert body["attended"] == 0 and _status(guest) == Status.CONFIRMED
    assert _audited("checkin") == [] and _audited("checkin.override") == []
    page = organizer_client.get(f"/organizer/events/{event.id}/checkin").get_data(as_text=True)
    assert f"签到时间：{opens:%m-%d %H:%M} 至 {event.ends_at:%m-%d %H:%M}" in page


@pytest.mark.parametrize(
    ("offset", "result"),
    [
        (timedelta(hours=-3, minutes=-1), "too_early"),
        (timedelta(hours=-3), "welcome"),
        (timedelta(hours=3), "welcome"),  # the event lasts three hours: its very end
        (timedelta(hours=3, minutes=1), "ended"),
    ],
)
def test_the_window_runs_from_three_hours_before_to_the_end(login_client, organizer, offset, result):
    event = factories.make_event(starts_in=timedelta(days=2), capacity=5)
    guest = book(factories.make_employee(), event.slots[0])
    clock.set_now(event.starts_at + offset)
    _code, body = _scan(login_client(organizer), event.id, "edge-scan-1", code=guest.ticket_code)
    assert body["result"] == result
    assert _status(guest) == (Status.ATTENDED if result == "welcome" else Status.CONFIRMED)
    if result == "ended":
        assert body["message"] == "活动已结束，不能签到。"


@pytest.fixture
def opens_one_hour_before(app: Flask) -> Iterator[None]:
    app.config["CHECKIN_OPENS_HOURS_BEFORE"] = 1
    yield
    app.config["CHECKIN_OPENS_HOURS_BEFORE"] = 3


def test_the_lead_time_is_a_setting(organizer_client, opens_one_hour_before):
    event = factories.make_event(starts_in=timedelta(hours=2), capacity=5)  # opens in one hour
    guest = book(factories.make_employee(), event.slots[0])
    assert _scan(organizer_client, event.id, "lead-scan-1", code=guest.ticket_code)[1]["result"] == "too_early"
    clock.set_now(event.starts_at - timedelta(hours=1))
    assert _scan(organizer_client, event.id, "lead-scan-2", code=guest.ticket_code)[1]["result"] == "welcome"


def test_an_override_with_a_reason_checks_in_and_is_audited(organizer_client, organizer):
    event = factories.make_event(starts_in=timedelta(days=10), capacity=5)
    guest = book(factories.make_employee(name="欧阳娜娜"), event.slots[0])
    _scan(organizer_client, event.id, "early-scan-2", code=guest.ticket_code)
    status, body = _scan(
        organizer_client, event.id, "override-scan-1", registration_id=guest.id, override_reason="提前领取物资"
    )
    assert status == 200 and body["result"] == "welcome" and body["attended"] == 1
    assert _status(guest) == Status.ATTENDED
    [entry] = _audited("checkin.override")
    assert entry.actor_id == organizer.id and entry.ip_address == "127.0.0.1" and entry.object_id == guest.id
    assert entry.detail is not None and entry.detail["reason"] == "提前领取物资"
    assert entry.detail["outside"] == "too_early" and entry.org_path == event.organization.path
    assert _audited("checkin") == []


def test_an_override_without_a_reason_is_refused_and_stores_nothing(organizer_client):
    event = factories.make_event(starts_in=timedelta(days=10), capacity=5)
    guest = book(factories.make_employee(), event.slots[0])
    for reason in ("", "   ", "\x07"):
        status, body = _scan(
            organizer_client, event.id, "override-blank1", registration_id=guest.id, override_reason=reason
        )
        assert status == 422 and "override_reason" in body["fields"]
    assert _status(guest) == Status.CONFIRMED
    assert db.session.scalar(select(func.count()).select_from(CheckinScan)) == 0
    assert _audited("checkin.override") == []


def test_an_override_inside_the_window_is_an_ordinary_check_in(organizer_client):
    event = factories.make_event(starts_in=factories.STARTS_SOON, capacity=5)
    guest = book(factories.make_employee(), event.slots[0])
    _code, body = _scan(organizer_client, event.id, "inside-scan-1", code=guest.ticket_code, override_reason="无需")
    assert body["result"] == "welcome"
    assert len(_audited("checkin")) == 1 and _audited("checkin.override") == []


def test_an_offline_scan_made_in_the_window_counts_when_synced_after_the_end(login_client, organizer):
    event = factories.make_event(starts_in=factories.STARTS_SOON, capacity=5)
    guest = book(factories.make_employee(), event.slots[0])
    late = book(factories.make_employee(), event.slots[0])
    at_the_door = event.starts_at + timedelta(minutes=10)
    clock.set_now(event.ends_at + timedelta(hours=2))  # the phone came back online after the event
    organizer_client = login_client(organizer)
    queued = {"code": guest.ticket_code, "scanned_at": at_the_door.isoformat()}
    assert _scan(organizer_client, event.id, "offline-sync-1", **queued)[1]["result"] == "welcome"
    assert _scan(organizer_client, event.id, "offline-sync-2", code=late.ticket_code)[1]["result"] == "ended"
    assert _status(guest) == Status.ATTENDED and _status(late) == Status.CONFIRMED


def test_already_cancelled_and_other_answers_are_unchanged_outside_the_window(organizer_client):
    event = factories.make_event(starts_in=timedelta(days=10), capacity=5)
    assert _scan(organizer_client, event.id, "early-nf-1", code="no-such-ticket")[1]["result"] == "not_found"


def test_without_javascript_the_form_refuses_then_overrides(organizer_client):
    event = factories.make_event(starts_in=timedelta(days=10), capacity=5)
    guest = book(factories.make_employee(name="孙丽"), event.slots[0])
    page = organizer_client.post(
        f"/organizer/events/{event.id}/checkin/scan", data={"code": guest.ticket_code, "scan_id": "form-early-1"}
    ).get_data(as_text=True)
    assert "签到尚未开始" in page and 'id="override-form"' in page and f'value="{guest.id}"' in page
    url = f"/organizer/events/{event.id}/checkin/override"
    refused = organizer_client.post(url, data={"registration_id": guest.id, "override_reason": ""})
    assert refused.status_code == 422 and "请填写原因" in refused.get_data(as_text=True)
    assert _status(guest) == Status.CONFIRMED
    done = organizer_client.post(url, data={"registration_id": guest.id, "override_reason": "志愿者提前到岗"})
    assert done.status_code == 200 and "签到成功" in done.get_data(as_text=True)
    assert _status(guest) == Status.ATTENDED and len(_audited("checkin.override")) == 1


def test_the_override_form_is_scoped(organizer_client):
    event = factories.make_event(starts_in=timedelta(days=10), capacity=5)
    other = factories.make_event(starts_in=timedelta(days=10), organization=factories.org("jx-ganzhou"))
    stranger = book(factories.make_employee(), other.slots[0])
    url = f"/organizer/events/{other.id}/checkin/override"
    assert organizer_client.post(url, data={"registration_id": stranger.id, "override_reason": "x"}).status_code == 404
    mine = f"/organizer/events/{event.id}/checkin/override"
    organizer_client.post(mine, data={"registration_id": stranger.id, "override_reason": "x"})
    assert _status(stranger) == Status.CONFIRMED


def test_a_photo_scan_ten_days_early_is_refused(organizer_client):
    event = factories.make_event(starts_in=timedelta(days=10))
    guest = book(factories.make_employee(), event.slots[0])
    response = organizer_client.post(
        f"/organizer/events/{event.id}/checkin/photo",
        data={"photo": (io.BytesIO(qr_photo(guest.ticket_code)), "ticket.jpg")},
    )
    assert "签到尚未开始" in response.get_data(as_text=True) and _status(guest) == Status.CONFIRMED
